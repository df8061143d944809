import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Condition, MedicationStatement, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ClosedAnswer, ClosedQuestion } from '../../consent/model.ts';
import { RecordsConsentOracle } from '../../consent/pdp/oracle.ts';
import { PartClient } from '../../kit/http/client.ts';
import { createService, type RunningService } from '../../kit/http/service.ts';
import type { TlsIdentity } from '../../kit/part.ts';
import { openStore } from '../../kit/store/open.ts';
import type { Store } from '../../kit/store/store.ts';
import { createTestPki, staticNetwork } from '../../kit/testing/test-pki.ts';
import { PrsClient } from '../../pseudonyms/client.ts';
import { createPrsPart } from '../../pseudonyms/part.ts';
import { type BulkManifest, EXPORT_SCOPE, HDAB_ORGANIZATION_TYPE, PURPOSE_RESEARCH, RESEARCH_EVENT_CODE, RESEARCH_REQUESTER_ROLE } from '../../secondary-use/contract.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { TrustTokenProvider } from '../../trust/auth/token-provider.ts';
import { ehrSimulatorPlugin } from '../ehr-sim/plugin.ts';
import { generateResearchPopulation } from '../ehr-sim/research-population.ts';
import { openEhrStore, seedEhr } from '../ehr-sim/store.ts';
import type { NodeEnvironment, ParticipantView } from '../environment.ts';
import { createNodePart } from '../part.ts';
import { scanExtract } from './scanner.ts';
import { testHdabKey } from './test-permits.ts';

// The holder's $export end to end: a real node (its own authorisation server, signed tokens,
// mutual TLS with test certificates), a real PRS (OPRF over mTLS), the EHR simulator over HTTP
// with a generated population, permits signed by a stand-in HDAB key. The consent answer is a
// fake the test controls (the consent part's research opt-out is built on branch hdab).

const GP = '90000301';
const HDAB = '90000950';
const OTHER = '90000302';
const HDAB_URL = 'https://hdab.test:9443';
const SEED = 'bulk-export-e2e';
const PATIENTS = 160;
const TIA = '266257000';

