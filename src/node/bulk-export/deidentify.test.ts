import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Patient, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import type { DatePrecision } from '../../secondary-use/contract.ts';
import { type DeidContext, deidentify, sensitiveStrings } from './deidentify.ts';
import { scanExtract } from './scanner.ts';

// Whatever the input resources, nothing identifying survives de-identification: no BSN, name,
// address, telecom value, EHR patient id or exact date, wherever the input hid them.

const PSEUDONYM = '0123456789abcdef0123456789abcdef01234567';
const EHR_ID = 'ehrpat-77';

const word = fc.stringMatching(/^[A-Z][a-z]{3,9}$/);
const fullDate = fc.date({ min: new Date('1920-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }).map((d) => d.toISOString());
const identity = fc.record({
  bsn: fc.integer({ min: 0, max: 9_999_999 }).map(testBsn),
  given: word,
  family: word,
  street: word.map((w) => `${w}straat 12`),
  city: word,
  postalCode: fc.stringMatching(/^[1-9]\d{3}[A-Z]{2}$/),
  phone: fc.stringMatching(/^06-\d{8}$/),
  email: word.map((w) => `${w.toLowerCase()}@example.nl`),
  birthDate: fullDate.map((d) => d.slice(0, 10)),
});
type Identity = typeof identity extends fc.Arbitrary<infer T> ? T : never;

const KEYS = ['text', 'note', 'display', 'valueString', 'code', 'system', 'reference', 'subject', 'patient', 'effectiveDateTime', 'onsetDateTime', 'extension', 'contained', 'identifier', 'name', 'period', 'start', 'end', 'valueInteger', 'comment', 'description', 'id', 'url', 'valueCode', 'div', 'coding', 'recordedDate', 'issued'];

/** Leaves that carry the patient's identity, dates and references, mixed with harmless values. */
function leaf(who: Identity): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(who.bsn, Number(who.bsn), who.given, who.family, who.street, who.city, who.postalCode, who.phone, who.email, who.birthDate, `${who.birthDate}T10:00:00Z`),
    fc.constantFrom(`Dhr. ${who.family} (BSN ${who.bsn}) belde op ${who.birthDate.split('-').reverse().join('-')}`, `Patient/${EHR_ID}`, `https://ehr.example/fhir/Patient/${EHR_ID}`, 'Practitioner/p1', 'Encounter/e1', '#med', '266257000', 'C10AA05', 'http://snomed.info/sct', 'urn:oid:2.16.840.1.113883.2.4.4.7'),
    fullDate,
    fc.string({ maxLength: 12 }),
    fc.integer(),
    fc.boolean(),
  );
}

function tree(who: Identity): fc.Arbitrary<unknown> {
  const { node } = fc.letrec((t) => ({
    node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf(who), t('obj'), fc.array(t('node'), { maxLength: 3 })),
    obj: fc.dictionary(fc.constantFrom(...KEYS), t('node'), { maxKeys: 5 }),
  }));
  return node;
}

const resourceOf = (who: Identity) =>
  fc.tuple(fc.constantFrom('Condition', 'Observation', 'MedicationStatement', 'Encounter', 'Procedure'), fc.dictionary(fc.constantFrom(...KEYS), tree(who), { maxKeys: 8 })).map(
    ([resourceType, body]) => ({ ...body, resourceType, id: 'r1', subject: { reference: `Patient/${EHR_ID}`, display: `${who.given} ${who.family}` } }) as unknown as Resource,
  );

function patientOf(who: Identity): Patient {
  return {
    resourceType: 'Patient',
    id: EHR_ID,
    identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: who.bsn }],
    name: [{ family: who.family, given: [who.given], text: `${who.given} ${who.family}` }],
    address: [{ line: [who.street], city: who.city, postalCode: who.postalCode }],
    telecom: [{ system: 'phone', value: who.phone }, { system: 'email', value: who.email }],
    birthDate: who.birthDate,
    gender: 'female',
  };
}

