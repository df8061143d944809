import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { acceptedEmergencyReason, MAX_REASON_LENGTH, MIN_REASON_LENGTH } from './emergency-reason.ts';

describe('the emergency reason rule', () => {
  it('takes a trimmed reason from the shortest to the longest length, and nothing else', () => {
    assert.equal(acceptedEmergencyReason('  bewusteloos  '), 'bewusteloos');
    assert.equal(acceptedEmergencyReason('x'.repeat(MIN_REASON_LENGTH)), 'x'.repeat(MIN_REASON_LENGTH));
    assert.equal(acceptedEmergencyReason(`  ${'x'.repeat(MIN_REASON_LENGTH - 1)}  `), undefined);
    assert.equal(acceptedEmergencyReason('x'.repeat(MAX_REASON_LENGTH)), 'x'.repeat(MAX_REASON_LENGTH));
    assert.equal(acceptedEmergencyReason('x'.repeat(MAX_REASON_LENGTH + 1)), undefined);
    assert.equal(acceptedEmergencyReason('     '), undefined);
    assert.equal(acceptedEmergencyReason(undefined), undefined);
    assert.equal(acceptedEmergencyReason(42), undefined);
  });

  it('whatever it accepts it accepts again unchanged (portal, node and holder agree)', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const once = acceptedEmergencyReason(input);
        if (once === undefined) return;
        assert.equal(acceptedEmergencyReason(once), once);
        assert.ok(once.length >= MIN_REASON_LENGTH && once.length <= MAX_REASON_LENGTH);
      }),
    );
  });
});
