import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { qualifiedAt, validAt } from './qualification.ts';

describe('qualified at time T', () => {
  const from = '2026-01-01T00:00:00.000Z';
  const until = '2026-07-01T00:00:00.000Z';
  const q = [{ code: 'acute-zorg', validFrom: from, validUntil: until }];

  it('counts from the first instant of the window and no longer at its end (half-open)', () => {
    assert.equal(qualifiedAt(q, 'acute-zorg', new Date(from)), true);
    assert.equal(qualifiedAt(q, 'acute-zorg', Date.parse(until) - 1), true);
    assert.equal(qualifiedAt(q, 'acute-zorg', new Date(until)), false);
    assert.equal(qualifiedAt(q, 'acute-zorg', Date.parse(from) - 1), false);
  });

  it('reads both the register shape and a node view, and a bare code', () => {
    assert.equal(qualifiedAt([{ qualification: 'x', validFrom: from, validUntil: null }], 'x', Date.parse(until) + 1e9), true);
    assert.equal(qualifiedAt([{ qualification: 'x', validFrom: from, validUntil: null }], 'y', Date.parse(until)), false);
    assert.equal(qualifiedAt(['x'], 'x', 0), true);
    assert.equal(qualifiedAt([], 'x', 0), false);
  });

  it('refuses a window it cannot read (deny on error)', () => {
    assert.equal(validAt({ validFrom: 'yesterday' }, Date.now()), false);
    assert.equal(validAt({ validUntil: 'never' }, Date.now()), false);
  });

  it('two windows that touch never both count, and one of them always does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 1, max: 1e10 }), fc.integer({ min: -5, max: 5 }), (start, length, offset) => {
        const seam = start + length;
        const first = { validFrom: new Date(start).toISOString(), validUntil: new Date(seam).toISOString() };
        const second = { validFrom: first.validUntil, validUntil: null };
        const at = seam + offset;
        if (at < start) return;
        assert.equal(Number(validAt(first, at)) + Number(validAt(second, at)), 1);
      }),
    );
  });
});
