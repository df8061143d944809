import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Condition, OperationOutcome, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import type { Store } from '../../kit/store/store.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { ehrDataFor } from './cast-data.ts';
import { DE_GROOT_HOLDERS } from './de-groot.ts';
import { EhrFaultRegistry, parseFaults } from './faults.ts';
import { ehrSimulatorPlugin } from './plugin.ts';
import { patientIdOf } from './resource-facts.ts';
import { openEhrStore, seedEhr } from './store.ts';

// Over real HTTP on PGlite (one shared in-memory instance, one schema per organisation);
// the store's SQL is also exercised on PostgreSQL in store.test.ts.

const GP = DE_GROOT_HOLDERS.gp;
const LEIDEN = DE_GROOT_HOLDERS.leiden;
let app: FastifyInstance;
let origin: string;
const faults = new EhrFaultRegistry();
const stores = new Map<string, Store>();

const base = (ura: string) => `${origin}/ehr/${ura}/fhir`;
const bsnQuery = `identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT.bsn}`)}`;
async function getJson<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as T) : (undefined as T), text };
}

before(async () => {
  const suffix = `t${process.pid}`;
  for (const ura of [GP, LEIDEN]) {
    const store = await openEhrStore(`${ura}_${suffix}`);
    await store.exec('DELETE FROM ehr_resources; DELETE FROM ehr_tokens; DELETE FROM ehr_changes');
    await seedEhr(store, ura, ehrDataFor(ura));
    stores.set(ura, store);
  }
  app = Fastify();
  await app.register(ehrSimulatorPlugin, { prefix: '/ehr', stores, faults });
  origin = await app.listen({ port: 0, host: '127.0.0.1' });
});

after(async () => {
  await app.close();
  for (const s of stores.values()) await s.close();
});

describe('EHR simulator over HTTP', () => {
  it('finds a patient by BSN, searches by patient with paging, and reads', async () => {
    const { body: found } = await getJson<Bundle<Patient>>(`${base(GP)}/Patient?${bsnQuery}`);
    assert.equal(found.total, 1);
    const pid = found.entry?.[0].resource?.id as string;
    const { body: page1 } = await getJson<Bundle>(`${base(GP)}/Observation?patient=Patient/${pid}&_count=3`);
    assert.equal(page1.entry?.length, 3);
    const next = page1.link?.find((l) => l.relation === 'next')?.url as string;
    assert.ok(next.startsWith(`${base(GP)}/Observation?`));
    const { body: page2 } = await getJson<Bundle>(next);
    assert.ok(page2.entry?.length);
    assert.notEqual(page2.entry?.[0].resource?.id, page1.entry?.[0].resource?.id);
    const { body: conditions } = await getJson<Bundle<Condition>>(`${base(GP)}/Condition?patient.identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT.bsn}`)}&category=problem-list-item`);
    assert.ok((conditions.total ?? 0) >= 3);
    const first = conditions.entry?.[0].resource as Condition;
    const read = await getJson<Condition>(`${base(GP)}/Condition/${first.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body, first);
    const { body: cap } = await getJson<{ resourceType: string }>(`${base(GP)}/metadata`);
    assert.equal(cap.resourceType, 'CapabilityStatement');
  });

  it('answers bad requests with an OperationOutcome', async () => {
    for (const [url, status] of [
      [`${base(GP)}/Condition?nonsense=1`, 400],
      [`${base(GP)}/Basic`, 400],
      [`${base(GP)}/Condition/does-not-exist`, 404],
      [`${origin}/ehr/12345678/fhir/Condition`, 404],
      [`${base(GP)}/Observation?_lastUpdated=yesterday`, 400],
    ] as const) {
      const r = await getJson<OperationOutcome>(url);
      assert.equal(r.status, status, url);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
  });

  it('create, update and delete show up in the change feed', async () => {
    const { body: start } = await getJson<{ next: number }>(`${base(LEIDEN)}/changes?since=0&_count=1000000`);
    const { body: found } = await getJson<Bundle<Patient>>(`${base(LEIDEN)}/Patient?${bsnQuery}`);
    const pid = found.entry?.[0].resource?.id as string;
    const flag = { resourceType: 'Flag', status: 'active', code: { text: 'Contrastallergie: premedicatie' }, subject: { reference: `Patient/${pid}` } };
    const created = await fetch(`${base(LEIDEN)}/Flag`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(flag) });
    assert.equal(created.status, 201);
    const body = (await created.json()) as { id: string; identifier: Array<{ assigner?: { identifier?: { value?: string } } }> };
    assert.equal(body.identifier[0].assigner?.identifier?.value, LEIDEN);
    const del = await fetch(`${base(LEIDEN)}/Flag/${body.id}`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await fetch(`${base(LEIDEN)}/Flag/${body.id}`)).status, 410);
    const { body: feed } = await getJson<{ changes: Array<{ action: string; id: string; patient: string }>; next: number }>(`${base(LEIDEN)}/changes?since=${start.next}`);
    assert.deepEqual(feed.changes.map((c) => [c.action, c.id, c.patient]), [['create', body.id, `Patient/${pid}`], ['delete', body.id, `Patient/${pid}`]]);
  });
});

describe('EHR simulator faults', () => {
  it('validates fault settings from the admin route', async () => {
    const bad = await fetch(`${origin}/ehr/${GP}/admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"latencyMs":-1}' });
    assert.equal(bad.status, 400);
    assert.throws(() => parseFaults({ hang: 'yes' }));
    assert.throws(() => parseFaults({ teleport: true }));
    assert.deepEqual(parseFaults({ latencyMs: 50, wrongPatient: true }), { latencyMs: 50, wrongPatient: true });
    const ok = await fetch(`${origin}/ehr/${GP}/admin/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"latencyMs":20}' });
    assert.equal(ok.status, 200);
    assert.deepEqual(await (await fetch(`${origin}/ehr/${GP}/admin/faults`)).json(), { latencyMs: 20 });
    assert.equal((await fetch(`${base(GP)}/Patient?${bsnQuery}`)).status, 200);
    assert.equal((await fetch(`${origin}/ehr/${GP}/admin/faults`, { method: 'DELETE' })).status, 204);
    assert.deepEqual(faults.get(GP), {});
  });

  it('fails with the configured status, every time or at an even rate', async () => {
    faults.set(GP, { errorStatus: 500 });
    const r = await getJson<OperationOutcome>(`${base(GP)}/Patient?${bsnQuery}`);
    assert.equal(r.status, 500);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    faults.set(GP, { errorRate: 0.5, errorStatus: 503 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${base(GP)}/Patient?${bsnQuery}`)).status);
    assert.deepEqual(statuses.sort(), [200, 200, 503, 503]);
    faults.clear(GP);
  });

  it('hangs until the client gives up, and is released when the server closes', async () => {
    faults.set(LEIDEN, { hang: true });
    await assert.rejects(fetch(`${base(LEIDEN)}/Patient?${bsnQuery}`, { signal: AbortSignal.timeout(150) }), /abort|timeout/i);
    // A second server with a request still hanging closes cleanly (the hang is released).
    const other = Fastify();
    await other.register(ehrSimulatorPlugin, { prefix: '/ehr', stores, faults });
    const otherOrigin = await other.listen({ port: 0, host: '127.0.0.1' });
    const pending = fetch(`${otherOrigin}/ehr/${LEIDEN}/fhir/Patient?${bsnQuery}`).then((r) => r.status, () => 'closed');
    await new Promise((r) => setTimeout(r, 50));
    await other.close();
    assert.ok([503, 'closed'].includes(await pending));
    faults.clear(LEIDEN);
  });

  it('sends malformed JSON and huge responses when told to', async () => {
    faults.set(GP, { malformedJson: true });
    const broken = await fetch(`${base(GP)}/Patient?${bsnQuery}`);
    assert.equal(broken.status, 200);
    const text = await broken.text();
    assert.throws(() => JSON.parse(text));
    faults.set(GP, { hugeResponseBytes: 2_000_000 });
    const huge = await fetch(`${base(GP)}/Condition?${bsnQuery.replace('identifier', 'patient.identifier')}`);
    const hugeText = await huge.text();
    assert.ok(hugeText.length >= 2_000_000);
    assert.equal((JSON.parse(hugeText) as Bundle).resourceType, 'Bundle');
    faults.set(GP, { hugeResponseBytes: 1_000_000 });
    const hugeEmpty = await fetch(`${base(GP)}/Condition?patient=nobody`);
    assert.ok((await hugeEmpty.text()).length >= 1_000_000);
    faults.clear(GP);
  });

  it('answers with another patient when told to', async () => {
    const { body: real } = await getJson<Bundle<Patient>>(`${base(GP)}/Patient?${bsnQuery}`);
    const pid = real.entry?.[0].resource?.id as string;
    const { body: cond } = await getJson<Bundle<Condition>>(`${base(GP)}/Condition?patient=${pid}&_count=1`);
    faults.set(GP, { wrongPatient: true });
    const { body: wrong } = await getJson<Bundle<Patient>>(`${base(GP)}/Patient?${bsnQuery}`);
    const wrongBsn = wrong.entry?.[0].resource?.identifier?.find((i) => i.system === SYSTEM.bsn)?.value;
    assert.ok(wrongBsn && wrongBsn !== DE_GROOT.bsn);
    const { body: meds } = await getJson<Bundle>(`${base(GP)}/MedicationRequest?patient=${pid}`);
    assert.ok(meds.entry?.length);
    for (const e of meds.entry ?? []) assert.notEqual(patientIdOf(e.resource as never), pid);
    const direct = await getJson<Condition>(`${base(GP)}/Condition/${cond.entry?.[0].resource?.id}`);
    assert.notEqual(patientIdOf(direct.body), pid);
    faults.clear(GP);
    const { body: back } = await getJson<Bundle>(`${base(GP)}/MedicationRequest?patient=${pid}`);
    for (const e of back.entry ?? []) assert.equal(patientIdOf(e.resource as never), pid);
  });
});
