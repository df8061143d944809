import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import type { Store } from '../../kit/store/store.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { ehrDataFor } from './cast-data.ts';
import { DE_GROOT_HOLDERS } from './de-groot.ts';
import { ehrSimulatorPlugin } from './plugin.ts';
import { openEhrStore, seedEhr } from './store.ts';

// The simulator's standard system history (what the node's connector polls): whatever the
// resource-adding API writes appears, oldest first, deletes as DELETE entries, paged by next links.

const LEIDEN = DE_GROOT_HOLDERS.leiden;

describe('EHR simulator _history', () => {
  let app: FastifyInstance;
  let store: Store;
  let base: string;
  before(async () => {
    store = await openEhrStore(`${LEIDEN}_h${process.pid}`);
    await store.exec('DELETE FROM ehr_resources; DELETE FROM ehr_tokens; DELETE FROM ehr_changes');
    await seedEhr(store, LEIDEN, ehrDataFor(LEIDEN));
    app = Fastify();
    await app.register(ehrSimulatorPlugin, { prefix: '/ehr', stores: new Map([[LEIDEN, store]]) });
    base = `${await app.listen({ port: 0, host: '127.0.0.1' })}/ehr/${LEIDEN}/fhir`;
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  const get = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as Bundle };
  };

  it('declares history-system and pages the whole history by next links', async () => {
    const meta = (await (await fetch(`${base}/metadata`)).json()) as { rest: Array<{ interaction?: Array<{ code: string }> }> };
    assert.ok(meta.rest[0].interaction?.some((i) => i.code === 'history-system'));
    const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM ehr_changes');
    let url: string | undefined = `${base}/_history?_count=7`;
    let seen = 0;
    while (url) {
      const page = await get(url);
      assert.equal(page.status, 200);
      assert.equal(page.body.type, 'history');
      seen += page.body.entry?.length ?? 0;
      url = page.body.link?.find((l) => l.relation === 'next')?.url;
    }
    assert.equal(seen, Number(n));
  });

  it('shows a create and a delete made through the simulator\'s API since a moment', async () => {
    const since = new Date().toISOString();
    const found = await get(`${base}/Patient?identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT.bsn}`)}`);
    const pid = (found.body.entry?.[0]?.resource as Patient | undefined)?.id;
    assert.ok(pid, 'De Groot is in the simulated EHR');
    const created = await fetch(`${base}/Flag`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: 'Flag', status: 'active', code: { text: 'Valrisico' }, subject: { reference: `Patient/${pid}` } }),
    });
    const id = ((await created.json()) as { id: string }).id;
    const afterCreate = await get(`${base}/_history?_since=${encodeURIComponent(since)}`);
    const mine = afterCreate.body.entry?.filter((e) => e.fullUrl?.endsWith(`/Flag/${id}`)) ?? [];
    assert.deepEqual(mine.map((e) => [e.request?.method, e.resource?.id]), [['POST', id]]);
    await fetch(`${base}/Flag/${id}`, { method: 'DELETE' });
    const afterDelete = await get(`${base}/_history?_since=${encodeURIComponent(since)}`);
    const both = afterDelete.body.entry?.filter((e) => e.fullUrl?.endsWith(`/Flag/${id}`)) ?? [];
    assert.deepEqual(both.map((e) => e.request?.method), ['POST', 'DELETE']);
    assert.equal(both[0].resource, undefined, 'a deleted resource\'s earlier entry no longer carries it (the connector then reads: gone)');
    assert.equal((await get(`${base}/_history?_since=not-a-date`)).status, 400);
  });
});
