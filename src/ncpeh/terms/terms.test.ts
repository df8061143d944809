import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  Bundle,
  CodeableConcept,
  Composition,
  ConceptMap,
  Condition,
  Extension,
  Resource,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { validateResource } from '../../kit/fhir/validate.ts';
import {
  ALLERGENS,
  CONDITIONS,
  DRUGS,
  LABS,
  PROCEDURES,
  VACCINES,
  VITALS,
} from '../../node/ehr-sim/catalogue.ts';
import { UCUM, UNIT_LABELS } from './concept.ts';
import { deGrootIps } from './de-groot-ips.fixture.ts';
import {
  ORIGINAL_UNIT,
  TRANSCODED,
  TRANSCODING,
  TRANSLATION,
  translationIn,
  UNTRANSLATED,
} from './extensions.ts';
import { transcodeSummary } from './index.ts';
import { conceptTerms } from './read.ts';
import { buildTables, shippedConceptMaps, shippedTables } from './tables.ts';
import { transcodeWith } from './transcode.ts';

const SCT = 'http://snomed.info/sct';
const ATC = 'http://www.whocc.no/atc';
const LOINC = 'http://loinc.org';
const GPK = 'urn:oid:2.16.840.1.113883.2.4.4.1';

type Json = Record<string, unknown>;
const ofType = <T extends Resource>(b: Bundle, type: string) =>
  (b.entry ?? []).map((e) => e.resource).filter((r): r is T => r?.resourceType === type);
const medicationConcept = (r: Resource) =>
  (r as { contained?: Array<{ code?: CodeableConcept }> }).contained?.[0]?.code as CodeableConcept;
const untranslatedReason = (x: { extension?: Extension[] }) =>
  x.extension?.find((e) => e.url === UNTRANSLATED)?.extension?.find((e) => e.url === 'reason')?.valueCode;
/** The translation in `lang` on the primitive `key` of `holder` (its `_key` sibling). */
const tr = (holder: unknown, key: string, lang: string) => {
  const sibling = (holder as Json | undefined)?.[`_${key}`] as { extension?: unknown } | undefined;
  return translationIn(sibling?.extension, lang);
};
const compositionOf = (b: Bundle) => b.entry?.[0]?.resource as Composition;
const isAdded = (c: { extension?: Extension[] }) => c.extension?.some((e) => e.url === TRANSCODED) ?? false;

