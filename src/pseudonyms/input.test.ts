import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { isValidBsn, testBsn } from '../kit/identifiers/bsn.ts';
import { InvalidBsnError, pseudonymInput } from './input.ts';

describe('pseudonym input (JCS + HKDF-SHA256)', () => {
  const bsn = testBsn(1001);

  it('is 32 bytes and deterministic', () => {
    const a = pseudonymInput(bsn, 'ura:90000001', 'nationale-verwijsindex');
    assert.equal(a.length, 32);
    assert.equal(bytesToHex(a), bytesToHex(pseudonymInput(bsn, 'ura:90000001', 'nationale-verwijsindex')));
  });

  it('differs per recipient and per scope', () => {
    const base = bytesToHex(pseudonymInput(bsn, 'ura:90000001', 'nationale-verwijsindex'));
    assert.notEqual(base, bytesToHex(pseudonymInput(bsn, 'ura:90000002', 'nationale-verwijsindex')));
    assert.notEqual(base, bytesToHex(pseudonymInput(bsn, 'ura:90000001', 'other-scope')));
  });

  it('refuses every string that fails the 11-test, without echoing it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (s) => {
        if (isValidBsn(s)) return;
        assert.throws(
          () => pseudonymInput(s, 'ura:90000001', 'nvi'),
          (e: unknown) => e instanceof InvalidBsnError && e.code === 'ERR_PRS_INVALID_BSN' && e.message === 'not a valid BSN (11-test failed)',
        );
      }),
    );
    assert.throws(() => pseudonymInput('123456789', 'ura:90000001', 'nvi'), InvalidBsnError);
  });

  it('refuses malformed recipients and scopes', () => {
    assert.throws(() => pseudonymInput(bsn, 'oin:123', 'nvi'));
    assert.throws(() => pseudonymInput(bsn, 'ura:90000001', 'a|b'));
  });
});
