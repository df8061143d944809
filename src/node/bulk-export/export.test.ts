import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Condition, MedicationStatement, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../../kit/http/client.ts';
import { PrsClient } from '../../pseudonyms/client.ts';
import {
  type BulkManifest,
  EXPORT_SCOPE,
  HDAB_ORGANIZATION_TYPE,
  PERMIT_DETAIL_RESEARCH_ORGANISATION,
  PERMIT_IDENTIFIER_SYSTEM,
  PURPOSE_RESEARCH,
  RESEARCH_EVENT_CODE,
  RESEARCH_REQUESTER_ROLE,
} from '../../secondary-use/contract.ts';
import { TrustTokenProvider } from '../../trust/auth/token-provider.ts';
import { TIA } from '../ehr-sim/research-population.ts';
import { JobStore } from './jobs.ts';
import { scanExtract } from './scanner.ts';
import { type ExportNetwork, GP, HDAB, HDAB_URL, OTHER, startExportNetwork } from './test-network.ts';
import { testHdabKey } from './test-permits.ts';

// The holder's $export end to end (test-network.ts): a real node with its own authorisation
// server and signed tokens over mutual TLS, a real PRS, the EHR simulator over HTTP with a
// generated population, permits signed by a stand-in HDAB key, a research opt-out the test controls.