describe("transcodeSummary on De Groot's IPS", () => {
  const doc = deGrootIps();
  const before = JSON.stringify(doc);
  const fr = transcodeSummary(doc, { country: 'BE', language: 'fr' });

  it('leaves its input untouched and returns a document Bundle; a second pass changes nothing', () => {
    assert.equal(JSON.stringify(doc), before);
    assert.deepEqual(transcodeSummary(fr, { country: 'BE', language: 'fr' }), fr);
    assert.equal(fr.resourceType, 'Bundle');
    assert.equal(fr.type, 'document');
    assert.equal(fr.entry?.length, doc.entry?.length);
  });

  it('puts the expected code first with the French display and keeps the Dutch coding and text beside it', () => {
    const hypertension = ofType<Condition>(fr, 'Condition').find((c) =>
      c.code?.coding?.some((x) => x.code === CONDITIONS.hypertension.code),
    );
    assert.ok(hypertension?.code);
    const [added, ...originals] = hypertension.code.coding ?? [];
    assert.ok(isAdded(added));
    assert.deepEqual(
      [added.system, added.code, added.display],
      [SCT, '38341003', 'Hypertensive disorder, systemic arterial'],
    );
    assert.equal(tr(added, 'display', 'fr'), 'Hypertension artérielle systémique');
    const original = ofType<Condition>(doc, 'Condition').find((c) =>
      c.code?.coding?.some((x) => x.code === CONDITIONS.hypertension.code),
    );
    assert.deepEqual(originals, original?.code?.coding, 'the Dutch codings, unchanged and in order');
    assert.equal(hypertension.code.text, 'Hypertensie');
    assert.equal(tr(hypertension.code, 'text', 'fr'), 'Hypertension artérielle systémique');
  });

  it('translates the contrast allergy, his medication and his vaccination', () => {
    const allergy = ofType<Resource & { code: CodeableConcept }>(fr, 'AllergyIntolerance')[0];
    assert.equal(tr(allergy.code, 'text', 'fr'), 'Produits de contraste iodés');
    assert.equal(allergy.code.coding?.[0].code, ALLERGENS.iodinatedContrast.code);
    const atorvastatin = ofType(fr, 'MedicationRequest')
      .map(medicationConcept)
      .find((cc) => cc.coding?.some((c) => c.code === DRUGS.atorvastatin.atc));
    assert.ok(atorvastatin && isAdded(atorvastatin.coding?.[0] ?? {}));
    assert.equal(atorvastatin.coding?.[0].system, ATC);
    assert.equal(tr(atorvastatin, 'text', 'fr'), 'atorvastatine');
    assert.equal(atorvastatin.text, 'ATORVASTATINE TABLET 20MG', 'the product text with its strength stays');
    const flu = ofType<Resource & { vaccineCode: CodeableConcept }>(fr, 'Immunization')[0];
    assert.equal(flu.vaccineCode.coding?.[0].code, VACCINES.influenza.code);
    assert.match(tr(flu.vaccineCode, 'text', 'fr') ?? '', /^grippe/);
  });

  it('marks what it cannot translate, says so in the narrative and counts it on the Composition', () => {
    const imaging = ofType<Resource & { code: CodeableConcept }>(fr, 'DiagnosticReport')[0];
    assert.equal(untranslatedReason(imaging.code), 'no-mapping');
    assert.deepEqual(
      imaging.code.coding,
      ofType<Resource & { code: CodeableConcept }>(doc, 'DiagnosticReport')[0].code.coding,
      'nothing added, nothing dropped',
    );
    const composition = compositionOf(fr);
    const results = composition.section?.find((s) => s.code?.coding?.[0].code === '30954-2');
    assert.match(results?.text?.div ?? '', /X-buikoverzicht \[non traduit\]/);
    const allergies = composition.section?.find((s) => s.code?.coding?.[0].code === '48765-2');
    assert.match(
      allergies?.text?.div ?? '',
      /Produits de contraste iodés \(néerlandais: Jodiumhoudende contrastmiddelen\)/,
    );
    assert.equal(tr(allergies, 'title', 'fr'), 'Allergies et intolérances');
    const ext = composition.extension?.find((e) => e.url === TRANSCODING);
    const part = (name: string) => ext?.extension?.find((e) => e.url === name);
    assert.equal(part('country')?.valueCode, 'BE');
    assert.equal(part('language')?.valueCode, 'fr');
    assert.equal(part('untranslated')?.valueInteger, 1);
    assert.ok((part('translated')?.valueInteger ?? 0) > 20);
    assert.deepEqual(
      composition.section?.map((s) => s.code),
      compositionOf(doc).section?.map((s) => s.code),
      'section codes untouched',
    );
  });

  it('reads back as translated and original terms (for a viewer)', () => {
    const allergy = ofType<Resource & { code: CodeableConcept }>(fr, 'AllergyIntolerance')[0];
    assert.deepEqual(conceptTerms(allergy.code, 'fr'), {
      original: 'Jodiumhoudende contrastmiddelen',
      translated: 'Produits de contraste iodés',
      code: { system: SCT, code: '426722004', display: 'Iodinated contrast media' },
    });
    const imaging = conceptTerms(
      ofType<Resource & { code: CodeableConcept }>(fr, 'DiagnosticReport')[0].code,
      'fr',
    );
    assert.equal(imaging.translated, undefined);
    assert.equal(imaging.original, 'X-buikoverzicht');
    assert.equal(imaging.untranslated?.reason, 'no-mapping');
  });

  it('serves English and Belgian Dutch readers too, and marks a language the tables lack', () => {
    const en = transcodeSummary(doc, { country: 'IE', language: 'en' });
    const cond = ofType<Condition>(en, 'Condition').find((c) =>
      c.code?.coding?.some((x) => x.code === CONDITIONS.diabetes2.code),
    );
    assert.equal(tr(cond?.code?.coding?.[0], 'display', 'en'), undefined, 'the display is English already');
    assert.equal(tr(cond?.code, 'text', 'en'), 'Diabetes mellitus type 2');
    const nl = transcodeSummary(doc, { country: 'BE', language: 'nl-BE' });
    const allergy = ofType<Resource & { code: CodeableConcept }>(nl, 'AllergyIntolerance')[0];
    assert.equal(tr(allergy.code, 'text', 'nl-BE'), 'Jodiumhoudende contrastmiddelen');
    const de = transcodeSummary(doc, { country: 'DE', language: 'de' });
    const deAllergy = ofType<Resource & { code: CodeableConcept }>(de, 'AllergyIntolerance')[0];
    assert.equal(
      deAllergy.code.coding?.[0].code,
      ALLERGENS.iodinatedContrast.code,
      'the code is still transcoded',
    );
    assert.equal(untranslatedReason(deAllergy.code), 'no-display-translation');
    assert.match(compositionOf(de).section?.[1].text?.div ?? '', /nicht übersetzt/);
  });

  it('is a valid FHIR document before and after (R4 definitions and required bindings)', () => {
    for (const b of [doc, fr]) assert.deepEqual(validateResource(b), []);
  });
});

