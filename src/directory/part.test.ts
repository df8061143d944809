import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Endpoint, Organization } from '@medplum/fhirtypes';
import { PartClient } from '../kit/http/client.ts';
import type { RunningService } from '../kit/http/service.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { createTestPki } from '../kit/testing/test-pki.ts';
import { httpFetcher } from './replica/fetchers.ts';
import { REPLICA_MIGRATIONS } from './replica/migrations.ts';
import { findEndpoints } from './replica/search.ts';
import { UpdateClient } from './replica/update-client.ts';
import { directoryForTest, endpoint, fixture, mandate, organization } from './test-support.ts';

// The directory over real mutual TLS: the feed's HTTP semantics (ETag, If-Match, Location,
// OperationOutcome statuses), who the certificate says the caller is, and an update client
// replicating through the kit's client. Access tokens are switched off here (tested in trust/auth).

describe('directory part over mutual TLS', () => {
  let svc: RunningService;
  let replica: Store;
  const clients: PartClient[] = [];
  let gp: PartClient;
  let vendor: PartClient;
  let stranger: PartClient;

  before(async () => {
    const pki = await createTestPki();
    svc = await directoryForTest(pki);
    replica = await openPgliteStore('node');
    await migrate(replica, REPLICA_MIGRATIONS);
    const client = async (tls: Promise<import('../kit/part.ts').TlsIdentity>) => {
      const c = new PartClient({ tls: await tls, maxRetries: 0 });
      clients.push(c);
      return c;
    };
    gp = await client(pki.identity('11111111'));
    vendor = await client(pki.vendor('51494752'));
    stranger = await client(pki.vendor('99999999'));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await svc.close();
    await svc.store.close();
    await replica.close();
  });

  it('creates, reads and updates with ETag / If-Match, and refuses what it must', async () => {
    const org = fixture<Organization>('directory-organization-gp');
    const put = await gp.call<Organization>(`${svc.url}/Organization/${org.id}`, { method: 'PUT', body: org });
    assert.equal(put.status, 201);
    assert.equal(put.headers.etag, 'W/"1"');
    assert.match(put.headers.location, /\/Organization\/8e18530e-2ce1-5dc2-b34b-7d5de91a5c07\/_history\/1$/);
    const missing = await gp.call(`${svc.url}/Organization/${org.id}`, { method: 'PUT', body: org });
    assert.equal(missing.status, 428);
    const stale = await gp.call(`${svc.url}/Organization/${org.id}`, { method: 'PUT', body: org, headers: { 'if-match': 'W/"0"' } });
    assert.equal(stale.status, 412);
    const ok = await gp.call<Organization>(`${svc.url}/Organization/${org.id}`, { method: 'PUT', body: { ...org, name: 'GP' }, headers: { 'if-match': 'W/"1"' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.etag, 'W/"2"');
    const read = await gp.call<Organization>(`${svc.url}/Organization/${org.id}`);
    assert.equal(read.body.name, 'GP');
    assert.equal(read.headers.etag, 'W/"2"');

    const invalid = await gp.call<{ resourceType: string }>(`${svc.url}/Endpoint`, { method: 'POST', body: { ...endpoint('11111111', '51494752'), address: undefined } });
    assert.equal(invalid.status, 422);
    assert.equal(invalid.body.resourceType, 'OperationOutcome');
    assert.equal((await stranger.call(`${svc.url}/Endpoint`, { method: 'POST', body: endpoint('11111111', '99999999') })).status, 403);
    assert.equal((await gp.call(`${svc.url}/Patient`)).status, 404);
    assert.equal((await gp.call(`${svc.url}/Organization?name=x`)).status, 400);
    assert.equal((await gp.call(`${svc.url}/Organization?_id=a&_id=b`)).status, 400);
    assert.equal((await gp.call(`${svc.url}/Organization/_history?_since=2024-01-01&_since=2025-01-01`)).status, 400);
    assert.equal((await gp.call(`${svc.url}/Organization/${org.id}`, { method: 'DELETE' })).status, 405);
  });

  it('answers malformed transactions and unusable ids with a 400 OperationOutcome, writing nothing', async () => {
    const tx = (entry: unknown) => ({ resourceType: 'Bundle', type: 'transaction', entry });
    const org = organization('11111111');
    for (const body of [
      tx({}),
      tx([null]),
      tx([{ request: { method: 'POST', url: 5 }, resource: org }]),
      tx([{ request: { method: 'POST', url: 'Organization' }, resource: 'x' }]),
      tx([{ request: { method: 'PUT', url: 'Organization/..%2Fx' }, resource: org }]),
      tx([{ request: { method: 'POST', url: 'Organization' }, resource: { ...org, name: 'a\ud800' } }]),
    ]) {
      const r = await gp.call<{ resourceType: string }>(`${svc.url}/`, { method: 'POST', body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
    for (const id of ['..%2Fx', 'a%20b', 'x'.repeat(65)]) {
      const r = await gp.call<{ resourceType: string }>(`${svc.url}/Organization/${id}`, { method: 'PUT', body: org });
      assert.equal(r.status, 400, id);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
    const mismatch = await gp.call(`${svc.url}/Organization/abc`, { method: 'PUT', body: { ...org, id: 'abd' } });
    assert.equal(mismatch.status, 400);
    const history = await gp.call<Bundle>(`${svc.url}/Organization/_history`);
    assert.ok(!history.body.entry?.some((e) => e.resource?.id === '..' || e.resource?.id === '../x' || e.resource?.id === 'abc'));
  });

  it('lets a mandated vendor publish by transaction, and a replica finds the endpoint', async () => {
    assert.equal((await gp.call(`${svc.url}/OrganizationAffiliation`, { method: 'POST', body: mandate('11111111', '51494752') })).status, 201);
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: endpoint('11111111', '51494752', 'https://gp.example.org/fhir'), request: { method: 'POST', url: 'Endpoint' } },
        { resource: { ...organization('12121212') }, request: { method: 'POST', url: 'Organization' } },
      ],
    };
    const refused = await vendor.call(`${svc.url}/`, { method: 'POST', body: bundle });
    assert.equal(refused.status, 403, 'the vendor has no mandate for 12121212, so nothing is written');
    bundle.entry = bundle.entry?.slice(0, 1);
    const r = await vendor.call<Bundle>(`${svc.url}/`, { method: 'POST', body: bundle });
    assert.equal(r.status, 200);
    const epId = r.body.entry?.[0].resource?.id as string;
    const org = (await gp.call<Organization>(`${svc.url}/Organization/8e18530e-2ce1-5dc2-b34b-7d5de91a5c07`)).body;
    const put = await vendor.call(`${svc.url}/Organization/${org.id}`, {
      method: 'PUT',
      body: { ...org, endpoint: [{ reference: `Endpoint/${epId}` }] },
      headers: { 'if-match': `W/"${org.meta?.versionId}"` },
    });
    assert.equal(put.status, 200);

    const sync = new UpdateClient({ store: replica, directoryUrl: svc.url, fetch: httpFetcher(gp), pageSize: 2 });
    await sync.syncNow();
    const found: Endpoint[] = await findEndpoints(replica, { ura: '11111111', payloadType: 'MedicationRequest', fhirVersion: '4.0' });
    assert.deepEqual(found.map((e) => e.address), ['https://gp.example.org/fhir']);
  });
});
