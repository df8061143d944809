import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Endpoint, HealthcareService, Organization, OrganizationAffiliation, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import type { Store } from '../../kit/store/store.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openPgliteStore } from '../../kit/store/pglite.ts';
import { backends } from '../../kit/testing/backends.ts';
import { createEntry, readEntry, updateEntry } from '../feed.ts';
import { DIRECTORY_MIGRATIONS } from '../migrations.ts';
import { custodian, endpoint, fixture, organization, uuid } from '../test-support.ts';
import { applyResources } from './apply.ts';
import { localFetcher, withDeadline } from './fetchers.ts';
import { REPLICA_MIGRATIONS } from './migrations.ts';
import { findEndpoints, searchReplica } from './search.ts';
import { type Fetcher, UpdateClient } from './update-client.ts';

const BASE = 'https://directory.test/fhir';
const GP = { ura: '11111111' };
const HOSPITAL = { ura: '22222222' };

async function seed(dir: Store): Promise<void> {
  for (const [name, caller] of [
    ['directory-organization-gp', GP],
    ['directory-organization-hospital', HOSPITAL],
    ['directory-endpoint-gp-fhir-r4', GP],
    ['directory-endpoint-gp-superseded', GP],
    ['directory-endpoint-hospital-dicom', HOSPITAL],
    ['directory-affiliation-gp-vendor', GP],
  ] as const) {
    const r = fixture<Resource>(name);
    await updateEntry(dir, caller, r.resourceType as 'Organization', r.id as string, r, undefined);
  }
  const hs: HealthcareService = {
    resourceType: 'HealthcareService',
    id: 'hs-gp',
    identifier: [custodian('11111111', uuid())],
    providedBy: { reference: 'Organization/8e18530e-2ce1-5dc2-b34b-7d5de91a5c07' },
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/service-type', code: '124' }] }],
    location: [{ reference: 'Location/loc-1' }],
    name: 'Huisartsenzorg',
  };
  await updateEntry(dir, GP, 'HealthcareService', 'hs-gp', hs, undefined);
  for (let i = 0; i < 12; i++) {
    const ura = `300000${String(i).padStart(2, '0')}`;
    await createEntry(dir, { ura }, 'Organization', organization(ura, `Apotheek ${i}`));
  }
}

/** Everything in the directory, as `type/id@version`, to compare with the replica. */
async function directoryContent(dir: Store): Promise<string[]> {
  const rows = await dir.query<{ k: string }>("SELECT type || '/' || id || '@' || version_id AS k FROM resources ORDER BY 1");
  return rows.map((r) => r.k);
}
async function replicaContent(rep: Store): Promise<string[]> {
  const rows = await rep.query<{ k: string }>("SELECT type || '/' || id || '@' || version_num AS k FROM dir_entries ORDER BY 1");
  return rows.map((r) => r.k);
}