describe('transcoding single elements', () => {
  const bundle = (...resources: Json[]): Bundle => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((r) => ({ resource: r as unknown as Resource })),
  });
  const first = (b: Bundle) => b.entry?.[0].resource as unknown as Json;

  it('marks a Dutch-only code (G-Standaard, SNOMED NL extension) and free text, keeping them as they were', () => {
    const gpk = { coding: [{ system: GPK, code: '99999999', display: 'EXAMPLE TABLET 10MG' }] };
    const sctNl = { coding: [{ system: SCT, code: '99991000146109', display: 'voorbeeld' }] };
    const text = { text: 'allergie voor pleisters' };
    const out = transcodeSummary(
      bundle(
        {
          resourceType: 'MedicationStatement',
          status: 'active',
          subject: { reference: 'Patient/p' },
          medicationCodeableConcept: gpk,
        },
        { resourceType: 'Condition', subject: { reference: 'Patient/p' }, code: sctNl },
        { resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p' }, code: text },
      ),
      { country: 'BE', language: 'fr' },
    );
    const [m, c, a] = (out.entry ?? []).map((e) => e.resource as unknown as Json);
    assert.equal(untranslatedReason(m.medicationCodeableConcept as CodeableConcept), 'no-mapping');
    assert.deepEqual((m.medicationCodeableConcept as Json).coding, gpk.coding);
    assert.equal(untranslatedReason(c.code as CodeableConcept), 'no-mapping');
    assert.match(JSON.stringify((c.code as CodeableConcept).extension), /Dutch SNOMED CT extension/);
    assert.equal(untranslatedReason(a.code as CodeableConcept), 'not-coded');
    assert.equal((a.code as Json).text, text.text);
  });

  it('maps a G-Standaard code to ATC when a table has the row (a test table: no real G-Standaard codes ship)', () => {
    const testMap: ConceptMap = {
      resourceType: 'ConceptMap',
      url: 'https://ldn.example.nl/fhir/ConceptMap/test-gpk',
      version: 'test',
      status: 'draft',
      group: [
        {
          source: GPK,
          target: ATC,
          element: [
            {
              code: 'TEST-1',
              target: [{ code: 'C10AA05', display: 'atorvastatin', equivalence: 'equivalent' }],
            },
          ],
        },
      ],
    };
    const concept = {
      coding: [{ system: GPK, code: 'TEST-1', display: 'ATORVASTATINE TABLET 20MG' }],
      text: 'ATORVASTATINE TABLET 20MG',
    };
    const out = transcodeWith(
      bundle({
        resourceType: 'MedicationStatement',
        status: 'active',
        subject: { reference: 'Patient/p' },
        medicationCodeableConcept: concept,
      }),
      { country: 'BE', language: 'en' },
      buildTables([testMap]),
    );
    const cc = first(out).medicationCodeableConcept as CodeableConcept;
    assert.deepEqual([cc.coding?.[0].system, cc.coding?.[0].code], [ATC, 'C10AA05']);
    assert.deepEqual(cc.coding?.slice(1), concept.coding);
    assert.equal(
      cc.coding?.[0].extension?.[0].valueCanonical,
      'https://ldn.example.nl/fhir/ConceptMap/test-gpk|test',
    );
  });

  it('uses the ATC coding a Dutch product coding travels with, keeping both', () => {
    const concept = {
      coding: [
        { system: GPK, code: '99999999', display: 'ATORVASTATINE TABLET 20MG' },
        { system: ATC, code: 'C10AA05' },
      ],
    };
    const out = transcodeSummary(
      bundle({
        resourceType: 'MedicationStatement',
        status: 'active',
        subject: { reference: 'Patient/p' },
        medicationCodeableConcept: concept,
      }),
      { country: 'BE', language: 'nl' },
    );
    const cc = first(out).medicationCodeableConcept as CodeableConcept;
    assert.deepEqual(
      [cc.coding?.[0].system, cc.coding?.[0].code, tr(cc.coding?.[0], 'display', 'nl')],
      [ATC, 'C10AA05', 'atorvastatine'],
    );
    assert.deepEqual(cc.coding?.slice(1), concept.coding);
    assert.equal(untranslatedReason(cc), undefined);
  });

  it('translates Dutch unit labels, recodes a label-only unit to UCUM keeping the original, and marks an unknown unit', () => {
    const out = transcodeSummary(
      bundle({
        resourceType: 'MedicationDispense',
        status: 'completed',
        medicationCodeableConcept: { coding: [{ system: ATC, code: 'C10AA05' }] },
        quantity: { value: 90, unit: 'stuk', system: UCUM, code: '1' },
        daysSupply: { value: 90, unit: 'dagen' },
        dosageInstruction: [
          {
            doseAndRate: [
              {
                doseQuantity: {
                  value: 1,
                  unit: 'zakje',
                  system: 'urn:oid:2.16.840.1.113883.2.4.4.1.900.2',
                  code: '999',
                },
              },
            ],
          },
        ],
      }),
      { country: 'BE', language: 'fr' },
    );
    const d = first(out) as Json & {
      quantity: Json;
      daysSupply: Json & { extension: Extension[] };
      dosageInstruction: Array<{ doseAndRate: Array<{ doseQuantity: Json }> }>;
    };
    assert.deepEqual([d.quantity.value, d.quantity.unit, d.quantity.code], [90, 'stuk', '1']);
    assert.equal(tr(d.quantity, 'unit', 'fr'), 'unité');
    assert.deepEqual(
      [d.daysSupply.value, d.daysSupply.system, d.daysSupply.code, d.daysSupply.unit],
      [90, UCUM, 'd', 'dagen'],
    );
    assert.deepEqual(d.daysSupply.extension.find((e) => e.url === ORIGINAL_UNIT)?.valueCoding, {
      display: 'dagen',
    });
    const dose = d.dosageInstruction[0].doseAndRate[0].doseQuantity as Json & { extension?: Extension[] };
    assert.equal(untranslatedReason(dose), 'no-unit-mapping');
    assert.equal(dose.code, '999');
  });

  it('transcodes an ePrescription searchset the same way (no Composition needed)', () => {
    const gp = deGrootIps().entry?.filter((e) => e.resource?.resourceType === 'MedicationRequest') ?? [];
    const searchset: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: gp.map((e) => ({ ...e, search: { mode: 'match' } })),
    };
    const out = transcodeSummary(searchset, { country: 'BE', language: 'fr' });
    assert.equal(out.type, 'searchset');
    const concepts = (out.entry ?? []).map((e) => medicationConcept(e.resource as Resource));
    assert.equal(concepts.length, 3);
    for (const cc of concepts) assert.ok(isAdded(cc.coding?.[0] ?? {}) && tr(cc, 'text', 'fr'));
  });

  it('never changes a status or category coding', () => {
    const clinicalStatus = {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    };
    const out = transcodeSummary(
      bundle({ resourceType: 'Condition', subject: { reference: 'Patient/p' }, clinicalStatus }),
      { country: 'BE', language: 'fr' },
    );
    assert.deepEqual(first(out).clinicalStatus, clinicalStatus);
  });

  it('answers odd input with a Bundle, tagged when nothing could be done', () => {
    for (const odd of [
      null,
      42,
      'x',
      [],
      {},
      { resourceType: 'Patient' },
      { resourceType: 'Bundle', entry: 'nope' },
      { resourceType: 'Bundle', entry: [null, 1, { resource: 'x' }] },
    ]) {
      const out = transcodeSummary(odd as unknown as Bundle, { country: 'BE', language: 'fr' });
      assert.equal(out.resourceType, 'Bundle');
    }
    assert.equal(
      transcodeSummary(null as unknown as Bundle, { country: 'BE', language: 'fr' }).meta?.tag?.[0].code,
      'transcoding-failed',
    );
    const weird = transcodeSummary(
      bundle({ resourceType: 'Condition', code: { coding: [{ system: SCT, code: '38341003' }] } }),
      { country: 'B E', language: 42 as unknown as string },
    );
    const ext = (weird.entry?.[0]?.resource as Condition | undefined)?.code?.coding?.[0];
    assert.equal(ext?.code, '38341003', 'an invalid language falls back to English, still transcoded');
  });
});

