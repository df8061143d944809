import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import { consentResource, emptyScope } from '../../src/consent/fhir.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { CODE_SYSTEM, SYSTEM } from '../../src/kit/identifiers/systems.ts';
import { newTrace } from '../../src/kit/trace.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { apiOverview, clinicianLogin, openOverview, overviewSetup } from './sandbox-helpers.ts';

// What a clinician sees must be safe (issue 14, unsafe items 1 and 2), end to end:
// - a data category a holder did not release on the patient's choice is said to be withheld, in
//   the $overview Bundle (OperationOutcome `suppressed` naming the category) and in that section
//   of the viewer, whether or not data exists in it; never "no data";
// - a holder that refused on the patient's choice is not named; a holder type the exchange's
//   agreements do not list as a holder (the physiotherapist, for acute care) is not even asked.

const VELUWE = '90000101';
const GP = '90000103';
const PHARMACY = '90000104';
const HOME_CARE = '90000105';
const PHYSIO = '90000106';
const BAKKER = '900001011'; // emergency physician, Veluwe
const OBJECTOR = CITIZENS[1]; // the seed records his general objection; GP, pharmacy, home care and physio hold data

type Issue = { code: string; kind?: string; category?: string; uras: string[]; text: string };
const issues = (b: Bundle): Issue[] =>
  (b.entry ?? [])
    .map((e) => e.resource as Resource)
    .filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome')
    .map((o) => ({
      code: o.issue[0].code,
      kind: o.issue[0].details?.coding?.find((c) => c.system === CODE_SYSTEM.overviewOutcome)?.code,
      category: o.issue[0].details?.coding?.find((c) => c.system === CODE_SYSTEM.dataCategories)?.code,
      uras: (o.issue[0].details?.coding ?? []).filter((c) => c.system === SYSTEM.ura).map((c) => String(c.code)),
      text: JSON.stringify(o),
    }));
