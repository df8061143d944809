import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { disclosureCheck, type ResultCell } from './disclosure.ts';

const cell = fc.record({
  dims: fc.dictionary(fc.constantFrom('age_band', 'gender', 'patient', 'code'), fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.constant(null))),
  n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(Number.NaN, 2.5, -1, Number.POSITIVE_INFINITY)),
});

describe('disclosure check', () => {
  it('property: every released cell counts at least min_cell patients, and each is a cell of the input, unchanged', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 30 }), fc.integer({ min: 1, max: 25 }), (cells: ResultCell[], minCell) => {
        const v = disclosureCheck(cells, minCell);
        for (const r of v.released) {
          assert.ok(Number.isInteger(r.n) && r.n >= minCell);
          assert.ok(cells.some((c) => c.n === r.n && JSON.stringify(c.dims) === JSON.stringify(r.dims)));
        }
        assert.equal(v.released.length + v.suppressed, cells.length);
        assert.equal(v.suppressed, cells.filter((c) => !(Number.isInteger(c.n) && c.n >= minCell)).length);
      }),
    );
  });

  it('property: a small cell leaves no trace but the number of suppressed cells', () => {
    fc.assert(
      fc.property(fc.array(cell, { maxLength: 20 }), fc.integer({ min: 1, max: 25 }), fc.string({ minLength: 20, maxLength: 30 }), (cells, minCell, secret) => {
        // A secret dimension value carried only by small cells never appears in the release.
        const marked = cells.map((c) => (c.n < minCell ? { ...c, dims: { ...c.dims, patient: secret } } : c));
        const v = disclosureCheck(marked, minCell);
        assert.ok(!JSON.stringify(v.released).includes(secret) || cells.some((c) => c.n >= minCell && JSON.stringify(c.dims).includes(secret)));
      }),
    );
  });

  it('releases the cells at the threshold and withholds those under it', () => {
    const v = disclosureCheck([{ dims: { age_band: '40-59' }, n: 10 }, { dims: { age_band: '18-39' }, n: 9 }], 10);
    assert.deepEqual(v.released, [{ dims: { age_band: '40-59' }, n: 10 }]);
    assert.equal(v.suppressed, 1);
    assert.throws(() => disclosureCheck([], 0));
  });
});
