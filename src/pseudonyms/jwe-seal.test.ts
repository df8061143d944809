import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compactDecrypt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { sealRsaOaep256A256Gcm } from './jwe-seal.ts';

// The PRS seals with node:crypto; every recipient opens with jose. Both must agree on RFC 7516.

describe('JWE seal (RSA-OAEP-256 + A256GCM, node:crypto)', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256');
  const opts = { keyManagementAlgorithms: ['RSA-OAEP-256'], contentEncryptionAlgorithms: ['A256GCM'] };

  it('jose decrypts what we seal, for any plaintext (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (pt) => {
        const jwe = sealRsaOaep256A256Gcm(pt, publicKey, { typ: 'prs-eval+json', kid: 'k1' });
        const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey, opts);
        assert.deepEqual(new Uint8Array(plaintext), new Uint8Array(pt));
        assert.deepEqual(protectedHeader, { typ: 'prs-eval+json', kid: 'k1', alg: 'RSA-OAEP-256', enc: 'A256GCM' });
      }),
      { numRuns: 30 },
    );
  });

  it('uses a fresh key and IV every time', () => {
    const a = sealRsaOaep256A256Gcm(new Uint8Array(8), publicKey).split('.');
    const b = sealRsaOaep256A256Gcm(new Uint8Array(8), publicKey).split('.');
    assert.notEqual(a[1], b[1]);
    assert.notEqual(a[2], b[2]);
    assert.notEqual(a[3], b[3]);
  });

  it('binds the protected header: a changed header does not decrypt', async () => {
    const parts = sealRsaOaep256A256Gcm(new Uint8Array([1, 2, 3]), publicKey, { kid: 'a' }).split('.');
    parts[0] = Buffer.from(JSON.stringify({ ...decodeProtectedHeader(parts.join('.')), kid: 'b' })).toString('base64url');
    await assert.rejects(compactDecrypt(parts.join('.'), privateKey, opts));
  });

  it('header members cannot override alg/enc, and non-RSA keys are refused', async () => {
    const jwe = sealRsaOaep256A256Gcm(new Uint8Array(1), publicKey, { alg: 'dir', enc: 'A128GCM' });
    assert.deepEqual({ alg: decodeProtectedHeader(jwe).alg, enc: decodeProtectedHeader(jwe).enc }, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    assert.throws(() => sealRsaOaep256A256Gcm(new Uint8Array(1), generateKeyPairSync('x25519').publicKey));
    assert.throws(() => sealRsaOaep256A256Gcm(new Uint8Array(1), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey));
  });
});
