import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Patient, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { ageOn, inCohort } from './cohort.ts';

// Cohort membership on the holder's raw data: SNOMED condition codes, ATC prefixes (own concept or
// contained Medication), an inclusive age band at the extraction's time.

const patient = (birthDate?: string): Patient => ({ resourceType: 'Patient', id: 'p', ...(birthDate ? { birthDate } : {}) });
const tia = { resourceType: 'Condition', code: { coding: [{ system: 'http://snomed.info/sct', code: '266257000' }] } } as Resource;
const tiaOtherSystem = { resourceType: 'Condition', code: { coding: [{ system: 'http://example.org/local', code: '266257000' }] } } as Resource;
const statin = {
  resourceType: 'MedicationStatement',
  contained: [{ resourceType: 'Medication', id: 'med', code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'C10AA05' }] } }],
  medicationReference: { reference: '#med' },
} as Resource;
const metformin = { resourceType: 'MedicationRequest', medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }] } } as Resource;
const AT = '2026-12-03T10:00:00Z';

describe('cohort', () => {
  it('needs every given criterion', () => {
    const cohort = { conditions: ['266257000'], medications: ['C10AA'] };
    assert.equal(inCohort(cohort, patient(), [tia, statin], AT), true);
    assert.equal(inCohort(cohort, patient(), [tia], AT), false);
    assert.equal(inCohort(cohort, patient(), [statin], AT), false);
    assert.equal(inCohort(cohort, patient(), [tiaOtherSystem, statin], AT), false, 'only SNOMED codes count');
    assert.equal(inCohort({ medications: ['A10'] }, patient(), [metformin], AT), true);
    assert.equal(inCohort({}, patient(), [], AT), true);
  });

  it('age band is inclusive and counts whole years; no birth date is outside any band', () => {
    assert.equal(inCohort({ ageMin: 60, ageMax: 70 }, patient('1956-12-04'), [], AT), true, '69');
    assert.equal(inCohort({ ageMin: 60, ageMax: 70 }, patient('1966-12-04'), [], AT), false, '59 until tomorrow');
    assert.equal(inCohort({ ageMin: 60, ageMax: 70 }, patient('1955-12-03'), [], AT), false, '71 today');
    assert.equal(inCohort({ ageMin: 60, ageMax: 70 }, patient('1966-12-03'), [], AT), true);
    assert.equal(inCohort({ ageMin: 60 }, patient(), [], AT), false);
  });

  it('ageOn agrees with a date computation (property)', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2026-01-01'), noInvalidDate: true }), fc.date({ min: new Date('2026-01-02'), max: new Date('2030-01-01'), noInvalidDate: true }), (b, at) => {
        const birth = b.toISOString().slice(0, 10);
        const age = ageOn(birth, at.toISOString());
        const [by, bm, bd] = birth.split('-').map(Number);
        const hadBirthday = at.getUTCMonth() + 1 > bm || (at.getUTCMonth() + 1 === bm && at.getUTCDate() >= bd);
        assert.equal(age, at.getUTCFullYear() - by - (hadBirthday ? 0 : 1));
      }),
      { numRuns: 200 },
    );
  });
});
