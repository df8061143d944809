import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Composition, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { bgzSections } from '../../src/node/consumer/summary/bgz-sections.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { apiOverview, clinicianVerklaring, overviewSetup } from './sandbox-helpers.ts';

// The summaries' stories (issue 19). BgZ: internist M. van Dijk at Ziekenhuis Veluwe takes over
// De Groot's care after his TIA and asks for his Basisgegevensset Zorg: the zib sections the
// agreements list come from Leiden and his GP, each item with its source. IPS: she asks her node
// for his International Patient Summary (Patient/$summary), a FHIR document that could later
// leave the country: a Composition with allergies (Leiden's contrast allergy), problems and
// medication (the GP's), the sections the IPS requires.

const VELUWE = '90000101';
const VAN_DIJK = '900001012'; // internist, Veluwe
const SMIT = '900001014'; // doktersassistent, Veluwe: no physician

describe('BgZ and IPS stories', { timeout: 400_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  before(async () => {
    ({ sandbox, verklaring } = await overviewSetup({ overviewDeadlineMs: 12_000 }, VAN_DIJK));
  });
  after(async () => {
    await sandbox?.stop();
  });

  const summary = async (who: string, bsn: string) => {
    const participant = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!;
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(participant.nodeUrl!).origin}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
    try {
      return await client.call<Bundle>(
        `${participant.nodeUrl}/fhir/Patient/$summary?identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`)}`,
        { scope: 'ips', resource: participant.nodeUrl, userAssertion: who, headers: { 'dezi-verklaring': who } },
      );
    } finally {
      await client.close();
      await tokens.close?.();
    }
  };

  it('BgZ: the internist receives the zib sections, each item with its source', async () => {
    // On a loaded machine the first (cold) overview may miss a holder's deadline: she asks again,
    // as a clinician would; the sections are checked on an answer where every holder answered.
    let r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: 'bgz' });
    for (let i = 0; i < 3 && JSON.stringify(r.body).includes('holder-timeout'); i++) {
      r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, exchange: 'bgz' });
    }
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    const bundle = r.body as unknown as Bundle;
    const problems = (bundle.entry ?? []).map((e) => e.resource).filter((x) => x?.resourceType === 'OperationOutcome');
    const sections = new Map(bgzSections(bundle).map((s) => [s.zib, s.count]));
    // What his holders record about him: every one of these sections has data.
    for (const zib of [
      'nl.zorg.Patient',
      'nl.zorg.Probleem',
      'nl.zorg.AllergieIntolerantie',
      'nl.zorg.MedicatieGebruik2',
      'nl.zorg.Medicatieafspraak',
      'nl.zorg.Vaccinatie',
      'nl.zorg.Bloeddruk',
      'nl.zorg.LaboratoriumUitslag',
      'nl.zorg.Verrichting',
      'nl.zorg.Contact',
    ]) {
      assert.ok((sections.get(zib) ?? 0) > 0, `${zib} has data: ${JSON.stringify([...sections])} ${JSON.stringify(problems)}`);
    }
    // The BgZ's holders are hospitals and GPs: the pharmacy's dispenses are not part of it.
    assert.equal(sections.get('nl.zorg.Verstrekking'), 0);
    const clinical = (bundle.entry ?? []).map((e) => e.resource as Resource).filter((x) => !['Patient', 'Provenance', 'OperationOutcome'].includes(x.resourceType));
    for (const x of clinical) assert.ok(JSON.stringify(x).includes('source-organization'), `${x.resourceType} names its source`);
    const text = JSON.stringify(r.body);
    assert.match(text, /Ziekenhuis Leiden/);
    assert.match(text, /Huisartsenpraktijk Kerkrade/);
  });

  it('IPS: Patient/$summary returns a document Bundle with the Composition and the required sections', async () => {
    const r = await summary(verklaring, DE_GROOT.bsn);
    assert.equal(r.status, 200, r.text.slice(0, 500));
    assert.equal(r.body.resourceType, 'Bundle');
    assert.equal(r.body.type, 'document');
    const composition = r.body.entry?.[0].resource as Composition;
    assert.equal(composition.resourceType, 'Composition');
    assert.equal(composition.type.coding?.[0].code, '60591-5');
    const byCode = new Map(composition.section?.map((s) => [s.code?.coding?.[0].code, s]));
    const urls = new Map(r.body.entry?.map((e) => [e.fullUrl, e.resource as Resource]));
    const itemsOf = (code: string) => (byCode.get(code)?.entry ?? []).map((ref) => urls.get(ref.reference));
    // Allergies (IPS required): Leiden's contrast allergy.
    assert.ok(itemsOf('48765-2').some((a) => /contrast/i.test(JSON.stringify(a))), 'the contrast allergy');
    // Problems (required): the GP's hypertension and diabetes.
    assert.ok(itemsOf('11450-4').length >= 3, 'his problem list');
    // Medication (required): the GP's prescriptions.
    assert.ok(itemsOf('10160-0').some((m) => /atorvastatin/i.test(JSON.stringify(m))), 'atorvastatin');
    for (const ref of composition.section?.flatMap((s) => s.entry ?? []) ?? []) assert.ok(urls.has(ref.reference), `${ref.reference} is in the document`);
    assert.ok(urls.get(composition.subject?.reference)?.resourceType === 'Patient');
  });

  it('IPS: refused for a role the ips exchange does not admit, with an OperationOutcome', async () => {
    const assistant = await clinicianVerklaring(sandbox, SMIT);
    const r = await summary(assistant, DE_GROOT.bsn);
    assert.equal(r.status, 403, r.text.slice(0, 300));
    assert.match(JSON.stringify(r.body), /role 88\.000 may not request ips/);
  });

  it('IPS: a malformed identifier is a 400 OperationOutcome', async () => {
    const r = await summary(verklaring, '123');
    assert.equal(r.status, 400, r.text.slice(0, 300));
    assert.equal((r.body as unknown as OperationOutcome).resourceType, 'OperationOutcome');
  });
});
