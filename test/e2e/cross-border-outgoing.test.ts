import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Condition, MedicationStatement, OperationOutcome } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { crossBorderEvents } from '../../src/ncpeh/audit.ts';
import { incomingTerms, ORIGIN_TAG_SYSTEM, OUTGOING_SUMMARY_PATH } from '../../src/ncpeh/contract.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Cross-border care the other way round (issue 21, item 4): the Netherlands is the country of
// treatment. Dr. Bakker (medisch specialist, Ziekenhuis Veluwe) sees Mme Lambert, a Belgian
// citizen. Her organisation asks NCPeH-NL with its own certificate and her verklaring; NCPeH-NL
// vouches for her to Belgium with its signed assertion, reaching Belgium's gateway only through
// the trust list; Belgium identifies Mme Lambert by national register number and demographics
// and answers; NCPeH-NL transcodes to the Dutch terms. Both contact points audit every request.

const BAKKER = { dezi: '900001011', ura: '90000101' };
const VISSER_NURSE = '900001013';
const LAMBERT = { id: '68041200227', given: 'Camille', family: 'Lambert', birthDate: '1968-04-12' };

const outcome = (b: unknown) => JSON.stringify((b as OperationOutcome).issue?.map((i) => [i.code, i.diagnostics]));
const last = (events: AuditEvent[], service: string) => events.filter((e) => e.subtype?.[0].code === service).at(-1);