for (const backend of await backends()) {
  describe(`directory update client and replica on ${backend.name}`, () => {
    let dir: Store;
    let rep: Store;
    before(async () => {
      if (backend.name === 'pglite') {
        // One embedded instance with two schemas, as in the sandbox (and half the start-up cost).
        dir = await openPgliteStore('directory');
        rep = await openPgliteStore('node');
        await migrate(dir, DIRECTORY_MIGRATIONS);
        await migrate(rep, REPLICA_MIGRATIONS);
      } else {
        dir = await backend.open('directory', DIRECTORY_MIGRATIONS);
        rep = await backend.open('node', REPLICA_MIGRATIONS);
      }
      await seed(dir);
    });
    after(async () => {
      await rep.close();
      await dir.close();
    });

    it('loads the whole directory in load order, then catches up and is ready', async () => {
      const urls: string[] = [];
      const local = localFetcher(dir, BASE);
      const client = new UpdateClient({ store: rep, directoryUrl: BASE, pageSize: 5, fetch: (u) => {
          urls.push(u);
          return local(u);
        },
      });
      const report = await client.syncNow();
      assert.equal(report.kind, 'initial');
      assert.deepEqual(await replicaContent(rep), await directoryContent(dir));
      const firstOfType = (t: string) => urls.findIndex((u) => new URL(u).pathname.endsWith(`/${t}`));
      assert.ok(firstOfType('Organization') < firstOfType('Location'));
      assert.ok(firstOfType('HealthcareService') < firstOfType('Endpoint'));
      assert.ok(firstOfType('Endpoint') < firstOfType('OrganizationAffiliation'));
      assert.ok(urls.some((u) => u.includes('/_history?_since=')), 'catch-up after the initial load');
      const st = await client.status();
      assert.equal(st.ready, true);
      assert.ok(st.watermark);
    });

    it('finds the right endpoint: active, period now, payload type, FHIR version', async () => {
      const gp = await findEndpoints(rep, { ura: '11111111', payloadType: 'AdvanceDirective', fhirVersion: '4.0' });
      assert.deepEqual(gp.map((e) => e.id), ['d6a4678b-755e-5ae3-bd36-67db6ae3d8c4']);
      const anyVersion = await findEndpoints(rep, { ura: '11111111', payloadType: 'AdvanceDirective' });
      assert.equal(anyVersion.length, 1, 'the superseded endpoint (status off) is not offered');
      assert.deepEqual((await findEndpoints(rep, { ura: '22222222', payloadType: 'Imaging' })).map((e) => e.address), ['https://cp2-test.example.org/dicom-wado-rs']);
      assert.equal((await findEndpoints(rep, { ura: '22222222', payloadType: 'Imaging', fhirVersion: '4.0' })).length, 0);
      assert.equal((await findEndpoints(rep, { ura: '11111111', payloadType: 'Imaging' })).length, 0);
      assert.equal((await findEndpoints(rep, { ura: '99999999' })).length, 0);
      // Before its period started, the new endpoint was not there yet.
      assert.equal((await findEndpoints(rep, { ura: '11111111', payloadType: 'AdvanceDirective', at: new Date('2023-06-01') })).length, 0);
    });

    it('answers the query-directory searches and refuses unknown parameters', async () => {
      const ids = (b: Bundle, mode = 'match') => (b.entry ?? []).filter((e) => e.search?.mode === mode).map((e) => e.resource?.id);
      assert.deepEqual(ids(await searchReplica(rep, 'Organization', { name: 'example g' })), ['8e18530e-2ce1-5dc2-b34b-7d5de91a5c07']);
      assert.equal(ids(await searchReplica(rep, 'Organization', { 'name:contains': 'HOSP' })).length, 1);
      assert.equal(ids(await searchReplica(rep, 'Organization', { type: 'https://www.cbs.nl/standaard-bedrijfsindeling|8610' })).length, 1);
      assert.equal(ids(await searchReplica(rep, 'Organization', { identifier: `${SYSTEM.ura}|22222222` })).length, 1);
      const withEndpoints = await searchReplica(rep, 'Organization', { identifier: '11111111', _include: 'Organization:endpoint' });
      assert.equal(ids(withEndpoints, 'include').length, 2);
      const gpRef = 'Organization/8e18530e-2ce1-5dc2-b34b-7d5de91a5c07';
      assert.deepEqual(ids(await searchReplica(rep, 'HealthcareService', { organization: gpRef })), ['hs-gp']);
      assert.deepEqual(ids(await searchReplica(rep, 'HealthcareService', { 'service-type': '124', location: 'loc-1' })), ['hs-gp']);
      assert.equal(ids(await searchReplica(rep, 'Endpoint', { status: 'off' })).length, 1);
      assert.equal(ids(await searchReplica(rep, 'Organization', { name: 'apotheek', _count: '5' })).length, 5);
      await assert.rejects(searchReplica(rep, 'Organization', { city: 'Ulft' }), /unsupported search parameter/);
      await assert.rejects(searchReplica(rep, 'Patient', {}), /no Patient/);
    });

    it('applies incremental changes from _history and advances the watermark', async () => {
      const client = new UpdateClient({ store: rep, directoryUrl: BASE, pageSize: 3, fetch: localFetcher(dir, BASE) });
      const before = (await client.status()).watermark as string;
      const e = (await readEntry(dir, 'Endpoint', 'd6a4678b-755e-5ae3-bd36-67db6ae3d8c4')) as Endpoint;
      await updateEntry(dir, GP, 'Endpoint', e.id as string, { ...e, address: 'https://cp1-new.example.org/fhir' }, `W/"${e.meta?.versionId}"`);
      await createEntry(dir, { ura: '40000001' }, 'Organization', organization('40000001', 'Nieuwe Praktijk'));
      const report = await client.syncNow();
      assert.equal(report.kind, 'incremental');
      assert.ok(report.changed >= 2);
      assert.ok((report.watermark as string) > before);
      assert.deepEqual(await replicaContent(rep), await directoryContent(dir));
      assert.equal((await findEndpoints(rep, { ura: '11111111', payloadType: 'AdvanceDirective' }))[0].address, 'https://cp1-new.example.org/fhir');
      // Nothing new: a second cycle changes nothing (inclusive _since re-reads are harmless).
      assert.equal((await client.syncNow()).changed, 0);
    });

    it('keeps serving while the directory is down or slow, backs off, and catches up losing nothing', async () => {
      let mode: 'down' | 'slow' | 'up' | 'fail-third' = 'down';
      let calls = 0;
      const local = localFetcher(dir, BASE);
      const flaky: Fetcher = async (url) => {
        calls += 1;
        if (mode === 'down') throw new Error('connect ECONNREFUSED');
        // Slow is well past the deadline, and the deadline well past a real page read on a busy machine.
        if (mode === 'slow') await new Promise((r) => setTimeout(r, 2000));
        if (mode === 'fail-third' && calls === 3) throw new Error('503 from directory');
        return local(url);
      };
      const client = new UpdateClient({ store: rep, directoryUrl: BASE, pageSize: 2, fetch: withDeadline(flaky, 500), backoffInitialMs: 1000, random: () => 0.5 });
      const watermark = (await client.status()).watermark;
      await createEntry(dir, { ura: '40000002' }, 'Organization', organization('40000002', 'Tijdens Storing'));

      await assert.rejects(client.syncNow(), /ECONNREFUSED/);
      mode = 'slow';
      await assert.rejects(client.syncNow(), /did not answer/);
      calls = 0;
      mode = 'fail-third';
      await assert.rejects(client.syncNow(), /503/);
      const st = await client.status();
      assert.equal(st.consecutiveFailures, 3);
      assert.equal(st.watermark, watermark, 'the watermark stays at the last good point');
      assert.deepEqual([client.backoffDelay(1), client.backoffDelay(2), client.backoffDelay(3)], [750, 1500, 3000]);
      // Meanwhile the replica still answers.
      assert.equal((await findEndpoints(rep, { ura: '11111111', payloadType: 'AdvanceDirective' })).length, 1);

      mode = 'up';
      await client.syncNow();
      assert.equal((await client.status()).consecutiveFailures, 0);
      assert.deepEqual(await replicaContent(rep), await directoryContent(dir));
    });

    it('runs on its own: backoff after failures, interval with jitter after success', async () => {
      let failuresLeft = 2;
      const local = localFetcher(dir, BASE);
      const delays: number[] = [];
      const client: UpdateClient = new UpdateClient({
        store: rep,
        directoryUrl: BASE,
        fetch: async (u) => {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('down');
          }
          return local(u);
        },
        intervalMs: 60_000,
        jitterMs: 10_000,
        backoffInitialMs: 1000,
        random: () => 0.5,
        wait: async (ms) => {
          delays.push(ms);
          if (delays.length >= 3) void client.stop();
        },
      });
      client.start();
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (delays.length >= 3) {
            clearInterval(t);
            resolve();
          }
        }, 5);
      });
      await client.stop();
      assert.deepEqual(delays, [750, 1500, 65_000]);
    });

    it('is idempotent and never lets older versions overwrite newer ones (duplicates, out of order)', async () => {
      const org = (v: number, t: string, name: string): Organization => ({
        ...organization('50000001', name),
        id: 'org-ooo',
        meta: { versionId: String(v), lastUpdated: t },
      });
      const v1 = org(1, '2025-01-01T00:00:00.000Z', 'one');
      const v2 = org(2, '2025-01-02T00:00:00.000Z', 'two');
      const v3 = org(3, '2025-01-03T00:00:00.000Z', 'three');
      const pages: Bundle[] = [
        { resourceType: 'Bundle', type: 'history', meta: { lastUpdated: '2025-01-04T00:00:00.000Z' }, link: [{ relation: 'next', url: `${BASE}/p2` }], entry: [{ resource: v3 }, { resource: v2 }, { resource: v3 }] },
        { resourceType: 'Bundle', type: 'history', entry: [{ resource: v1 }, { resource: { ...v2, name: 'two (dup)' } as Organization }] },
      ];
      const changedFirst = (await applyResources(rep, pages[0].entry?.map((e) => e.resource) ?? [])) + (await applyResources(rep, pages[1].entry?.map((e) => e.resource) ?? []));
      assert.equal(changedFirst, 1);
      const again = (await applyResources(rep, pages[0].entry?.map((e) => e.resource) ?? [])) + (await applyResources(rep, pages[1].entry?.map((e) => e.resource) ?? []));
      assert.equal(again, 0);
      const [row] = await rep.query<{ resource: Organization }>("SELECT resource FROM dir_entries WHERE type = 'Organization' AND id = 'org-ooo'");
      assert.equal(row.resource.name, 'three');
      // Unresolved references are kept as they are.
      const dangling: OrganizationAffiliation = {
        resourceType: 'OrganizationAffiliation',
        id: 'oa-dangling',
        meta: { versionId: '1', lastUpdated: '2025-01-05T00:00:00.000Z' },
        organization: { reference: 'Organization/does-not-exist' },
      };
      assert.equal(await applyResources(rep, [dangling, { ...endpoint('1', '2'), id: 'no-meta' } as Endpoint]), 1);
    });
  });
}
