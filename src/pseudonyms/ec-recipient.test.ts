import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { migrate } from '../kit/store/migrate.ts';
import { evaluateForRecipient } from './evaluate.ts';
import { TokenRefused } from './evaluation-token.ts';
import { pseudonymToken } from './holder.ts';
import { KeyRing } from './keyring.ts';
import { decodePseudonymToken } from './nvi-identifier.ts';
import { recipientElements } from './recipient.ts';
import { generateRecipientJwk, importDecryptionKey, publicRecipientJwk, recipientKeyType } from './recipient-jwk.ts';
import { acceptRecipientJwk, prsMigrations, putRecipientKey, recipientKeyLookup } from './recipient-keys.ts';
import { LdnError } from '../kit/errors.ts';

// Elliptic-curve recipients (design §5): a recipient registers an X25519 or P-256 key and the PRS
// seals with ECDH-ES+A256KW; the pseudonym (the unblinded element) does not depend on the JWE form.

const NVI = 'ura:90000001';
const SCOPE = 'nationale-verwijsindex';

function status(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof LdnError ? err.status : -1;
  }
  return undefined;
}

describe('PRS recipient keys: elliptic curve', () => {
  it('accepts public X25519 and P-256 keys with their RFC 7638 thumbprint as kid', async () => {
    for (const kp of [generateKeyPairSync('x25519'), generateKeyPairSync('ec', { namedCurve: 'P-256' })]) {
      const pub = kp.publicKey.export({ format: 'jwk' });
      const { jwk, kid } = acceptRecipientJwk({ ...pub, alg: 'ECDH-ES+A256KW' });
      assert.equal(jwk.alg, 'ECDH-ES+A256KW');
      const { calculateJwkThumbprint } = await import('jose');
      assert.equal(kid, await calculateJwkThumbprint(pub as JWK));
    }
  });

  it('refuses private material, other curves, another alg and points not on the curve (400)', () => {
    const x = generateKeyPairSync('x25519');
    const p = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    assert.equal(status(() => acceptRecipientJwk(x.privateKey.export({ format: 'jwk' }))), 400);
    assert.equal(status(() => acceptRecipientJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }))), 400);
    assert.equal(status(() => acceptRecipientJwk(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }))), 400);
    assert.equal(status(() => acceptRecipientJwk({ ...x.publicKey.export({ format: 'jwk' }), alg: 'RSA-OAEP-256' })), 400);
    assert.equal(status(() => acceptRecipientJwk({ ...p, y: p.x })), 400);
  });

  it('never answers a malformed key with anything but 400 (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom('OKP', 'EC'), fc.constantFrom('X25519', 'P-256', 'Ed25519', undefined), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (kty, crv, xb, yb) => {
        const s = status(() => acceptRecipientJwk({ kty, crv, x: Buffer.from(xb).toString('base64url'), y: Buffer.from(yb).toString('base64url') }));
        assert.ok(s === undefined || s === 400, `status ${s}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a recipient creates an X25519 key by default; its public part carries no private member', () => {
    const jwk = generateRecipientJwk();
    assert.equal(recipientKeyType(jwk), 'X25519');
    const pub = publicRecipientJwk(jwk);
    assert.equal(pub.d, undefined);
    assert.equal(pub.alg, 'ECDH-ES+A256KW');
    assert.doesNotThrow(() => acceptRecipientJwk(pub));
  });
});

describe('holder → PRS → EC recipient', async () => {
  const seed = randomBytes(32);
  const keyring = new KeyRing({ seed, versions: [1, 2] });
  const store = await openIsolatedPgliteStore('prs_ec_test');
  await migrate(store, prsMigrations);
  const lookup = recipientKeyLookup(store, 0);

  async function elementsVia(privateJwk: JWK, publicJwk: JWK, bsn: string) {
    const { jwk, kid } = acceptRecipientJwk(publicJwk);
    await putRecipientKey(store, NVI, SCOPE, jwk, kid);
    const value = await pseudonymToken(bsn, NVI, SCOPE, (req) => evaluateForRecipient(req, { keyring, recipientKey: lookup }));
    const token = decodePseudonymToken(value);
    assert.ok(token);
    return { token, elements: await recipientElements(token, await importDecryptionKey(privateJwk), { audience: NVI, scope: SCOPE }) };
  }

  it('gives the same pseudonyms (every key version) whether the recipient holds X25519, P-256 or RSA (property)', async () => {
    const x = generateRecipientJwk();
    const p = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }) as JWK;
    const rsa = await exportJWK((await generateKeyPair('RSA-OAEP-256', { extractable: true })).privateKey);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 9_999_999 }), async (n) => {
        const bsn = testBsn(n);
        const viaX = (await elementsVia(x, publicRecipientJwk(x), bsn)).elements;
        const viaP = (await elementsVia(p, publicRecipientJwk(p), bsn)).elements;
        const viaRsa = (await elementsVia(rsa, publicRecipientJwk(rsa), bsn)).elements;
        assert.equal(viaX.length, 2);
        assert.deepEqual(viaX, viaP);
        assert.deepEqual(viaX, viaRsa);
      }),
      { numRuns: 4 },
    );
  });

  it('a token sealed to one key is refused by another recipient key, of either type', async () => {
    const x = generateRecipientJwk();
    const { token } = await elementsVia(x, publicRecipientJwk(x), testBsn(42));
    await assert.rejects(recipientElements(token, await importDecryptionKey(generateRecipientJwk()), { audience: NVI, scope: SCOPE }), TokenRefused);
    const rsa = await exportJWK((await generateKeyPair('RSA-OAEP-256', { extractable: true })).privateKey);
    await assert.rejects(recipientElements(token, await importDecryptionKey(rsa), { audience: NVI, scope: SCOPE }), TokenRefused);
    const rsaToken = (await elementsVia(rsa, publicRecipientJwk(rsa), testBsn(42))).token;
    await assert.rejects(recipientElements(rsaToken, await importDecryptionKey(x), { audience: NVI, scope: SCOPE }), TokenRefused);
  });

  it('checks audience and expiry for EC tokens too', async () => {
    const x = generateRecipientJwk();
    const { token } = await elementsVia(x, publicRecipientJwk(x), testBsn(7));
    const key = await importDecryptionKey(x);
    await assert.rejects(recipientElements(token, key, { audience: 'ura:90000002', scope: SCOPE }), /another recipient/);
    await assert.rejects(recipientElements(token, key, { audience: NVI, scope: SCOPE, now: Date.now() + 301_000 }), /expired/);
  });
});