const entries = (b: unknown) => (b as Bundle).entry ?? [];
/** The HTML of one section of the viewer's overview page. */
const sectionHtml = (page: string, group: string) =>
  [...page.matchAll(/<section aria-labelledby="g-[^"]+" data-section="([^"]+)">[\s\S]*?<\/section>/g)].find((m) => m[1] === group)?.[0] ?? '';

describe("withheld data is said, and holders refusing on the patient's choice are not named", { timeout: 600_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  before(async () => {
    ({ sandbox, verklaring } = await overviewSetup({ overviewDeadlineMs: 8000 }));
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('a general objection: every category is said to be withheld, no holder is named, the physiotherapist is not asked', async () => {
    // On a cold sandbox a holder's consent question may time out: that is said per category too
    // (unnamed, as it may hide the objection), and the overview is asked again until it settles.
    let trace = newTrace();
    let r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: OBJECTOR.bsn, trace });
    for (let i = 0; ; i++) {
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
      const text = JSON.stringify(r.body);
      for (const ura of [GP, PHARMACY, HOME_CARE, PHYSIO]) assert.ok(!text.includes(ura), `URA ${ura} is named in ${text.slice(0, 2000)}`);
      for (const name of ['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade', 'Thuiszorg Limburg', 'Fysiotherapie Kerkrade']) assert.ok(!text.includes(name), `${name} is named`);
      if (i >= 5 || !issues(r.body as Bundle).some((x) => x.kind === 'category-consent-unknown')) break;
      trace = newTrace();
      r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: OBJECTOR.bsn, trace });
    }
    const withheld = issues(r.body as Bundle).filter((i) => i.kind === 'withheld-objection');
    const categories = new Set(withheld.map((i) => i.category));
    for (const c of ['Patient', 'AllergyIntolerance', 'MedicationUse', 'Condition', 'Alert', 'ObservationLaboratory']) {
      assert.ok(categories.has(c), `${c} is not said to be withheld: ${JSON.stringify(issues(r.body as Bundle).map((i) => [i.kind, i.category]))}`);
    }
    for (const i of withheld) assert.equal(i.code, 'suppressed');
    assert.ok(!entries(r.body).some((e) => e.resource?.resourceType === 'Patient'));

    // The physiotherapist, a holder type acute care does not list, was never asked: its log has no access.
    const zuid = sandbox.nodes.find((n) => n.runtime()?.tenants.has(PHYSIO))!.runtime()!;
    await new Promise((res) => setTimeout(res, 500));
    const events = (await eventsByTraceId(zuid.ctx.store, trace.traceId)) as AuditEvent[];
    assert.ok(events.length >= 2, `the GP and the pharmacy were asked (${events.length} events)`);
    assert.ok(!JSON.stringify(events).includes(PHYSIO), 'the physiotherapist was asked');
  });

  it('a general objection on screen: the patient card and every section say why, nothing says "no data" or names a holder', async () => {
    const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
    const page = await openOverview(browser, viewer, OBJECTOR.bsn);
    assert.equal(page.status, 200, page.body.slice(0, 500));
    const card = /<section class="patient-card"[\s\S]*?<\/section>/.exec(page.body)?.[0] ?? '';
    assert.match(card, /Niet gedeeld op verzoek van de patiënt/);
    for (const group of ['allergies', 'medication', 'problems', 'results']) {
      const html = sectionHtml(page.body, group);
      assert.match(html, /Niet gedeeld op verzoek van de patiënt/, `${group}: ${html}`);
      assert.doesNotMatch(html, /Geen gegevens/, group);
    }
    for (const name of ['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade', 'Thuiszorg Limburg', 'Fysiotherapie Kerkrade']) assert.ok(!page.body.includes(name), `${name} is named`);
  });

  it('emergency access that the objection still blocks says so, per section', async () => {
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: OBJECTOR.bsn, emergencyReason: 'bewusteloos binnengebracht' });
    assert.equal(r.status, 200);
    const blocked = issues(r.body as Bundle).filter((i) => i.kind === 'withheld-objection-emergency');
    assert.ok(blocked.some((i) => i.category === 'AllergyIntolerance'), JSON.stringify(issues(r.body as Bundle).map((i) => [i.kind, i.category])));
    assert.ok(!JSON.stringify(r.body).includes(GP));
    const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
    const page = await openOverview(browser, viewer, OBJECTOR.bsn, { emergencyReason: 'bewusteloos binnengebracht' });
    assert.match(sectionHtml(page.body, 'allergies'), /geldt ook bij noodtoegang/);
  });

  it("De Groot objects to sharing his allergies (and alerts, of which no holder has any): both are said withheld, Leiden's other data stays", async () => {
    const first = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
    assert.ok(entries(first.body).some((e) => e.resource?.resourceType === 'AllergyIntolerance'), 'the contrast allergy is shown before');
    assert.ok(!issues(first.body as Bundle).some((i) => i.category === 'Alert'), 'nothing is said about alerts before');

    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${sandbox.network.url('trust')}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0 });
    try {
      const consentUrl = sandbox.network.url('consent');
      const written = await client.call(`${consentUrl}/Consent`, {
        method: 'POST',
        body: consentResource({ ...emptyScope(), bsn: DE_GROOT.bsn, status: 'active', provision: 'deny', dataCategories: ['AllergyIntolerance', 'Alert'] }),
        scope: 'consent:write',
        resource: consentUrl,
        userAssertion: verklaring,
      });
      assert.equal(written.status, 201, written.text);
    } finally {
      await client.close();
      await tokens.close?.();
    }

    let latest = first;
    for (let i = 0; i < 40 && entries(latest.body).some((e) => e.resource?.resourceType === 'AllergyIntolerance'); i++) {
      await new Promise((res) => setTimeout(res, 500));
      latest = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
    }
    assert.ok(!entries(latest.body).some((e) => e.resource?.resourceType === 'AllergyIntolerance'), 'the allergy is no longer released');
    const allergies = issues(latest.body as Bundle).find((i) => i.category === 'AllergyIntolerance');
    assert.equal(allergies?.code, 'suppressed', JSON.stringify(issues(latest.body as Bundle)));
    assert.equal(allergies?.kind, 'withheld-objection');
    assert.deepEqual(allergies?.uras, []);
    assert.ok(!allergies?.text.includes('Leiden'));
    assert.equal(issues(latest.body as Bundle).find((i) => i.category === 'Alert')?.code, 'suppressed', 'said for a category without data too');
    // Leiden still released his problems: it is named as their source, not as a refuser.
    assert.ok(entries(latest.body).some((e) => e.resource?.resourceType === 'Condition' && JSON.stringify(e.resource).includes('Ziekenhuis Leiden')));
    assert.ok(!issues(latest.body as Bundle).some((i) => i.text.includes('Ziekenhuis Leiden')), 'no warning names Leiden for the withheld allergy');

    const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
    const page = await openOverview(browser, viewer, DE_GROOT.bsn);
    const html = sectionHtml(page.body, 'allergies');
    assert.match(html, /Niet gedeeld op verzoek van de patiënt/, html);
    assert.doesNotMatch(html, /Geen gegevens/);
    assert.match(sectionHtml(page.body, 'alerts'), /Niet gedeeld op verzoek van de patiënt/);
    assert.doesNotMatch(page.body, /antwoordde maar gedeeltelijk/);
  });
});