describe('de-identification (property)', () => {
  it('no BSN, name, address, telecom, EHR id or exact date survives, whatever the input', () => {
    fc.assert(
      fc.property(identity.chain((who) => fc.tuple(fc.constant(who), fc.array(resourceOf(who), { minLength: 1, maxLength: 4 }), fc.constantFrom<DatePrecision>('year', 'month'))), ([who, resources, precision]) => {
        const patient = patientOf(who);
        const ctx: DeidContext = { pseudonym: PSEUDONYM, patientIds: new Set([EHR_ID]), precision, idKey: randomBytes(32), sensitive: sensitiveStrings([patient], who.bsn) };
        const out = [patient, ...resources].map((r) => deidentify(r, ctx)).filter((r) => r !== undefined);
        const findings = scanExtract(out.map((r) => JSON.stringify(r)).join('\n'), {
          forbidden: [who.bsn, who.given, who.family, who.street, who.city, who.postalCode, who.phone, who.email, EHR_ID],
          precision,
        });
        assert.deepEqual(findings, [], JSON.stringify(out).slice(0, 2000));
        assert.equal(out[0].id, PSEUDONYM);
        assert.equal((out[0] as Patient).birthDate, precision === 'year' ? who.birthDate.slice(0, 4) : who.birthDate.slice(0, 7));
      }),
      { numRuns: Number(process.env.LDN_FUZZ_RUNS ?? 300) },
    );
  });

  it('keeps what research needs: codes, generalised dates, the pseudonym as subject', () => {
    const who = { bsn: testBsn(5), family: 'Groot', given: 'Jan' };
    const patient: Patient = { resourceType: 'Patient', id: 'p1', name: [{ family: who.family, given: [who.given] }], birthDate: '1950-06-17' };
    const ctx: DeidContext = { pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'month', idKey: randomBytes(32), sensitive: sensitiveStrings([patient], who.bsn) };
    const condition = deidentify(
      {
        resourceType: 'Condition',
        id: 'c1',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '266257000', display: 'Transient ischemic attack' }], text: 'TIA' },
        subject: { reference: 'Patient/p1', display: 'J. de Groot' },
        onsetDateTime: '2026-11-28T09:00:00+01:00',
        encounter: { reference: 'Encounter/e9' },
        recorder: { reference: 'Practitioner/x' },
      } as Resource,
      ctx,
    ) as unknown as Record<string, unknown>;
    assert.deepEqual(condition.code, { coding: [{ system: 'http://snomed.info/sct', code: '266257000', display: 'Transient ischemic attack' }] });
    assert.deepEqual(condition.subject, { reference: `Patient/${PSEUDONYM}` });
    assert.equal(condition.onsetDateTime, '2026-11');
    assert.match((condition.encounter as { reference: string }).reference, /^Encounter\/[0-9a-f]{32}$/);
    assert.equal(condition.recorder, undefined);
    assert.match(condition.id as string, /^[0-9a-f]{32}$/);
  });

  it('keeps an OID code system (its dotted arcs are no date), and still drops a dated system', () => {
    const ctx = { pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'year' as const, idKey: randomBytes(32), sensitive: [] };
    const gStandaard = 'urn:oid:2.16.840.1.113883.2.4.4.7';
    const unit = { value: 1, unit: 'stuk', system: 'urn:oid:2.16.840.1.113883.2.4.4.1.900.2', code: '245' };
    const out = deidentify(
      {
        resourceType: 'MedicationStatement',
        id: 'm1',
        status: 'active',
        medicationCodeableConcept: { coding: [{ system: gStandaard, code: '12345' }, { system: 'http://x/12-03-2001', code: 'x' }] },
        dosage: [{ doseAndRate: [{ doseQuantity: unit }] }],
        subject: { reference: 'Patient/p1' },
      } as Resource,
      ctx,
    ) as unknown as { medicationCodeableConcept: unknown; dosage: unknown };
    assert.deepEqual(out.medicationCodeableConcept, { coding: [{ system: gStandaard, code: '12345' }, { code: 'x' }] });
    assert.deepEqual(out.dosage, [{ doseAndRate: [{ doseQuantity: unit }] }]);
  });

  it('a contained Medication becomes medicationCodeableConcept (one place for the ATC code)', () => {
    const ctx = { pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'year' as const, idKey: randomBytes(32), sensitive: [] };
    const out = deidentify(
      {
        resourceType: 'MedicationStatement',
        id: 'm1',
        status: 'active',
        contained: [{ resourceType: 'Medication', id: 'med', code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C10AA05', display: 'atorvastatin' }] } }],
        medicationReference: { reference: '#med' },
        subject: { reference: 'Patient/p1' },
      } as Resource,
      ctx,
    ) as unknown as Record<string, unknown>;
    assert.deepEqual(out.medicationCodeableConcept, { coding: [{ system: 'http://www.whocc.no/atc', code: 'C10AA05', display: 'atorvastatin' }] });
    assert.equal(out.medicationReference, undefined);
    assert.equal(out.contained, undefined);
  });

  it('a contained id that carries a date goes, with the local reference to it; a plain one stays', () => {
    const ctx = { pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'year' as const, idKey: randomBytes(32), sensitive: [] };
    const withId = (id: string) =>
      deidentify(
        {
          resourceType: 'Condition',
          id: 'c1',
          contained: [{ resourceType: 'Observation', id, status: 'final', code: { text: 'bp' } }],
          evidence: [{ detail: [{ reference: `#${id}` }] }],
        } as Resource,
        ctx,
      ) as unknown as { contained: { id?: string }[]; evidence?: unknown };
    const dated = withId('1950-06-17');
    assert.equal(dated.contained[0].id, undefined);
    assert.equal(dated.evidence, undefined);
    assert.equal(withId('2026-11').contained[0].id, undefined);
    const plain = withId('bp1');
    assert.equal(plain.contained[0].id, 'bp1');
    assert.deepEqual(plain.evidence, [{ detail: [{ reference: '#bp1' }] }]);
  });

  it("a quantity's unit is free text: a BSN-like number or a date there goes, a UCUM unit stays", () => {
    const ctx = { pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'year' as const, idKey: randomBytes(32), sensitive: [] };
    const unitOf = (unit: string) =>
      (deidentify({ resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, valueQuantity: { value: 5, unit } } as Resource, ctx) as unknown as { valueQuantity: { unit?: string } }).valueQuantity.unit;
    assert.equal(unitOf('123456782'), undefined);
    assert.equal(unitOf('12-03-2001'), undefined);
    assert.equal(unitOf('mmol/L'), 'mmol/L');
  });

  it('opaque ids differ between extractions, so records do not link across permits', () => {
    const mk = () => ({ pseudonym: PSEUDONYM, patientIds: new Set(['p1']), precision: 'year' as const, idKey: randomBytes(32), sensitive: [] });
    const r: Resource = { resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' } } as Resource;
    assert.notEqual(deidentify(r, mk())?.id, deidentify(r, mk())?.id);
  });
});
