import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Endpoint, Location, Organization, OrganizationAffiliation } from '@medplum/fhirtypes';
import { SYSTEM } from '../kit/identifiers/index.ts';
import type { Store } from '../kit/store/store.ts';
import { backends } from '../kit/testing/backends.ts';
import { MANDATE } from './codes.ts';
import { applyTransaction, createEntry, readEntry, updateEntry } from './feed.ts';
import { DIRECTORY_MIGRATIONS } from './migrations.ts';
import { historyOf, searchEntries } from './query.ts';
import { custodian, endpoint, fixture, mandate, organization, status, uuid } from './test-support.ts';

const BASE = 'https://directory.test';
const GP = { ura: '11111111' };
const HOSPITAL = { ura: '22222222' };
const VENDOR = { kvk: '51494752' }; // PharmaPartners in the IG examples

const location = (ura: string): Location => ({
  resourceType: 'Location',
  identifier: [custodian(ura, uuid())],
  name: 'Main building',
  type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: 'GACH' }] }],
  status: 'active',
  managingOrganization: { identifier: { system: SYSTEM.ura, value: ura } },
});

for (const backend of await backends()) {
  describe(`directory feed on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await backend.open('directory', DIRECTORY_MIGRATIONS);
    });
    after(async () => store.close());

    it('accepts the GF IG examples from their care providers, including the withdrawn endpoint', async () => {
      const gp = fixture<Organization>('directory-organization-gp');
      const hospital = fixture<Organization>('directory-organization-hospital');
      assert.equal((await updateEntry(store, GP, 'Organization', gp.id as string, gp, undefined)).status, 201);
      await updateEntry(store, HOSPITAL, 'Organization', hospital.id as string, hospital, undefined);
      for (const [name, caller] of [
        ['directory-endpoint-gp-fhir-r4', GP],
        ['directory-endpoint-gp-superseded', GP],
        ['directory-endpoint-hospital-dicom', HOSPITAL],
      ] as const) {
        const e = fixture<Endpoint>(name);
        const r = await updateEntry(store, caller, 'Endpoint', e.id as string, e, undefined);
        assert.equal(r.resource.meta.versionId, '1');
      }
      const oa = fixture<OrganizationAffiliation>('directory-affiliation-gp-vendor');
      await updateEntry(store, GP, 'OrganizationAffiliation', oa.id as string, oa, undefined);
      const off = await readEntry(store, 'Endpoint', '53c03a2e-53e9-4994-827c-98f6b4caf897');
      assert.equal((off as Endpoint).status, 'off');
      // The mandate lets the vendor maintain the GP's endpoint.
      const e = (await readEntry(store, 'Endpoint', 'd6a4678b-755e-5ae3-bd36-67db6ae3d8c4')) as Endpoint;
      const r = await updateEntry(store, VENDOR, 'Endpoint', e.id as string, { ...e, name: 'FHIR Endpoint 1 (renamed)' }, 'W/"1"');
      assert.equal(r.resource.meta.versionId, '2');
    });

    it('creates with a server id and version 1, and updates only with the current If-Match', async () => {
      const created = await createEntry(store, { ura: '33333333' }, 'Organization', { ...organization('33333333'), id: 'ignored' });
      assert.equal(created.status, 201);
      assert.notEqual(created.resource.id, 'ignored');
      assert.equal(created.resource.meta.versionId, '1');
      const id = created.resource.id;
      const next = { ...organization('33333333', 'Renamed'), id };
      await assert.rejects(updateEntry(store, { ura: '33333333' }, 'Organization', id, next, undefined), status(428));
      await assert.rejects(updateEntry(store, { ura: '33333333' }, 'Organization', id, next, 'W/"7"'), status(412));
      await assert.rejects(updateEntry(store, { ura: '33333333' }, 'Organization', id, next, 'garbage'), status(400));
      const updated = await updateEntry(store, { ura: '33333333' }, 'Organization', id, next, 'W/"1"');
      assert.equal(updated.status, 200);
      assert.equal(updated.resource.meta.versionId, '2');
      assert.ok(updated.resource.meta.lastUpdated > created.resource.meta.lastUpdated);
      // The old ETag is now stale.
      await assert.rejects(updateEntry(store, { ura: '33333333' }, 'Organization', id, next, 'W/"1"'), status(412));
    });

    it('refuses a vendor without a mandate, and another care provider, with 403', async () => {
      await updateEntry(store, { ura: '44444444' }, 'Organization', 'org-44', organization('44444444'), undefined);
      await assert.rejects(createEntry(store, { kvk: '99999999' }, 'Endpoint', endpoint('44444444', '99999999')), status(403));
      await assert.rejects(createEntry(store, { ura: '55555555' }, 'Endpoint', endpoint('44444444', '99999999')), status(403));
      // A vendor may not mandate itself.
      await assert.rejects(createEntry(store, { kvk: '99999999' }, 'OrganizationAffiliation', mandate('44444444', '99999999')), status(403));
    });

    it('scopes mandates: endpoint-admin covers Endpoint only; an inactive mandate covers nothing', async () => {
      await updateEntry(store, { ura: '66666666' }, 'Organization', 'org-66', organization('66666666'), undefined);
      const m = await createEntry(store, { ura: '66666666' }, 'OrganizationAffiliation', mandate('66666666', '12121212', MANDATE.endpointAdmin));
      await createEntry(store, { kvk: '12121212' }, 'Endpoint', endpoint('66666666', '12121212'));
      await assert.rejects(createEntry(store, { kvk: '12121212' }, 'Location', location('66666666')), status(403));
      const org = await readEntry(store, 'Organization', 'org-66');
      await assert.rejects(updateEntry(store, { kvk: '12121212' }, 'Organization', 'org-66', { ...org, name: 'Taken over' }, 'W/"1"'), status(403));
      // The care provider withdraws the mandate; the vendor is locked out.
      await updateEntry(store, { ura: '66666666' }, 'OrganizationAffiliation', m.resource.id, { ...m.resource, active: false }, 'W/"1"');
      await assert.rejects(createEntry(store, { kvk: '12121212' }, 'Endpoint', endpoint('66666666', '12121212')), status(403));
      // A careprovider-admin mandate covers Location as well.
      await createEntry(store, { ura: '66666666' }, 'OrganizationAffiliation', mandate('66666666', '12121212', MANDATE.careProviderAdmin));
      await createEntry(store, { kvk: '12121212' }, 'Location', location('66666666'));
    });

    it('refuses to move an entry to another care provider unless the caller may write for both', async () => {
      const e = await createEntry(store, { ura: '44444444' }, 'Endpoint', endpoint('44444444', '99999999'));
      const stolen = { ...endpoint('77777777', '99999999'), id: e.resource.id };
      await assert.rejects(updateEntry(store, { ura: '77777777' }, 'Endpoint', e.resource.id, stolen, 'W/"1"'), status(403));
    });

    it('answers invalid entries with 422 and writes nothing', async () => {
      const before = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM history');
      const noAddress = { ...endpoint('44444444', '99999999'), address: undefined };
      await assert.rejects(createEntry(store, { ura: '44444444' }, 'Endpoint', noAddress), status(422));
      await assert.rejects(createEntry(store, { ura: '44444444' }, 'Organization', { ...organization('44444444'), name: undefined }), status(422));
      await assert.rejects(createEntry(store, { ura: '44444444' }, 'Organization', { resourceType: 'Patient' }), status(422));
      await assert.rejects(createEntry(store, { ura: '44444444' }, 'Organization', { resourceType: 'Endpoint' }), status(400));
      // No owner can be determined.
      const orphan = { ...endpoint('44444444', '99999999'), identifier: [{ system: 'https://x', value: '1' }] };
      await assert.rejects(createEntry(store, { ura: '44444444' }, 'Endpoint', orphan), status(422));
      const after = await store.query<{ n: string }>('SELECT count(*)::text AS n FROM history');
      assert.equal(after[0].n, before[0].n);
    });

    it('applies a transaction Bundle with urn:uuid references atomically, or not at all', async () => {
      const ura = '88888888';
      const org = { ...organization(ura), endpoint: [{ reference: 'urn:uuid:e1' }] };
      const ep = { ...endpoint(ura, '99999999'), managingOrganization: { reference: 'urn:uuid:o1' } };
      const bundle: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        // Endpoint first on purpose: Organizations are applied first so its owner resolves.
        entry: [
          { fullUrl: 'urn:uuid:e1', resource: ep, request: { method: 'POST', url: 'Endpoint' } },
          { fullUrl: 'urn:uuid:o1', resource: org, request: { method: 'POST', url: 'Organization' } },
        ],
      };
      const result = await applyTransaction(store, { ura }, bundle);
      assert.equal(result.type, 'transaction-response');
      const [epOut, orgOut] = result.entry ?? [];
      assert.equal(epOut.response?.status, '201 Created');
      const savedOrg = (await readEntry(store, 'Organization', orgOut.resource?.id as string)) as Organization;
      assert.equal(savedOrg.endpoint?.[0].reference, `Endpoint/${epOut.resource?.id}`);
      const savedEp = (await readEntry(store, 'Endpoint', epOut.resource?.id as string)) as Endpoint;
      assert.equal(savedEp.managingOrganization?.reference, `Organization/${orgOut.resource?.id}`);

      const countBefore = (await store.query<{ n: string }>('SELECT count(*)::text AS n FROM history'))[0].n;
      const bad: Bundle = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: organization('89898989'), request: { method: 'POST', url: 'Organization' } },
          { resource: { ...endpoint('89898989', '1'), status: 'bogus' } as unknown as Endpoint, request: { method: 'POST', url: 'Endpoint' } },
        ],
      };
      await assert.rejects(applyTransaction(store, { ura: '89898989' }, bad), (err: Error) => status(422)(err) && /entry 1/.test(err.message));
      const countAfter = (await store.query<{ n: string }>('SELECT count(*)::text AS n FROM history'))[0].n;
      assert.equal(countAfter, countBefore);
      await assert.rejects(
        applyTransaction(store, { ura }, { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'DELETE', url: 'Endpoint/x' } }] }),
        status(400),
      );
      await assert.rejects(applyTransaction(store, { ura }, { resourceType: 'Bundle', type: 'batch' }), status(400));
    });

    it('stores only ids that are FHIR ids and URL path segments', async () => {
      for (const id of ['..', '.', '../x', 'a b', 'x'.repeat(65), '']) {
        await assert.rejects(updateEntry(store, { ura: '34343434' }, 'Organization', id, organization('34343434'), undefined), status(400), id);
      }
      assert.equal((await updateEntry(store, { ura: '34343434' }, 'Organization', '...', organization('34343434'), undefined)).status, 201);
    });

    it('searches by identifier, _id and _lastUpdated only, paging with next links', async () => {
      const byUra = await searchEntries(store, 'Organization', { identifier: `${SYSTEM.ura}|11111111` }, BASE);
      assert.deepEqual(byUra.entry?.map((e) => e.resource?.id), ['8e18530e-2ce1-5dc2-b34b-7d5de91a5c07']);
      const byValue = await searchEntries(store, 'Organization', { identifier: '22222222' }, BASE);
      assert.equal(byValue.entry?.length, 1);
      const byId = await searchEntries(store, 'Organization', { _id: 'org-44,org-66' }, BASE);
      assert.deepEqual(byId.entry?.map((e) => e.resource?.id).sort(), ['org-44', 'org-66']);
      assert.equal((await searchEntries(store, 'Organization', { _lastUpdated: 'lt2000-01-01' }, BASE)).entry?.length, 0);
      const all = await searchEntries(store, 'Organization', { _lastUpdated: 'ge2000-01-01' }, BASE);
      await assert.rejects(searchEntries(store, 'Organization', { name: 'x' }, BASE), status(400));
      await assert.rejects(searchEntries(store, 'Organization', { _lastUpdated: 'gtyesterday' }, BASE), status(400));
      // Paging: follow next links with _count=2 and see every Organization once.
      const seen: string[] = [];
      let page = await searchEntries(store, 'Organization', { _count: '2' }, BASE);
      assert.ok(page.meta?.lastUpdated);
      for (;;) {
        for (const e of page.entry ?? []) seen.push(e.resource?.id as string);
        const next = page.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        page = await searchEntries(store, 'Organization', Object.fromEntries(new URL(next).searchParams), BASE);
      }
      assert.equal(seen.length, all.entry?.length);
      assert.equal(new Set(seen).size, seen.length);
    });

    it('serves type history oldest first, from _since, paged', async () => {
      const full = await historyOf(store, 'Organization', { _count: '1000' }, BASE);
      assert.equal(full.type, 'history');
      const times = (full.entry ?? []).map((e) => e.resource?.meta?.lastUpdated as string);
      assert.deepEqual(times, [...times].sort());
      const v2 = full.entry?.find((e) => e.resource?.meta?.versionId === '2');
      assert.equal(v2?.request?.method, 'PUT');
      const since = times[Math.floor(times.length / 2)];
      const tail = await historyOf(store, 'Organization', { _since: since }, BASE);
      assert.ok((tail.entry ?? []).every((e) => (e.resource?.meta?.lastUpdated as string) >= since));
      assert.ok((tail.entry?.length ?? 0) < times.length);
      const paged: string[] = [];
      let page = await historyOf(store, 'Organization', { _count: '2' }, BASE);
      for (;;) {
        for (const e of page.entry ?? []) paged.push(`${e.resource?.id}@${e.resource?.meta?.versionId}`);
        const next = page.link?.find((l) => l.relation === 'next')?.url;
        if (!next) break;
        page = await historyOf(store, 'Organization', Object.fromEntries(new URL(next).searchParams), BASE);
      }
      assert.deepEqual(paged, (full.entry ?? []).map((e) => `${e.resource?.id}@${e.resource?.meta?.versionId}`));
      await assert.rejects(historyOf(store, 'Organization', { _since: 'soon' }, BASE), status(400));
      await assert.rejects(historyOf(store, 'Organization', { _type: 'x' }, BASE), status(400));
      // Which of two _since values would apply is undefined: refused.
      await assert.rejects(historyOf(store, 'Organization', { _since: [since, '2000-01-01'] }, BASE), status(400));
      await assert.rejects(historyOf(store, 'Organization', { _count: ['1', '2'] }, BASE), status(400));
    });

    it('refuses a repeated _id (it would AND) and ORs comma-separated ids', async () => {
      const ids = ((await searchEntries(store, 'Organization', { _count: '2' }, BASE)).entry ?? []).map((e) => e.resource?.id as string);
      assert.equal(ids.length, 2);
      await assert.rejects(searchEntries(store, 'Organization', { _id: ids }, BASE), status(400));
      await assert.rejects(searchEntries(store, 'Organization', { _count: ['1', '2'] }, BASE), status(400));
      const both = await searchEntries(store, 'Organization', { _id: ids.join(',') }, BASE);
      assert.deepEqual(both.entry?.map((e) => e.resource?.id).sort(), [...ids].sort());
    });
  });
}
