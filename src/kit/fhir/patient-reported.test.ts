import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from './outcome.ts';
import { checkMeasurement, isPatientReported } from './patient-reported.ts';

const bp = (sys: number, dia: number, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Observation',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  effectiveDateTime: '2026-12-01T08:30:00+01:00',
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mm[Hg]' } },
  ],
  ...extra,
});

describe('a shared measurement', () => {
  it('is rebuilt from the known fields only and tagged patient-reported', () => {
    const o = checkMeasurement(bp(135, 85, { subject: { reference: 'Patient/other' }, note: [{ text: '<script>' }], meta: { tag: [] } }));
    assert.ok(isPatientReported(o));
    assert.equal(o.subject, undefined);
    assert.equal((o as { note?: unknown }).note, undefined);
    assert.equal(o.code.text, 'Bloeddruk');
    assert.deepEqual(o.component?.map((c) => c.valueQuantity?.value), [135, 85]);
    assert.equal(o.effectiveDateTime, '2026-12-01T07:30:00.000Z');
  });

  it('accepts a body weight and refuses the wrong unit, a future time, an unknown code', () => {
    const weight = { resourceType: 'Observation', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, effectiveDateTime: '2026-12-01T08:00:00Z', valueQuantity: { value: 82.5, unit: 'kg' } };
    assert.equal(checkMeasurement(weight).valueQuantity?.value, 82.5);
    assert.throws(() => checkMeasurement({ ...weight, valueQuantity: { value: 82.5, unit: 'lb' } }), HttpError);
    assert.throws(() => checkMeasurement({ ...weight, effectiveDateTime: '2999-01-01T00:00:00Z' }), HttpError);
    assert.throws(() => checkMeasurement({ ...weight, code: { coding: [{ system: 'http://loinc.org', code: '1234-5' }] } }), HttpError);
    assert.throws(() => checkMeasurement(bp(80, 120)), /diastolic/);
  });

  it('answers any input with a rebuilt Observation or a 400, never another error (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.integer({ min: -50, max: 400 }), fc.integer({ min: -50, max: 400 }), (junk, s, d) => {
        for (const input of [junk, bp(s, d), { ...bp(s, d), component: junk }, { ...bp(s, d), effectiveDateTime: junk }]) {
          try {
            const o = checkMeasurement(input);
            assert.ok(isPatientReported(o));
            assert.equal(o.resourceType, 'Observation');
          } catch (err) {
            assert.ok(err instanceof HttpError && err.status === 400, String(err));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
