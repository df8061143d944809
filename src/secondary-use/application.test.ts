import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { parsePermitApplication } from './application.ts';
import { TIA_STATIN_APPLICATION } from './test-fixtures.ts';

const NOW = new Date('2026-06-01T00:00:00Z');

describe('permit application', () => {
  it('takes a well-formed application with the defaults filled in', () => {
    const a = parsePermitApplication(TIA_STATIN_APPLICATION, NOW);
    assert.equal(a.minCell, 10);
    assert.deepEqual(a.cohort, { conditions: ['266257000'], medications: ['C10AA'], ageMin: 18 });
    assert.equal(a.periodEnd.toISOString(), '2030-01-01T00:00:00.000Z');
  });

  it('names every broken field in one 422', () => {
    const bad = { ...TIA_STATIN_APPLICATION, minCell: 3, types: ['Condition'], cohort: { ageMin: 80, ageMax: 20, bsn: 'x' }, periodEnd: '2025-01-01', extra: 1 };
    assert.throws(() => parsePermitApplication(bad, NOW), (e: HttpError) => {
      assert.equal(e.status, 422);
      for (const word of ['minCell', 'Patient', 'ageMin', 'cohort.bsn', 'periodEnd', 'extra']) assert.match(e.message, new RegExp(word.replace('.', '\\.')));
      return true;
    });
  });

  it('property: anything at all is either a checked application or a 400/422, never a crash', () => {
    const field = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue()));
    const arb = fc.oneof(
      fc.jsonValue(),
      fc.record({ purpose: field, legalBasis: field, categories: field, cohort: field, types: field, datePrecision: field, minCell: field, periodStart: field, periodEnd: field }, { requiredKeys: [] }),
      fc.constantFrom(...Object.keys(TIA_STATIN_APPLICATION)).chain((k) => field.map((v) => ({ ...TIA_STATIN_APPLICATION, [k]: v }))),
    );
    fc.assert(
      fc.property(arb, (body) => {
        try {
          const a = parsePermitApplication(body, NOW);
          assert.ok(a.types.includes('Patient') && a.minCell >= 10 && a.periodEnd > a.periodStart && a.purpose.length > 0);
        } catch (e) {
          assert.ok(e instanceof HttpError && (e.status === 400 || e.status === 422), String(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});