describe('the shipped tables', () => {
  it('are valid ConceptMaps whose every row has a French and a Dutch display', () => {
    for (const map of shippedConceptMaps()) {
      assert.deepEqual(validateResource(map), [], map.id);
      for (const element of map.group?.flatMap((g) => g.element ?? []) ?? []) {
        const ext = (element.target?.[0] as unknown as Json | undefined)?._display as
          | { extension?: Extension[] }
          | undefined;
        assert.ok(ext?.extension?.every((e) => e.url === TRANSLATION));
        for (const lang of ['fr', 'nl'])
          assert.ok(tr(element.target?.[0], 'display', lang), `${map.id} ${element.code} ${lang}`);
      }
    }
  });

  it('cover every code the EHR simulator writes into an IPS', () => {
    const tables = shippedTables();
    const has = (system: string, code: string) =>
      assert.ok(tables.get(system)?.has(code), `${system}|${code}`);
    for (const c of Object.values(CONDITIONS)) has(SCT, c.code);
    for (const a of Object.values(ALLERGENS)) for (const c of [a, ...a.reactions]) has(SCT, c.code);
    for (const p of Object.values(PROCEDURES)) has(SCT, p.code);
    for (const d of Object.values(DRUGS)) {
      has(ATC, d.atc);
      has(SCT, d.form.code);
    }
    for (const v of Object.values(VACCINES)) has(ATC, v.code);
    for (const l of [...Object.values(LABS), ...Object.values(VITALS)]) has(LOINC, l.code);
    has(UNIT_LABELS, 'stuk');
    has(UNIT_LABELS, 'dag');
  });
});