describe('bulk export ($export) end to end', { timeout: 300_000 }, () => {
  let net: ExportNetwork;
  let foreignKey: Awaited<ReturnType<typeof testHdabKey>>;
  let base: string;

  before(async () => {
    // Jobs of a stopped instance are looked for every 300 ms here (10 s by default).
    net = await startExportNetwork({ patients: 160, seed: 'bulk-export-e2e', settings: { bulk_export_takeover_ms: '300' } });
    foreignKey = await testHdabKey('someone-else');
    base = net.base;
  });
  after(async () => net?.stop());

  const cohortBsns = () => [...net.people].filter(([, p]) => p.tia && p.statin).map(([bsn]) => bsn);
  const kickOff = (...a: Parameters<ExportNetwork['kickOff']>) => net.kickOff(...a);
  const get = <T>(url: string, method?: string) => net.get<T>(url, method);
  const runExport = (permit: string) => net.runExport(permit);

  const lines = (text: string | undefined) => (text ?? '').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Resource);

  it('kick-off → poll → download: the cohort, pseudonymised and de-identified; files handed out once', async () => {
    assert.ok(cohortBsns().length >= 3, `the generated population has a cohort (${cohortBsns().length})`);
    const permit = await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-main' });
    net.asked.length = 0;
    const { manifest, files } = await runExport(permit);
    assert.equal(manifest.requiresAccessToken, true);
    assert.equal(manifest.request, `${base}/fhir/$export`);
    assert.deepEqual(manifest.error, []);
    const patients = lines(files.get('Patient')) as Patient[];
    assert.equal(patients.length, cohortBsns().length, 'every TIA patient on a statin, nobody else');
    for (const p of patients) assert.match(p.id ?? '', /^[0-9a-f]{40}$/);
    const expected = await Promise.all(cohortBsns().map((bsn) => net.prsClient.researchPseudonym(bsn, { jws: permit, jti: 'permit-main' })));
    assert.deepEqual(patients.map((p) => p.id).sort(), expected.sort(), 'Patient.id is the permit\'s research pseudonym');
    const ids = new Set(patients.map((p) => `Patient/${p.id}`));
    const conditions = lines(files.get('Condition')) as Condition[];
    assert.ok(conditions.some((c) => c.code?.coding?.some((x) => x.code === TIA.code)));
    for (const r of [...conditions, ...(lines(files.get('MedicationStatement')) as MedicationStatement[])]) assert.ok(ids.has(r.subject?.reference ?? ''), 'references point to pseudonyms in the extract');
    assert.ok(!files.has('Observation'), 'only the permit\'s types');
    // The contract's closed question, asked once per cohort patient.
    assert.equal(net.asked.length, cohortBsns().length);
    assert.deepEqual({ ...net.asked[0], bsn: '' }, { bsn: '', holderUra: GP, holderType: 'Z3', requesterUra: HDAB, requesterType: HDAB_ORGANIZATION_TYPE, requesterRole: RESEARCH_REQUESTER_ROLE, requesterId: 'permit-main', purposeOfUse: PURPOSE_RESEARCH, eventCode: RESEARCH_EVENT_CODE });
    // Scanner: no BSN, name, address, telecom or exact date of anyone in the population.
    const forbidden = [...net.people].flatMap(([bsn, p]) => [bsn, p.patient.id ?? '', p.patient.birthDate ?? '', ...(p.patient.name ?? []).flatMap((n) => [n.family ?? '', ...(n.given ?? [])]), ...(p.patient.address ?? []).flatMap((a) => [...(a.line ?? []), a.postalCode ?? '']), ...(p.patient.telecom ?? []).map((t) => t.value ?? '')]);
    for (const [type, text] of files) assert.deepEqual(scanExtract(text, { forbidden, precision: 'year' }), [], `${type} file is clean`);
    // Files are handed out once.
    const again = await get<OperationOutcome>(manifest.output[0].url);
    assert.equal(again.status, 404);
    assert.ok(net.audits.some((a) => /bulk export done \(permit permit-main/.test(a.outcomeDesc ?? '')), 'the extraction is in the audit trail');
  });

  it('releases only resources in the permit\'s data categories (the Patient resource too)', async () => {
    // Types asked for that the categories do not cover stay home, whatever the kick-off's _type.
    const noMedication = await runExport(await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-no-med', categories: ['Patient', 'Condition'] }));
    assert.ok((lines(noMedication.files.get('Patient')) as Patient[]).length > 0);
    assert.ok((lines(noMedication.files.get('Condition')) as Condition[]).length > 0);
    assert.ok(!noMedication.files.has('MedicationStatement'), 'no MedicationUse in the permit: no MedicationStatement leaves');
    const noPatient = await runExport(await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-no-patient', categories: ['Condition', 'MedicationUse'] }));
    assert.ok(!noPatient.files.has('Patient'), 'no Patient category: no Patient resource leaves');
    assert.ok((lines(noPatient.files.get('MedicationStatement')) as MedicationStatement[]).length > 0);
    // A permit naming a code outside the GF data-category list is refused at kick-off.
    const odd = await kickOff(await net.hdab.sign({ iss: HDAB_URL, categories: ['Problem'] }));
    assert.equal(odd.status, 403);
  });

  it('logs each exported patient for her own access log: permit, research organisation, purpose; never the research pseudonym', async () => {
    net.auditedPatients.length = 0;
    const permit = await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-logged', sub: '90000960' });
    const { files } = await runExport(permit);
    const exported = (lines(files.get('Patient')) as Patient[]).map((p) => p.id ?? '');
    const logged = net.auditedPatients.filter((a) => JSON.stringify(a.event).includes('permit-logged'));
    assert.deepEqual(logged.map((a) => a.bsn).sort(), cohortBsns().sort(), 'one event per exported patient, handed to the outbox with her BSN (sealed there)');
    for (const { event } of logged) {
      const permitEntity = event.entity?.find((e) => e.what?.identifier?.system === PERMIT_IDENTIFIER_SYSTEM);
      assert.equal(permitEntity?.what?.identifier?.value, 'permit-logged');
      assert.equal(permitEntity?.detail?.find((d) => d.type === PERMIT_DETAIL_RESEARCH_ORGANISATION)?.valueString, '90000960');
      assert.match(permitEntity?.description ?? '', /TIA/);
      assert.equal(event.purposeOfEvent?.[0]?.coding?.[0]?.code, PURPOSE_RESEARCH);
      const text = JSON.stringify(event);
      for (const id of exported) assert.ok(!text.includes(id), 'no research pseudonym in the citizen\'s log');
      for (const bsn of cohortBsns()) assert.ok(!text.includes(bsn), 'no BSN in the event');
    }
  });

  it('the PRS hands out research pseudonyms only under a valid permit and only to a holder', async () => {
    const bsn = cohortBsns()[0];
    const now = Math.floor(Date.now() / 1000);
    const refusals: Array<[string, string]> = [
      [await net.hdab.sign({ iss: HDAB_URL, jti: 'p-expired', exp: now - 60 }), 'p-expired'],
      [await foreignKey.sign({ iss: HDAB_URL, jti: 'p-foreign' }), 'p-foreign'],
      ['p-bare-id', 'p-bare-id'],
    ];
    for (const [jws, jti] of refusals) {
      await assert.rejects(net.prsClient.researchPseudonym(bsn, { jws, jti }), (e: Error) => /403/.test(e.message) || (e as { status?: number }).status === 403, jti);
    }
    const valid = await net.hdab.sign({ iss: HDAB_URL, jti: 'p-valid' });
    assert.match(await net.prsClient.researchPseudonym(bsn, { jws: valid, jti: 'p-valid' }), /^[0-9a-f]{40}$/);
    // The same valid permit, asked by the HDAB and by a care provider without the localisation qualification.
    for (const who of ['hdab', 'other'] as const) {
      const http = new PartClient({ tls: net.identities[who], maxRetries: 0 });
      try {
        await assert.rejects(new PrsClient(http, net.prsUrl).researchPseudonym(bsn, { jws: valid, jti: 'p-valid' }), (e: Error) => /403/.test(e.message) || (e as { status?: number }).status === 403, who);
      } finally {
        await http.close();
      }
    }
  });

  it('an objecting patient is absent, also when the objection arrives during the extraction', async () => {
    const cohort = cohortBsns();
    net.objecting.clear();
    net.objecting.add(cohort[0]);
    net.asked.length = 0;
    let late: string | undefined;
    // The first consent question of the run: another cohort patient objects now, before being asked.
    net.onQuestion = (q) => {
      if (late) return;
      late = cohort.find((b) => b !== q.bsn && !net.objecting.has(b) && !net.asked.some((a) => a.bsn === b));
      if (late) net.objecting.add(late);
    };
    try {
      const optOutPermit = await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-optout' });
      const { files } = await runExport(optOutPermit);
      const got = new Set((lines(files.get('Patient')) as Patient[]).map((p) => p.id));
      assert.ok(late);
      for (const bsn of [cohort[0], late]) assert.ok(!got.has(await net.prsClient.researchPseudonym(bsn, { jws: optOutPermit, jti: 'permit-optout' })), 'objector absent');
      assert.equal(got.size, cohort.length - 2);
    } finally {
      net.onQuestion = undefined;
      net.objecting.clear();
    }
  });

  it('the same patient under two permits gets two different, unlinkable pseudonyms', async () => {
    const [permitA, permitB] = [await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-a', types: ['Patient', 'Condition'] }), await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-b', types: ['Patient', 'Condition'] })];
    const a = await runExport(permitA);
    const b = await runExport(permitB);
    const bsn = cohortBsns()[0];
    const [pa, pb] = [await net.prsClient.researchPseudonym(bsn, { jws: permitA, jti: 'permit-a' }), await net.prsClient.researchPseudonym(bsn, { jws: permitB, jti: 'permit-b' })];
    assert.notEqual(pa, pb);
    const idsOf = (files: Map<string, string>) => new Set([...files.values()].flatMap((t) => lines(t)).map((r) => r.id));
    const [ia, ib] = [idsOf(a.files), idsOf(b.files)];
    assert.ok(ia.has(pa) && ib.has(pb));
    assert.deepEqual([...ia].filter((id) => ib.has(id)), [], 'no id (patient or record) recurs across the two extracts');
  });

  it('refuses expired, foreign, unsigned and missing permits, and types outside the permit (401/403, never 5xx)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string | undefined, number, RegExp, { type?: string }?]> = [
      [await net.hdab.sign({ iss: HDAB_URL, exp: now - 60 }), 403, /expired/],
      [await foreignKey.sign({ iss: HDAB_URL }), 403, /not signed by the HDAB/],
      [await net.hdab.sign({ iss: 'https://another-hdab.test' }), 403, /iss/],
      [`${Buffer.from('{"alg":"none","typ":"ldn-data-permit+jwt"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`, 403, /compact JWS/],
      [undefined, 401, /permit/],
      [await net.hdab.sign({ iss: HDAB_URL }), 403, /does not cover Observation/, { type: 'Patient,Observation' }],
    ];
    for (const [permit, status, re, opts] of cases) {
      const r = await kickOff(permit, opts);
      assert.equal(r.status, status, r.text.slice(0, 300));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.match(r.body.issue.map((i) => i.diagnostics).join(' '), re);
    }
    const noPrefer = await kickOff(await net.hdab.sign({ iss: HDAB_URL }), { prefer: null });
    assert.equal(noPrefer.status, 400);
  });

  it('refuses a caller that is not the HDAB, and the HDAB once suspended', async () => {
    const otherTokens = new TrustTokenProvider({ tls: net.identities.other, ura: OTHER, tokenEndpoint: `${net.node.url}/oauth/token` });
    const other = new PartClient({ tls: net.identities.other, tokens: otherTokens, maxRetries: 0 });
    const plain = new PartClient({ tls: net.identities.other, maxRetries: 0 });
    try {
      const permit = await net.hdab.sign({ iss: HDAB_URL });
      await assert.rejects(otherTokens.token(base, EXPORT_SCOPE), 'a care provider gets no export token');
      const r = await plain.call<OperationOutcome>(`${base}/fhir/$export`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', prefer: 'respond-async' }, body: { resourceType: 'Parameters', parameter: [{ name: 'permit', valueString: permit }] } });
      assert.equal(r.status, 401);
      // The HDAB's own token, presented over another organisation's certificate: bound to the HDAB's.
      const token = await net.hdabTokens.token(base, EXPORT_SCOPE);
      const stolen = await plain.call<OperationOutcome>(`${base}/fhir/$export`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', prefer: 'respond-async' }, body: { resourceType: 'Parameters', parameter: [{ name: 'permit', valueString: permit }] } });
      assert.ok([401, 403].includes(stolen.status), `stolen token: ${stolen.status}`);
      net.participants.set(HDAB, { ...net.participants.get(HDAB)!, status: 'suspended' });
      const suspended = await kickOff(permit);
      assert.equal(suspended.status, 403);
    } finally {
      net.participants.set(HDAB, { ...net.participants.get(HDAB)!, status: 'admitted' });
      await other.close();
      await plain.close();
      await otherTokens.close?.();
    }
  });

  it('a job left running by a stopped node instance is taken over and completed (jobs live in the node\'s tables)', async () => {
    const permit = await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-restart' });
    // What an instance that stopped mid-extraction leaves behind: a running job, a partial file, a lease that ran out.
    const gone = new JobStore(net.node.store, 'stopped-instance', 60_000);
    const id = randomUUID();
    await gone.create({ id, tenantUra: GP, permitJti: 'permit-restart', requesterUra: HDAB, permit, types: ['Patient', 'Condition', 'MedicationStatement'], requestUrl: `${base}/fhir/$export`, transactionTime: new Date().toISOString(), expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    await gone.addFile(id, 0, 'Patient', 1, '{"resourceType":"Patient","id":"partial"}\n');
    await net.node.store.query(`UPDATE bulk_export_jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
    let manifest: BulkManifest | undefined;
    for (let i = 0; !manifest && i < 1200; i++) {
      const r = await get<BulkManifest>(`${base}/fhir/$export-status/${id}`);
      if (r.status === 200) manifest = r.body;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(manifest, 'the export completed on the running instance');
    const patients = manifest.output.filter((f) => f.type === 'Patient');
    assert.equal(patients.reduce((n, f) => n + f.count, 0), cohortBsns().length, 'the partial output was dropped and the job run again');
    const text = (await get<string>(patients[0].url)).text;
    assert.ok(!text.includes('partial'));
  });

  it('DELETE on the status URL cancels the export and removes its files', async () => {
    const k = await kickOff(await net.hdab.sign({ iss: HDAB_URL, jti: 'permit-cancel' }));
    assert.equal(k.status, 202);
    const statusUrl = k.headers['content-location'];
    const del = await get(statusUrl, 'DELETE');
    assert.equal(del.status, 202);
    assert.equal((await get(statusUrl)).status, 404);
    // A write after the cancel is refused in the same transaction that checks the status.
    const after = await net.node.store.query<{ n: string }>(`SELECT count(*) AS n FROM bulk_export_files f JOIN bulk_export_jobs j ON j.id = f.job_id WHERE j.permit_jti = 'permit-cancel'`);
    assert.equal(Number(after[0].n), 0, 'no files of a cancelled export');
  });
});
