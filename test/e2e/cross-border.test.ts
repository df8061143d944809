import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Composition, MedicationDispense, MedicationRequest, OperationOutcome } from '@medplum/fhirtypes';
import { ConsentRegistry } from '../../src/consent/registry.ts';
import { testBsn } from '../../src/kit/identifiers/bsn.ts';
import { crossBorderEvents } from '../../src/ncpeh/audit.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { BELGIUM } from '../../src/sandbox/second-country.ts';
import { askSummary, belgianCall, DE_GROOT_DEMOGRAPHICS } from './cross-border-helpers.ts';
import { apiOverview, citizenPortalLogin, clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Cross-border care (issue 21), end to end across two countries with their own CAs: Mr De Groot,
// on holiday in Belgium, is seen at UZ Brussel; Dr. Dubois asks Belgium's contact point for his
// patient summary, which asks NCPeH-NL through the mutually signed trust list; NCPeH-NL identifies
// him by BSN and demographics, maps her role, applies his consent, assembles the IPS from the
// Dutch holders through its node's data-integration function, and both sides audit it.

/** The NL contact point's recorded reasons (its answer to the foreign side does not say them). */
async function lastReasons(sandbox: Sandbox): Promise<string> {
  const events = await crossBorderEvents(sandbox.crossBorder!.ncpeh.store);
  return JSON.stringify(events.slice(-10).map((e) => [e.subtype?.[0].code, e.outcome, e.outcomeDesc]));
}

const outcomeText = (b: unknown) => JSON.stringify((b as OperationOutcome).issue?.map((i) => [i.code, i.diagnostics]));

describe('cross-border patient summary (NCPeH)', { timeout: 400_000 }, () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: 20_000 });
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('a Belgian doctor receives De Groot\'s summary: an IPS document with his contrast allergy', async () => {
    // A cold first fan-out on a loaded machine may miss a holder: the doctor asks again (askSummary).
    const r = await askSummary<Bundle>(sandbox, DE_GROOT_DEMOGRAPHICS);
    assert.equal(r.status, 200, `${JSON.stringify(r.body).slice(0, 600)}\nNL audit: ${await lastReasons(sandbox)}`);
    assert.equal(r.body.type, 'document');
    const composition = r.body.entry?.[0].resource as Composition;
    assert.equal(composition.type.coding?.[0].code, '60591-5');
    const text = JSON.stringify(r.body);
    assert.match(text, /AllergyIntolerance/);
    assert.match(text, /Ziekenhuis Leiden/, 'each item keeps its Dutch source');
    assert.ok(!text.includes('Buitenland'), 'the requester\'s label stays in the Dutch logs');
  });

  it('a demographics mismatch and an unknown BSN get the same refusal: existence is not revealed', async () => {
    const wrongBirth = await askSummary(sandbox, { ...DE_GROOT_DEMOGRAPHICS, birthDate: '1975-03-12' });
    const wrongName = await askSummary(sandbox, { ...DE_GROOT_DEMOGRAPHICS, family: 'de Vries' });
    const unknown = await askSummary(sandbox, { ...DE_GROOT_DEMOGRAPHICS, bsn: testBsn(7_654_321) });
    for (const r of [wrongBirth, wrongName, unknown]) assert.equal(r.status, 404, outcomeText(r.body));
    assert.equal(outcomeText(wrongBirth.body), outcomeText(unknown.body));
    assert.equal(outcomeText(wrongName.body), outcomeText(unknown.body));
    const reasons = await lastReasons(sandbox);
    assert.match(reasons, /demographics do not match a patient record.*demographics do not match a patient record.*no patient record/, 'NL knows why; abroad nobody does');
    const invalid = await askSummary(sandbox, { ...DE_GROOT_DEMOGRAPHICS, bsn: '123456789' });
    assert.equal(invalid.status, 400, 'a number that is no BSN is the caller\'s mistake');
  });

  it('a foreign role without a mapping in the agreements is refused', async () => {
    const nurse = { id: 'BE-3001', name: 'Nurse Anne Lemaire', role: '2221' };
    const r = await askSummary(sandbox, DE_GROOT_DEMOGRAPHICS, nurse);
    assert.equal(r.status, 403, outcomeText(r.body));
    // The pharmacist's role maps, but not for the patient summary.
    const pharmacist = await askSummary(sandbox, DE_GROOT_DEMOGRAPHICS, BELGIUM.pharmacist);
    assert.equal(pharmacist.status, 403);
  });

  it('only the organisations of the trust list get through: a Belgian pharmacy may not ask for a summary, a Dutch certificate cannot reach the gateway', async () => {
    const r = await askSummary(sandbox, DE_GROOT_DEMOGRAPHICS, undefined, 'pharmacy');
    assert.equal(r.status, 403);
    const { PartClient } = await import('../../src/kit/http/client.ts');
    const dutch = new PartClient({ tls: sandbox.identities.participants.get('90000101')!, maxRetries: 0 });
    try {
      await assert.rejects(dutch.call(`${sandbox.crossBorder!.ncpehRuntime.gateway!.url}/ncp/patient-summary`, { method: 'POST', body: {} }));
    } finally {
      await dutch.close();
    }
  });

  it('every access is in both contact points\' audit trails, and in De Groot\'s access log as abroad', async () => {
    const nl = await crossBorderEvents(sandbox.crossBorder!.ncpeh.store);
    const be = await crossBorderEvents(sandbox.crossBorder!.belgium.ncpeh.store);
    const summaryEvents = (events: typeof nl, outcome: string) => events.filter((e) => e.subtype?.[0].code === 'patient-summary' && e.outcome === outcome);
    assert.ok(summaryEvents(nl, '0').length >= 1, 'NL: the answered summary');
    assert.ok(summaryEvents(be, '0').length >= 1, 'BE: the answered summary');
    assert.ok(summaryEvents(nl, '4').length >= 3, 'NL: the refusals');
    assert.ok(summaryEvents(be, '4').length >= 3, 'BE: the refusals');
    for (const e of [...nl, ...be]) assert.ok(!JSON.stringify(e).includes(DE_GROOT.bsn), 'no BSN in either audit trail');
    const answered = summaryEvents(nl, '0')[0];
    assert.match(JSON.stringify(answered), /Dr\. Claire Dubois/);
    assert.match(JSON.stringify(answered), /UZ Brussel/);
    // Both sides name the same access by the W3C trace the Belgian side started.
    const traceOf = (e: (typeof nl)[number]) => e.entity?.find((x) => x.what?.identifier?.system?.endsWith('/trace'))?.what?.identifier?.value;
    assert.ok(summaryEvents(be, '0').some((e) => traceOf(e) === traceOf(answered)));

    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const page = await browser.request(`${base}/access`);
        assert.equal(page.status, 200);
        if (page.body.includes('Buitenland, door België, UZ Brussel')) break;
        if (Date.now() > deadline) assert.fail(`no cross-border line in the access log: ${page.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 3000)}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await browser.close();
    }
  });

  it('ePrescription: the Belgian pharmacy lists his open prescriptions, dispenses atorvastatin, and the dispensation is back at his GP, in the next overview', async () => {
    const who = { country: 'NL', patient: DE_GROOT_DEMOGRAPHICS, professional: BELGIUM.pharmacist };
    let list = await belgianCall<Bundle>(sandbox, 'pharmacy', '/cross-border/eprescriptions', who);
    // A loaded machine may miss the fan-out deadline: the pharmacist asks again, as she would.
    for (let i = 0; i < 4 && (list.status === 503 || list.status === 504); i++) list = await belgianCall<Bundle>(sandbox, 'pharmacy', '/cross-border/eprescriptions', who);
    assert.equal(list.status, 200, `${JSON.stringify(list.body).slice(0, 600)}\nNL audit: ${await lastReasons(sandbox)}`);
    const orders = (list.body.entry ?? []).map((e) => e.resource as MedicationRequest);
    const atorvastatin = orders.find((o) => JSON.stringify(o.medicationCodeableConcept ?? o.contained ?? '').includes('C10AA05'));
    assert.ok(atorvastatin?.id, `an open atorvastatin prescription: ${JSON.stringify(orders).slice(0, 800)}`);
    assert.ok(orders.every((o) => o.status === 'active'), 'only open prescriptions');
    // A doctor's role does not map to ePrescription; a hospital may not use the pharmacy's door.
    assert.equal((await belgianCall(sandbox, 'pharmacy', '/cross-border/eprescriptions', { ...who, professional: BELGIUM.clinician })).status, 403);
    assert.equal((await belgianCall(sandbox, 'hospital', '/cross-border/eprescriptions', who)).status, 403);
    // A prescription the list did not give is refused, whatever it is called.
    const bogus = await belgianCall(sandbox, 'pharmacy', '/cross-border/edispensations', { ...who, dispense: { prescription: '90000103.nope', quantity: { value: 30, unit: 'tablet' }, whenHandedOver: new Date().toISOString() } });
    assert.equal(bogus.status, 404);

    const handedOver = new Date().toISOString();
    const dispense = () => belgianCall<MedicationDispense>(sandbox, 'pharmacy', '/cross-border/edispensations', { ...who, dispense: { prescription: atorvastatin.id, quantity: { value: 30, unit: 'tablet' }, whenHandedOver: handedOver } });
    let dispensed = await dispense();
    // 503: the fresh list it checks against did not come in time; nothing was delivered, so asking again is safe.
    for (let i = 0; i < 3 && dispensed.status === 503; i++) dispensed = await dispense();
    assert.equal(dispensed.status, 201, `${JSON.stringify(dispensed.body).slice(0, 600)}\nNL audit: ${await lastReasons(sandbox)}`);
    assert.equal(dispensed.body.resourceType, 'MedicationDispense');

    // Back home, the emergency physician's next overview shows it, from his GP, marked as abroad.
    const verklaring = await clinicianVerklaring(sandbox, '900001011');
    let found: MedicationDispense | undefined;
    for (let i = 0; i < 3 && !found; i++) {
      const r = await apiOverview(sandbox, { ura: '90000101', verklaring, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
      assert.equal(r.status, 200);
      found = ((r.body as Bundle).entry ?? []).map((e) => e.resource).find((x): x is MedicationDispense => x?.resourceType === 'MedicationDispense' && JSON.stringify(x).includes('Pharmacie du Sablon'));
    }
    assert.ok(found, 'the foreign dispensation is in the overview');
    assert.match(JSON.stringify(found), /Buitenland, door België, Pharmacie du Sablon/);
    // Kept by the prescriber the handle names (his GP, for De Groot's atorvastatin).
    assert.ok(JSON.stringify(found).includes(`"value":"${atorvastatin.id.split('.')[0]}"`), 'kept by the prescriber');
    const nl = await crossBorderEvents(sandbox.crossBorder!.ncpeh.store);
    const be = await crossBorderEvents(sandbox.crossBorder!.belgium.ncpeh.store);
    for (const events of [nl, be]) {
      assert.ok(events.some((e) => e.subtype?.[0].code === 'eprescription-list' && e.outcome === '0'), 'the list, on both sides');
      assert.ok(events.some((e) => e.subtype?.[0].code === 'edispensation' && e.outcome === '0'), 'the dispensation, on both sides');
    }
  });

  it('refused once De Groot forbids cross-border sharing, with the same answer as for an unknown patient', async () => {
    // In his portal he chooses: do not share with care providers abroad (requester kind NCP).
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const page = await browser.request(`${base}/consent`);
      assert.match(page.body, /zorgverleners in het buitenland/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
      assert.ok(csrf);
      const saved = await browser.request(`${base}/consent`, { form: { csrf, provision: 'deny', scope: 'type', type: 'NCP' } });
      assert.equal(saved.status, 303, saved.body.slice(0, 300));
    } finally {
      await browser.close();
    }
    const records = await new ConsentRegistry(sandbox.central.consent.store).recordsOf(DE_GROOT.bsn);
    assert.ok(records.some((r) => r.provision === 'deny' && r.requesterTypes.includes('NCP') && r.status === 'active'), 'recorded in the consent registry');
    const r = await askSummary(sandbox, DE_GROOT_DEMOGRAPHICS);
    assert.equal(r.status, 404, outcomeText(r.body));
    const unknown = await askSummary(sandbox, { ...DE_GROOT_DEMOGRAPHICS, bsn: testBsn(7_654_321) });
    assert.equal(outcomeText(r.body), outcomeText(unknown.body));
    const nl = await crossBorderEvents(sandbox.crossBorder!.ncpeh.store);
    assert.ok(nl.some((e) => e.outcome === '4' && e.outcomeDesc === 'cross-border sharing refused by the patient'), `NL audits the reason it did not tell: ${await lastReasons(sandbox)}`);
  });
});
