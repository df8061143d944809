import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { generateKeyPair } from 'jose';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { evaluateForRecipient } from '../../pseudonyms/evaluate.ts';
import { pseudonymToken } from '../../pseudonyms/holder.ts';
import { KeyRing } from '../../pseudonyms/keyring.ts';
import { sodiumReady } from '../../pseudonyms/sodium.ts';
import { TRANSPARENCY_RECIPIENT_SCOPE } from './recipient-keys.ts';
import { type PseudonymKeys, PseudonymTokenRefused, stablePseudonyms } from './stable-pseudonym.ts';

// The transparency part's side of PRS tokens, against an in-process PRS (KeyRing + evaluate).

const AUDIENCE = 'ura:90000001';

async function setup() {
  await sodiumReady();
  const seed = randomBytes(32);
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256');
  const keys: PseudonymKeys = { audience: AUDIENCE, scope: TRANSPARENCY_RECIPIENT_SCOPE, decryptionKey: privateKey, pseudonymKey: randomBytes(32) };
  let keyring = new KeyRing({ seed, versions: [1] });
  let clock = Date.now();
  const token = (bsn: string, to = { audience: AUDIENCE, scope: TRANSPARENCY_RECIPIENT_SCOPE }) =>
    pseudonymToken(bsn, to.audience, to.scope, (req) => evaluateForRecipient(req, { keyring, recipientKey: async () => ({ key: publicKey }), now: () => clock }));
  return {
    keys,
    token,
    rotate: (versions: number[]) => (keyring = new KeyRing({ seed, versions })),
    setClock: (ms: number) => (clock = ms),
  };
}

describe('stable transparency pseudonyms', () => {
  it('are equal for every token of one BSN, differ per BSN and per pseudonym key', async () => {
    const s = await setup();
    const a1 = await stablePseudonyms(await s.token(testBsn(1)), s.keys);
    const a2 = await stablePseudonyms(await s.token(testBsn(1)), s.keys);
    const b = await stablePseudonyms(await s.token(testBsn(2)), s.keys);
    assert.deepEqual(a1, a2);
    assert.notDeepEqual(a1, b);
    assert.match(a1[0], /^1\.[A-Za-z0-9_-]{43}$/);
    const other = await stablePseudonyms(await s.token(testBsn(1)), { ...s.keys, pseudonymKey: randomBytes(32) });
    assert.notDeepEqual(a1, other);
  });

  it('refuses expired, future, mis-addressed and other-scope tokens', async () => {
    const s = await setup();
    const t = await s.token(testBsn(3));
    await assert.rejects(stablePseudonyms(t, s.keys, Date.now() + 301_000), (e) => e instanceof PseudonymTokenRefused && /expired/.test(e.message));
    // Judged at an earlier moment (the event's recorded time), the same token is fine.
    assert.equal((await stablePseudonyms(t, s.keys, Date.now() + 200_000)).length, 1);
    await assert.rejects(stablePseudonyms(t, s.keys, Date.now() - 120_000), /future/);
    await assert.rejects(stablePseudonyms(await s.token(testBsn(3), { audience: 'ura:90000101', scope: TRANSPARENCY_RECIPIENT_SCOPE }), s.keys), /another recipient/);
    await assert.rejects(stablePseudonyms(await s.token(testBsn(3), { audience: AUDIENCE, scope: 'nationale-verwijsindex' }), s.keys), /another scope/);
  });

  it('keep earlier events findable across a PRS key rotation (older version listed after current)', async () => {
    const s = await setup();
    const before = await stablePseudonyms(await s.token(testBsn(4)), s.keys);
    s.rotate([1, 2]);
    const after = await stablePseudonyms(await s.token(testBsn(4)), s.keys);
    assert.equal(after.length, 2);
    assert.match(after[0], /^2\./);
    assert.equal(after[1], before[0]);
  });

  it('property: anything that is not a token is refused as such, never with another error', async () => {
    const s = await setup();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.base64String(), fc.constant(''), fc.integer(), fc.constant(null)), async (value) => {
        await assert.rejects(stablePseudonyms(value, s.keys), PseudonymTokenRefused);
      }),
      { numRuns: 200 },
    );
  });
});
