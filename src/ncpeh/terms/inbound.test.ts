import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AllergyIntolerance, Bundle, CodeableConcept, ConceptMap, Condition, MedicationStatement, Resource } from '@medplum/fhirtypes';
import { BELGIAN_PATIENTS, belgianSummary } from '../foreign/belgian-patients.ts';
import { TRANSCODED, translationIn, UNTRANSLATED } from './extensions.ts';
import { incomingTerms } from './incoming-read.ts';
import { buildInboundTables, inboundConceptMaps, reversedTables, transcodeIncoming } from './inbound.ts';
import { shippedConceptMaps } from './tables.ts';

// The incoming direction: a Belgian summary read by a Dutch clinician. Each concept gains the Dutch
// term in front (with provenance), keeps Belgium's codings and text, and what has no row is said.

const LAMBERT = BELGIAN_PATIENTS[0];
const ofType = <T extends Resource>(b: Bundle, type: string) => (b.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
const byText = <T extends Resource>(b: Bundle, type: string, text: RegExp, concept: (r: T) => CodeableConcept | undefined) =>
  ofType<T>(b, type).find((r) => text.test(concept(r)?.text ?? '')) as T;

describe('incoming transcoding (foreign summary to Dutch terms)', () => {
  const input = belgianSummary(LAMBERT, new Date('2026-11-01T10:00:00Z'));
  const before = JSON.stringify(input);
  const out = transcodeIncoming(input);

  it('adds the Dutch term in front of a SNOMED CT problem and keeps the Belgian codings and text', () => {
    const diabetes = byText<Condition>(out, 'Condition', /Diabète/, (r) => r.code).code!;
    const [added, ...rest] = diabetes.coding!;
    assert.equal(added.system, 'http://snomed.info/sct');
    assert.equal(added.code, '44054006');
    assert.ok(added.extension?.some((e) => e.url === TRANSCODED), 'the added coding says where it came from');
    assert.equal(translationIn((added as { _display?: { extension?: unknown } })._display?.extension, 'nl'), 'Diabetes mellitus type 2');
    assert.deepEqual(
      rest.map((c) => `${c.system}|${c.code}`),
      ['http://snomed.info/sct|44054006', 'https://www.ehealth.fgov.be/standards/fhir/CodeSystem/ibui|10071385'],
    );
    assert.equal(diabetes.text, 'Diabète sucré de type 2');
    assert.deepEqual(incomingTerms(diabetes), {
      dutch: 'Diabetes mellitus type 2',
      original: 'Diabète sucré de type 2',
      originalCodes: [
        { system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' },
        { system: 'https://www.ehealth.fgov.be/standards/fhir/CodeSystem/ibui', code: '10071385', display: 'diabète de type 2' },
      ],
    });
  });

  it('gives the Dutch term of the active substance for a medicine Belgium names only by its CNK code', () => {
    const dafalgan = byText<MedicationStatement>(out, 'MedicationStatement', /Dafalgan/, (r) => r.medicationCodeableConcept).medicationCodeableConcept!;
    assert.equal(dafalgan.coding?.[0].system, 'http://www.whocc.no/atc');
    assert.equal(dafalgan.coding?.[0].code, 'N02BE01');
    const terms = incomingTerms(dafalgan);
    assert.equal(terms.dutch, 'paracetamol');
    assert.deepEqual(terms.originalCodes.map((c) => c.code), ['0026781']);
  });

  it('reads an allergy the Dutch holders code the same way back to their term (Penicillines)', () => {
    const allergy = ofType<AllergyIntolerance>(out, 'AllergyIntolerance')[0];
    assert.equal(incomingTerms(allergy.code).dutch, 'Penicillines');
    assert.equal(incomingTerms(allergy.reaction?.[0].manifestation[0]).dutch, 'Urticaria (netelroos)');
  });

  it('marks a concept without a row as untranslated, original kept, nothing invented', () => {
    const carpal = byText<Condition>(out, 'Condition', /canal carpien/, (r) => r.code).code!;
    assert.equal(carpal.coding?.length, 1, 'no coding added');
    assert.equal(carpal.extension?.find((e) => e.url === UNTRANSLATED)?.extension?.find((e) => e.url === 'reason')?.valueCode, 'no-mapping');
    const terms = incomingTerms(carpal);
    assert.equal(terms.dutch, undefined);
    assert.equal(terms.original, 'Syndrome du canal carpien droit');
    assert.equal(terms.untranslated, 'no-mapping');
  });

  it('leaves the input unchanged', () => {
    assert.equal(JSON.stringify(input), before);
  });

  it('reverses only equivalence rows, skips the unit labels, and keeps the first Dutch code when two share a target', () => {
    const map: ConceptMap = {
      resourceType: 'ConceptMap',
      status: 'active',
      url: 'https://example.test/cm',
      version: '1',
      group: [
        {
          source: 'urn:nl',
          target: 'urn:eu',
          element: [
            { code: 'a', display: 'eerste', target: [{ code: 'X', display: 'ex', equivalence: 'equivalent' }] },
            { code: 'b', display: 'tweede', target: [{ code: 'X', display: 'ex', equivalence: 'equivalent' }] },
            { code: 'c', display: 'breder', target: [{ code: 'Y', display: 'why', equivalence: 'wider' }] },
          ],
        },
        { source: 'https://ldn.example.nl/fhir/CodeSystem/nl-unit-label', target: 'http://unitsofmeasure.org', element: [{ code: 'stuks', target: [{ code: '1', display: 'unit', equivalence: 'equivalent' }] }] },
      ],
    };
    const tables = reversedTables([map]);
    assert.equal(tables.get('urn:eu')?.get('X')?.code, 'a');
    assert.equal(tables.get('urn:eu')?.get('X')?.translations.get('nl'), 'eerste');
    assert.equal(tables.get('urn:eu')?.has('Y'), false);
    assert.equal(tables.has('http://unitsofmeasure.org'), false);
  });

  it('the shipped inbound tables hold the reversed outgoing rows and the CNK rows', () => {
    const tables = buildInboundTables(shippedConceptMaps(), inboundConceptMaps());
    assert.equal(tables.get('http://www.whocc.no/atc')?.get('C10AA05')?.translations.get('nl'), 'atorvastatine');
    assert.equal(tables.get('https://www.ehealth.fgov.be/standards/fhir/NamingSystem/cnk')?.get('1563428')?.code, 'A10BA02');
  });
});