// ---- properties ----

const mapped = [
  ...Object.values(CONDITIONS).map((c) => ({ system: SCT, code: c.code, display: c.display })),
  ...Object.values(DRUGS).map((d) => ({ system: ATC, code: d.atc, display: d.substance })),
];
const codingArb = fc.oneof(
  fc.constantFrom(...mapped),
  fc.record(
    {
      system: fc.constantFrom(SCT, ATC, GPK, 'urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.15.1'),
      code: fc.stringMatching(/^[0-9A-Z]{1,10}$/),
    },
    { requiredKeys: ['code'] },
  ),
  fc.record({
    system: fc.constant('http://terminology.hl7.org/CodeSystem/condition-clinical'),
    code: fc.constantFrom('active', 'resolved'),
  }),
  fc.record({ display: fc.string({ maxLength: 8 }) }),
);
const conceptArb = fc.record(
  { coding: fc.array(codingArb, { maxLength: 3 }), text: fc.string({ maxLength: 12 }) },
  { requiredKeys: [] },
);
const quantityArb = fc.record(
  {
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    unit: fc.constantFrom('stuk', 'dagen', 'mmol/L', 'zakje', 'mg', ''),
    system: fc.constantFrom(UCUM, 'urn:oid:2.16.840.1.113883.2.4.4.1.900.2'),
    code: fc.constantFrom('1', 'd', 'mmol/L', '245'),
  },
  { requiredKeys: ['value'] },
);
const resourceArb = fc.oneof(
  fc.record({
    resourceType: fc.constant('Condition'),
    code: conceptArb,
    bodySite: fc.array(conceptArb, { maxLength: 2 }),
    note: fc.array(fc.record({ text: fc.string({ maxLength: 8 }) }), { maxLength: 1 }),
  }),
  fc.record({
    resourceType: fc.constant('MedicationStatement'),
    status: fc.constant('active'),
    medicationCodeableConcept: conceptArb,
    dosage: fc.array(
      fc.record({ doseAndRate: fc.array(fc.record({ doseQuantity: quantityArb }), { maxLength: 1 }) }),
      { maxLength: 1 },
    ),
  }),
  fc.record({
    resourceType: fc.constant('Observation'),
    status: fc.constant('final'),
    code: conceptArb,
    valueQuantity: quantityArb,
    component: fc.array(fc.record({ code: conceptArb, valueQuantity: quantityArb }), { maxLength: 2 }),
  }),
  fc.record({
    resourceType: fc.constant('AllergyIntolerance'),
    code: conceptArb,
    reaction: fc.array(fc.record({ manifestation: fc.array(conceptArb, { minLength: 1, maxLength: 2 }) }), {
      maxLength: 2,
    }),
  }),
);
const bundleArb = fc.array(resourceArb, { maxLength: 6 }).map(
  (rs): Bundle => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: rs.map((r, i) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      resource: r as unknown as Resource,
    })),
  }),
);