describe('bulk export ($export) end to end', { timeout: 300_000 }, () => {
  let node: RunningService;
  let prs: RunningService;
  let ehr: FastifyInstance;
  const stores: Store[] = [];
  let hdabClient: PartClient;
  let hdabTokens: TrustTokenProvider;
  let hdab: Awaited<ReturnType<typeof testHdabKey>>;
  let foreignKey: Awaited<ReturnType<typeof testHdabKey>>;
  let identities: Record<string, TlsIdentity>;
  let prsClient: PrsClient;
  const participants = new Map<string, ParticipantView>();
  const objecting = new Set<string>();
  const asked: ClosedQuestion[] = [];
  let onQuestion: ((q: ClosedQuestion) => void) | undefined;
  const audits: AuditEvent[] = [];
  /** The population as the GP's EHR holds it: BSN → facts. */
  const people = new Map<string, { patient: Patient; tia: boolean; statin: boolean }>();
  let base: string;

  before(async () => {
    const pki = await createTestPki();
    identities = {
      node: await pki.identity('90000900', { name: 'node' }),
      prs: await pki.identity('90000901', { name: 'prs' }),
      gp: await pki.identity(GP),
      hdab: await pki.identity(HDAB, { name: 'HDAB' }),
      other: await pki.identity(OTHER),
    };
    hdab = await testHdabKey();
    foreignKey = await testHdabKey('someone-else');
    participants.set(HDAB, { ura: HDAB, name: 'HDAB', type: HDAB_ORGANIZATION_TYPE, status: 'admitted', qualifications: [] });
    participants.set(OTHER, { ura: OTHER, name: 'Huisarts B', type: 'Z3', status: 'admitted', qualifications: [] });

    // The GP's EHR with a generated population (some patients with a TIA, most of those on a statin).
    const ehrStore = await openEhrStore(GP);
    stores.push(ehrStore);
    const resources: Resource[] = [];
    for (const chart of generateResearchPopulation({ patients: PATIENTS, organizations: [{ ura: GP, name: 'Huisarts A', type: 'Z3' }], seed: SEED })) {
      resources.push(...chart.resources);
      const patient = chart.resources.find((r): r is Patient => r.resourceType === 'Patient')!;
      const tia = chart.resources.some((r) => r.resourceType === 'Condition' && (r as Condition).code?.coding?.some((c) => c.code === TIA));
      const statin = chart.resources.some((r) => r.resourceType === 'MedicationStatement' && JSON.stringify((r as MedicationStatement).contained ?? []).includes('"C10AA'));
      people.set(chart.bsn, { patient, tia, statin });
    }
    await seedEhr(ehrStore, GP, resources);
    ehr = Fastify({ logger: false, forceCloseConnections: true });
    await ehr.register(ehrSimulatorPlugin, { prefix: '/ehr', stores: new Map([[GP, ehrStore]]), admin: false });
    await ehr.listen({ host: '127.0.0.1', port: 0 });
    const ehrUrl = `http://127.0.0.1:${(ehr.server.address() as AddressInfo).port}/ehr`;

    const prsStore = await openStore({ schema: 'prs' }, createPrsPart().migrations);
    stores.push(prsStore);
    prs = await createService(createPrsPart({ seed: randomBytes(32), mode: 'off' }), { tls: identities.prs, network: staticNetwork({}), store: prsStore });
    prsClient = new PrsClient(new PartClient({ tls: identities.gp }), prs.url);

    const env: NodeEnvironment = {
      agreements: () => defaultAgreements(),
      participant: async (ura) => participants.get(ura) ?? null,
      localise: async () => [],
      registerReferral: async () => {},
      withdrawReferral: async () => {},
      endpoint: async () => null,
      consent: new RecordsConsentOracle(() => [], () => 'opt-in'),
      verifyVerklaring: async () => {
        throw new Error('no professionals in this test');
      },
      audit: async (event) => {
        audits.push(event);
      },
      secondaryUse: {
        hdabUrl: () => HDAB_URL,
        hdabJwks: async () => hdab.jwks,
        async researchConsent(_tenant, q): Promise<ClosedAnswer> {
          asked.push(q);
          onQuestion?.(q);
          return objecting.has(q.bsn)
            ? { decision: 'Deny', rule: { kind: 'not-applicable', reason: 'test objection' }, reason: 'objected' }
            : { decision: 'Permit', rule: { kind: 'network-default', mode: 'opt-out' }, reason: 'default' };
        },
        researchPseudonym: (_tenant, bsn, domain) => prsClient.researchPseudonym(bsn, domain),
      },
    };
    const part = createNodePart({
      name: 'bx',
      tenants: [{ ura: GP, name: 'Huisarts A', type: 'Z3', identity: identities.gp, ehrBaseUrl: `${ehrUrl}/${GP}/fhir` }],
      environment: async () => env,
      referralSyncIntervalMs: 0,
    });
    const nodeStore = await openStore({ schema: part.schema }, part.migrations);
    stores.push(nodeStore);
    node = await createService(part, { tls: identities.node, network: staticNetwork({}), store: nodeStore });
    base = `${node.url}/org/${GP}`;
    hdabTokens = new TrustTokenProvider({ tls: identities.hdab, ura: HDAB, tokenEndpoint: `${node.url}/oauth/token` });
    hdabClient = new PartClient({ tls: identities.hdab, tokens: hdabTokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
  });

  after(async () => {
    await hdabClient?.close();
    await hdabTokens?.close?.();
    await node?.close();
    await prs?.close();
    await ehr?.close();
    for (const s of stores.reverse()) await s.close();
  });

  const cohortBsns = () => [...people].filter(([, p]) => p.tia && p.statin).map(([bsn]) => bsn);
  const kickOff = (permit: string | undefined, opts: { type?: string; client?: PartClient; prefer?: string | null } = {}) =>
    (opts.client ?? hdabClient).call<OperationOutcome>(`${base}/fhir/$export`, {
      method: 'POST',
      scope: EXPORT_SCOPE,
      resource: base,
      headers: { 'content-type': 'application/fhir+json', ...(opts.prefer === null ? {} : { prefer: opts.prefer ?? 'respond-async' }) },
      body: {
        resourceType: 'Parameters',
        parameter: [...(permit ? [{ name: 'permit', valueString: permit }] : []), ...(opts.type ? [{ name: '_type', valueString: opts.type }] : [])],
      },
    });
  const get = <T>(url: string, method = 'GET') => hdabClient.call<T>(url, { method, scope: EXPORT_SCOPE, resource: base });

  /** Polls the status URL until the manifest comes; returns it. */
  async function awaitManifest(statusUrl: string): Promise<BulkManifest> {
    for (let i = 0; i < 600; i++) {
      const r = await get<BulkManifest>(statusUrl);
      if (r.status === 200) return r.body;
      assert.equal(r.status, 202, `status: ${r.status} ${r.text.slice(0, 300)}`);
      assert.ok(r.headers['x-progress'], 'a running export says how far it is');
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('export did not finish');
  }

  /** Kick-off, poll, download every file; returns the files' text by type. */
  async function runExport(permit: string): Promise<{ manifest: BulkManifest; files: Map<string, string> }> {
    const k = await kickOff(permit);
    assert.equal(k.status, 202, k.text.slice(0, 300));
    const statusUrl = k.headers['content-location'];
    assert.match(statusUrl, /\$export-status\//);
    const manifest = await awaitManifest(statusUrl);
    const files = new Map<string, string>();
    for (const f of [...manifest.output, ...manifest.error]) {
      const r = await get<string>(f.url);
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /application\/fhir\+ndjson/);
      files.set(f.type, (files.get(f.type) ?? '') + r.text);
    }
    return { manifest, files };
  }

  const lines = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);

  it('kick-off → poll → download: the cohort, pseudonymised and de-identified; files handed out once', async () => {
    assert.ok(cohortBsns().length >= 3, `the generated population has a cohort (${cohortBsns().length})`);
    const permit = await hdab.sign({ iss: HDAB_URL, jti: 'permit-main' });
    asked.length = 0;
    const { manifest, files } = await runExport(permit);
    assert.equal(manifest.requiresAccessToken, true);
    assert.equal(manifest.request, `${base}/fhir/$export`);
    assert.deepEqual(manifest.error, []);
    const patients = lines(files.get('Patient')) as Patient[];
    assert.equal(patients.length, cohortBsns().length, 'every TIA patient on a statin, nobody else');
    for (const p of patients) assert.match(p.id ?? '', /^[0-9a-f]{40}$/);
    const expected = await Promise.all(cohortBsns().map((bsn) => prsClient.researchPseudonym(bsn, 'permit-main')));
    assert.deepEqual(patients.map((p) => p.id).sort(), expected.sort(), 'Patient.id is the permit\'s research pseudonym');
    const ids = new Set(patients.map((p) => `Patient/${p.id}`));
    const conditions = lines(files.get('Condition')) as Condition[];
    assert.ok(conditions.some((c) => c.code?.coding?.some((x) => x.code === TIA)));
    for (const r of [...conditions, ...(lines(files.get('MedicationStatement')) as MedicationStatement[])]) assert.ok(ids.has(r.subject?.reference ?? ''), 'references point to pseudonyms in the extract');
    assert.ok(!files.has('Observation'), 'only the permit\'s types');
    // The contract's closed question, asked once per cohort patient.
    assert.equal(asked.length, cohortBsns().length);
    assert.deepEqual({ ...asked[0], bsn: '' }, { bsn: '', holderUra: GP, holderType: 'Z3', requesterUra: HDAB, requesterType: HDAB_ORGANIZATION_TYPE, requesterRole: RESEARCH_REQUESTER_ROLE, requesterId: 'permit-main', purposeOfUse: PURPOSE_RESEARCH, eventCode: RESEARCH_EVENT_CODE });
    // Scanner: no BSN, name, address, telecom or exact date of anyone in the population.
    const forbidden = [...people].flatMap(([bsn, p]) => [bsn, p.patient.id ?? '', p.patient.birthDate ?? '', ...(p.patient.name ?? []).flatMap((n) => [n.family ?? '', ...(n.given ?? [])]), ...(p.patient.address ?? []).flatMap((a) => [...(a.line ?? []), a.postalCode ?? '']), ...(p.patient.telecom ?? []).map((t) => t.value ?? '')]);
    for (const [type, text] of files) assert.deepEqual(scanExtract(text, { forbidden, precision: 'year' }), [], `${type} file is clean`);
    // Files are handed out once.
    const again = await get<OperationOutcome>(manifest.output[0].url);
    assert.equal(again.status, 404);
    assert.ok(audits.some((a) => /bulk export done \(permit permit-main/.test(a.outcomeDesc ?? '')), 'the extraction is in the audit trail');
  });

  it('an objecting patient is absent, also when the objection arrives during the extraction', async () => {
    const cohort = cohortBsns();
    objecting.clear();
    objecting.add(cohort[0]);
    let late: string | undefined;
    // The first consent question of the run: another cohort patient objects now, before being asked.
    onQuestion = (q) => {
      if (late) return;
      late = cohort.find((b) => b !== q.bsn && !objecting.has(b));
      if (late) objecting.add(late);
    };
    try {
      const { files } = await runExport(await hdab.sign({ iss: HDAB_URL, jti: 'permit-optout' }));
      const got = new Set((lines(files.get('Patient')) as Patient[]).map((p) => p.id));
      assert.ok(late);
      for (const bsn of [cohort[0], late]) assert.ok(!got.has(await prsClient.researchPseudonym(bsn, 'permit-optout')), 'objector absent');
      assert.equal(got.size, cohort.length - 2);
    } finally {
      onQuestion = undefined;
      objecting.clear();
    }
  });

  it('the same patient under two permits gets two different, unlinkable pseudonyms', async () => {
    const a = await runExport(await hdab.sign({ iss: HDAB_URL, jti: 'permit-a', types: ['Patient', 'Condition'] }));
    const b = await runExport(await hdab.sign({ iss: HDAB_URL, jti: 'permit-b', types: ['Patient', 'Condition'] }));
    const bsn = cohortBsns()[0];
    const [pa, pb] = [await prsClient.researchPseudonym(bsn, 'permit-a'), await prsClient.researchPseudonym(bsn, 'permit-b')];
    assert.notEqual(pa, pb);
    const idsOf = (files: Map<string, string>) => new Set([...files.values()].flatMap((t) => lines(t)).map((r) => r.id));
    const [ia, ib] = [idsOf(a.files), idsOf(b.files)];
    assert.ok(ia.has(pa) && ib.has(pb));
    assert.deepEqual([...ia].filter((id) => ib.has(id)), [], 'no id (patient or record) recurs across the two extracts');
  });

  it('refuses expired, foreign, unsigned and missing permits, and types outside the permit (401/403, never 5xx)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string | undefined, number, RegExp, { type?: string }?]> = [
      [await hdab.sign({ iss: HDAB_URL, exp: now - 60 }), 403, /expired/],
      [await foreignKey.sign({ iss: HDAB_URL }), 403, /not signed by the HDAB/],
      [await hdab.sign({ iss: 'https://another-hdab.test' }), 403, /iss/],
      [`${Buffer.from('{"alg":"none","typ":"ldn-data-permit+jwt"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`, 403, /compact JWS/],
      [undefined, 401, /permit/],
      [await hdab.sign({ iss: HDAB_URL }), 403, /does not cover Observation/, { type: 'Patient,Observation' }],
    ];
    for (const [permit, status, re, opts] of cases) {
      const r = await kickOff(permit, opts);
      assert.equal(r.status, status, r.text.slice(0, 300));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.match(r.body.issue.map((i) => i.diagnostics).join(' '), re);
    }
    const noPrefer = await kickOff(await hdab.sign({ iss: HDAB_URL }), { prefer: null });
    assert.equal(noPrefer.status, 400);
  });

  it('refuses a caller that is not the HDAB, and the HDAB once suspended', async () => {
    const otherTokens = new TrustTokenProvider({ tls: identities.other, ura: OTHER, tokenEndpoint: `${node.url}/oauth/token` });
    const other = new PartClient({ tls: identities.other, tokens: otherTokens, maxRetries: 0 });
    const plain = new PartClient({ tls: identities.other, maxRetries: 0 });
    try {
      const permit = await hdab.sign({ iss: HDAB_URL });
      await assert.rejects(otherTokens.token(base, EXPORT_SCOPE), 'a care provider gets no export token');
      const r = await plain.call<OperationOutcome>(`${base}/fhir/$export`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'respond-async' }, body: { resourceType: 'Parameters', parameter: [{ name: 'permit', valueString: permit }] } });
      assert.equal(r.status, 401);
      // The HDAB's own token, presented over another organisation's certificate: bound to the HDAB's.
      const token = await hdabTokens.token(base, EXPORT_SCOPE);
      const stolen = await plain.call<OperationOutcome>(`${base}/fhir/$export`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'respond-async' }, body: { resourceType: 'Parameters', parameter: [{ name: 'permit', valueString: permit }] } });
      assert.ok([401, 403].includes(stolen.status), `stolen token: ${stolen.status}`);
      participants.set(HDAB, { ...participants.get(HDAB)!, status: 'suspended' });
      const suspended = await kickOff(permit);
      assert.equal(suspended.status, 403);
    } finally {
      participants.set(HDAB, { ...participants.get(HDAB)!, status: 'admitted' });
      await other.close();
      await plain.close();
      await otherTokens.close?.();
    }
  });

  it('DELETE on the status URL cancels the export and removes its files', async () => {
    const k = await kickOff(await hdab.sign({ iss: HDAB_URL, jti: 'permit-cancel' }));
    assert.equal(k.status, 202);
    const statusUrl = k.headers['content-location'];
    const del = await get(statusUrl, 'DELETE');
    assert.equal(del.status, 202);
    assert.equal((await get(statusUrl)).status, 404);
    // A write after the cancel is refused in the same transaction that checks the status.
    const after = await node.store.query<{ n: string }>(`SELECT count(*) AS n FROM bulk_export_files f JOIN bulk_export_jobs j ON j.id = f.job_id WHERE j.permit_jti = 'permit-cancel'`);
    assert.equal(Number(after[0].n), 0, 'no files of a cancelled export');
  });
});