describe('a Dutch clinician fetches a foreign patient\'s summary through NCPeH-NL', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let client: PartClient;
  let bakker: string;
  const ask = (verklaring: string, body: Record<string, unknown>) =>
    client.call<Bundle | OperationOutcome>(`${sandbox.crossBorder!.ncpeh.url}${OUTGOING_SUMMARY_PATH}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'dezi-verklaring': verklaring },
      deadlineMs: 60_000,
    });
  const nlEvents = () => crossBorderEvents(sandbox.crossBorder!.ncpeh.store);
  const beEvents = () => crossBorderEvents(sandbox.crossBorder!.belgium.ncpeh.store);

  before(async () => {
    sandbox = await startTestSandbox();
    client = new PartClient({ tls: sandbox.identities.participants.get(BAKKER.ura)!, maxRetries: 0 });
    bakker = await clinicianVerklaring(sandbox, BAKKER.dezi);
  });
  after(async () => {
    await client?.close();
    await sandbox?.stop();
  });

  it('finds Mme Lambert in Belgium and answers with Dutch terms beside the Belgian ones; both sides audit it', async () => {
    const r = await ask(bakker, { country: 'BE', patient: LAMBERT });
    assert.equal(r.status, 200, outcome(r.body));
    const bundle = r.body as Bundle;
    assert.equal(bundle.type, 'document');
    assert.deepEqual(bundle.meta?.tag?.find((t) => t.system === ORIGIN_TAG_SYSTEM), { system: ORIGIN_TAG_SYSTEM, code: 'BE', display: 'NCPeH België' });
    assert.equal(bundle.meta?.source, sandbox.crossBorder!.trustList.content.entries.find((e) => e.country === 'BE')!.gatewayUrl);
    const conditions = (bundle.entry ?? []).map((e) => e.resource).filter((x): x is Condition => x?.resourceType === 'Condition');
    const diabetes = incomingTerms(conditions.find((c) => /Diabète/.test(c.code?.text ?? ''))!.code);
    assert.equal(diabetes.dutch, 'Diabetes mellitus type 2');
    assert.equal(diabetes.original, 'Diabète sucré de type 2');
    assert.ok(diabetes.originalCodes.some((c) => c.code === '10071385'), 'Belgium\'s own code kept');
    const dafalgan = (bundle.entry ?? []).map((e) => e.resource).find((x): x is MedicationStatement => x?.resourceType === 'MedicationStatement' && /Dafalgan/.test(x.medicationCodeableConcept?.text ?? ''))!;
    assert.equal(incomingTerms(dafalgan.medicationCodeableConcept).dutch, 'paracetamol');

    const nl = last(await nlEvents(), 'outgoing-patient-summary')!;
    assert.equal(nl.outcome, '0');
    assert.equal(nl.agent?.[0].who?.identifier?.value, BAKKER.dezi);
    assert.equal(nl.agent?.[0].role?.[0].coding?.[0].code, '2212', 'vouched for as a specialist medical practitioner');
    assert.ok(!JSON.stringify(nl).includes(LAMBERT.id), 'the foreign number is kept only as a keyed hash');
    const be = last(await beEvents(), 'patient-summary')!;
    assert.equal(be.outcome, '0');
    assert.equal(be.source?.type?.[0].code, 'country-of-affiliation');
    assert.equal(be.agent?.[1].location?.display, 'NL');
    assert.equal(be.agent?.[0].who?.identifier?.value, BAKKER.dezi, 'Belgium knows who asked, from NCPeH-NL\'s assertion');
  });

  it('refuses a demographics mismatch and an unknown number alike: existence is not revealed', async () => {
    const wrongBirth = await ask(bakker, { country: 'BE', patient: { ...LAMBERT, birthDate: '1968-04-13' } });
    const unknown = await ask(bakker, { country: 'BE', patient: { ...LAMBERT, id: '68041200128' } });
    assert.equal(wrongBirth.status, 404, outcome(wrongBirth.body));
    assert.equal(unknown.status, 404, outcome(unknown.body));
    assert.equal(outcome(wrongBirth.body), outcome(unknown.body));
    const reasons = (await beEvents()).slice(-2).map((e) => [e.outcome, e.outcomeDesc]);
    assert.deepEqual(reasons, [
      ['4', 'demographics do not match the national register'],
      ['4', 'no such national register number'],
    ], 'Belgium knows why; the Netherlands does not');
    assert.equal(last(await nlEvents(), 'outgoing-patient-summary')?.outcome, '4');
  });

  it('refuses a role the agreements do not admit (a nurse) before Belgium is asked', async () => {
    const nurse = await clinicianVerklaring(sandbox, VISSER_NURSE);
    const before = (await beEvents()).length;
    const r = await ask(nurse, { country: 'BE', patient: LAMBERT });
    assert.equal(r.status, 403, outcome(r.body));
    assert.match(outcome(r.body), /role \(30\.000\)/);
    assert.equal((await beEvents()).length, before, 'nothing went abroad');
    const nl = last(await nlEvents(), 'outgoing-patient-summary')!;
    assert.equal(nl.outcome, '4');
    assert.match(nl.outcomeDesc ?? '', /30\.000 is not admitted/);
  });

  it('says unknown country, a bad request, a missing or another organisation\'s verklaring as OperationOutcomes, never a 500', async () => {
    const xx = await ask(bakker, { country: 'XX', patient: LAMBERT });
    assert.equal(xx.status, 404);
    assert.match(outcome(xx.body), /trust list/);
    const bad = await ask(bakker, { country: 'BE', patient: { ...LAMBERT, birthDate: '12-04-1968' } });
    assert.equal(bad.status, 400, outcome(bad.body));
    const none = await client.call(`${sandbox.crossBorder!.ncpeh.url}${OUTGOING_SUMMARY_PATH}`, { method: 'POST', body: { country: 'BE', patient: LAMBERT } });
    assert.equal(none.status, 401);
    assert.equal((none.body as OperationOutcome).resourceType, 'OperationOutcome');
    // A GP's verklaring (another organisation) presented with the hospital's certificate.
    const otherOrganisation = await ask(await clinicianVerklaring(sandbox, '900001031'), { country: 'BE', patient: LAMBERT });
    assert.equal(otherOrganisation.status, 403, outcome(otherOrganisation.body));
    assert.match(outcome(otherOrganisation.body), /verklaring refused/);
  });

  it('says Belgium is unreachable when its gateway is down (504), and audits the failure', async () => {
    await sandbox.crossBorder!.belgium.affiliation!.gateway!.close();
    const r = await ask(bakker, { country: 'BE', patient: LAMBERT });
    assert.equal(r.status, 504, outcome(r.body));
    assert.match(outcome(r.body), /could not be reached/);
    const nl = last(await nlEvents(), 'outgoing-patient-summary')!;
    assert.equal(nl.outcome, '8');
  });
});
