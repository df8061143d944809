import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { probeFhirBase } from '../conformance/fhir-base.ts';
import { partClientProbe } from '../conformance/part-client-probe.ts';
import { PartClient } from '../kit/http/client.ts';
import type { RunningService } from '../kit/http/service.ts';
import { createTestPki } from '../kit/testing/test-pki.ts';
import { directoryForTest, endpoint, mandate, organization } from './test-support.ts';

// Declared = served for the directory: its own CapabilityStatement is read and every declared
// search parameter, include and refusal is probed over real mutual TLS. Tokens are off here.

describe('directory interfaces: declared = served', () => {
  let svc: RunningService;
  let gp: PartClient;
  let orgId: string;
  let endpointId: string;
  let affiliationId: string;

  before(async () => {
    const pki = await createTestPki();
    svc = await directoryForTest(pki);
    gp = new PartClient({ tls: await pki.identity('11111111'), maxRetries: 0, defaultDeadlineMs: 120_000 });
    const ep = await gp.call<{ id: string }>(`${svc.url}/Endpoint`, { method: 'POST', body: endpoint('11111111', '51494752', 'https://gp.example.org/fhir') });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    endpointId = ep.body.id;
    const org = await gp.call<Organization>(`${svc.url}/Organization`, {
      method: 'POST',
      body: { ...organization('11111111', 'Huisartsenpraktijk'), endpoint: [{ reference: `Endpoint/${endpointId}` }] },
    });
    assert.equal(org.status, 201, JSON.stringify(org.body));
    orgId = org.body.id as string;
    const aff = await gp.call<{ id: string }>(`${svc.url}/OrganizationAffiliation`, { method: 'POST', body: mandate('11111111', '51494752') });
    assert.equal(aff.status, 201, JSON.stringify(aff.body));
    affiliationId = aff.body.id;
  });
  after(async () => {
    await gp.close();
    await svc.close();
    await svc.store.close();
  });

  it('serves every search parameter it declares, refuses the rest, and declares its security', async () => {
    const { checks, capability } = await probeFhirBase(svc.url, partClientProbe(gp), { searches: true });
    const failed = checks.filter((c) => !c.ok);
    assert.deepEqual(failed, [], JSON.stringify(failed, null, 1));
    const org = capability?.rest?.[0].resource?.find((r) => r.type === 'Organization');
    assert.ok(org?.searchParam?.some((p) => p.name === '_after'), 'the paging cursor it serves is declared');
    assert.ok(!org?.searchParam?.some((p) => p.name === '_since'), '_since belongs to history, not search');
    assert.ok(org?.searchInclude?.includes('Organization:endpoint'));
    // The probe is not a rubber stamp: a parameter the search does not serve is reported.
    const lying = await probeFhirBase(svc.url, async (url, init) => {
      const res = await partClientProbe(gp)(url, init);
      if (!url.endsWith('/metadata')) return res;
      const cs = structuredClone(res.body) as typeof capability;
      cs?.rest?.[0].resource?.[0].searchParam?.push({ name: 'name', type: 'string' });
      return { ...res, body: cs };
    }, { searches: true });
    assert.deepEqual(lying.checks.filter((c) => !c.ok).map((c) => c.rule), ['Organization.search.name']);
  });

  it('answers the mCSD searches a directory client expects (ITI-90), with totals', async () => {
    const withEndpoints = await gp.call<Bundle>(`${svc.url}/Organization?_id=${orgId}&_include=Organization:endpoint`);
    assert.equal(withEndpoints.status, 200);
    assert.equal(withEndpoints.body.total, 1);
    assert.deepEqual(
      withEndpoints.body.entry?.map((e) => [e.resource?.resourceType, e.search?.mode]),
      [['Organization', 'match'], ['Endpoint', 'include']],
    );
    const revinclude = await gp.call<Bundle>(`${svc.url}/Organization?_id=${orgId}&_revinclude=OrganizationAffiliation:primary-organization`);
    assert.equal(revinclude.status, 200);
    assert.deepEqual(revinclude.body.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.id), [affiliationId]);
    const affiliations = await gp.call<Bundle>(`${svc.url}/OrganizationAffiliation?primary-organization=Organization/${orgId}`);
    assert.deepEqual(affiliations.body.entry?.map((e) => e.resource?.id), [affiliationId]);
    assert.equal(affiliations.body.total, 1);
    const none = await gp.call<Bundle>(`${svc.url}/OrganizationAffiliation?primary-organization=Organization/nobody`);
    assert.equal(none.body.total, 0);
    const literal = await gp.call<{ id: string }>(`${svc.url}/Endpoint`, {
      method: 'POST',
      body: { ...endpoint('11111111', '51494752', 'https://gp2.example.org/fhir'), managingOrganization: { reference: `Organization/${orgId}` } },
    });
    assert.equal(literal.status, 201, JSON.stringify(literal.body));
    const eps = await gp.call<Bundle>(`${svc.url}/Endpoint?organization=${orgId}`);
    assert.deepEqual(eps.body.entry?.map((e) => e.resource?.id), [literal.body.id]);
    const bad = await gp.call(`${svc.url}/Organization?_include=Organization:partof`);
    assert.equal(bad.status, 400);
    assert.equal((await gp.call(`${svc.url}/Endpoint?organization=Location/x`)).status, 400);
  });
});