/** Removes exactly what transcoding adds and restores recoded units: must give the input back. */
function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (['_text', '_display', '_unit', '_title'].includes(k)) continue;
    if (k === 'coding' && Array.isArray(v)) out[k] = v.filter((c) => !isAdded(c)).map(strip);
    else if (k === 'extension' && Array.isArray(v)) {
      const kept = v.filter((e) => e.url !== UNTRANSLATED && e.url !== ORIGINAL_UNIT);
      if (kept.length) out[k] = kept;
    } else out[k] = strip(v);
  }
  const original = Array.isArray((value as Json).extension)
    ? ((value as Json).extension as Extension[]).find((e) => e.url === ORIGINAL_UNIT)?.valueCoding
    : undefined;
  if (original) {
    delete out.system;
    delete out.code;
    if (original.system !== undefined) out.system = original.system;
    if (original.code !== undefined) out.code = original.code;
  }
  return out;
}

/** Every CodeableConcept with a clinical coding either gained a transcoded coding or is marked. */
function everyConceptAccountedFor(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) everyConceptAccountedFor(v);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const v = value as Json & { coding?: Array<Json & { extension?: Extension[] }>; extension?: Extension[] };
  if (Array.isArray(v.coding)) {
    const clinical = v.coding.filter(
      (c) => !String(c.system ?? '').startsWith('http://terminology.hl7.org/'),
    );
    if (clinical.length)
      assert.ok(
        isAdded(v.coding[0]) || v.extension?.some((e) => e.url === UNTRANSLATED),
        `unaccounted ${JSON.stringify(v)}`,
      );
    return;
  }
  for (const x of Object.values(v)) everyConceptAccountedFor(x);
}

describe('transcodeSummary properties', () => {
  it('keeps every original: undoing what it adds gives the input back (and the input is not changed)', () => {
    fc.assert(
      fc.property(bundleArb, fc.constantFrom('fr', 'nl', 'en', 'de', 'fr-BE'), (b, language) => {
        const copy = JSON.stringify(b);
        const out = transcodeSummary(b, { country: 'BE', language });
        assert.equal(JSON.stringify(b), copy);
        assert.equal(out.resourceType, 'Bundle');
        assert.deepEqual(strip(out), JSON.parse(copy));
      }),
      { numRuns: 150 },
    );
  });

  it('accounts for every clinical concept: transcoded first, or marked untranslated; twice is once', () => {
    fc.assert(
      fc.property(bundleArb, (b) => {
        const out = transcodeSummary(b, { country: 'BE', language: 'fr' });
        everyConceptAccountedFor(out.entry?.map((e) => e.resource));
        const again = transcodeSummary(out, { country: 'BE', language: 'fr' });
        assert.deepEqual(again, out, 'transcoding twice is transcoding once');
      }),
      { numRuns: 100 },
    );
  });

  it('gives a Bundle for any Bundle-shaped input, never throwing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record(
            {
              fullUrl: fc.string(),
              resource: fc.oneof(
                fc.jsonValue(),
                resourceArb,
                fc.record({
                  resourceType: fc.constantFrom(
                    'Condition',
                    'Composition',
                    'Observation',
                    '__proto__',
                    'Nope',
                  ),
                  code: fc.jsonValue(),
                  section: fc.jsonValue(),
                  valueQuantity: fc.jsonValue(),
                }),
              ),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 5 },
        ),
        fc.string({ maxLength: 6 }),
        (entry, language) => {
          const out = transcodeSummary(
            { resourceType: 'Bundle', type: 'document', entry } as unknown as Bundle,
            { country: 'BE', language },
          );
          assert.equal(out.resourceType, 'Bundle');
        },
      ),
      { numRuns: 200 },
    );
  });
});
