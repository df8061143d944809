import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { JweRefused, openEcdhEsA256Kw, sealEcdhEsA256Kw } from './jwe-ecdh.ts';

// Our node:crypto ECDH-ES+A256KW / A256GCM must agree with jose (an independent RFC 7516/7518
// implementation) in both directions, on both curves, and refuse anything else.

const opts = { keyManagementAlgorithms: ['ECDH-ES+A256KW'], contentEncryptionAlgorithms: ['A256GCM'] };
const curves: Array<[string, () => { publicKey: KeyObject; privateKey: KeyObject }]> = [
  ['X25519', () => generateKeyPairSync('x25519')],
  ['P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
];

for (const [curve, make] of curves) {
  describe(`JWE ECDH-ES+A256KW + A256GCM on ${curve} (node:crypto)`, () => {
    const { publicKey, privateKey } = make();

    it('jose opens what we seal, for any plaintext (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (pt) => {
          const jwe = sealEcdhEsA256Kw(pt, publicKey, { typ: 'prs-eval+json', kid: 'k1' });
          const { plaintext, protectedHeader } = await compactDecrypt(jwe, privateKey, opts);
          assert.deepEqual(new Uint8Array(plaintext), new Uint8Array(pt));
          assert.equal(protectedHeader.kid, 'k1');
          assert.equal((protectedHeader.epk as { crv: string }).crv, curve);
        }),
        { numRuns: 25 },
      );
    });

    it('we open what jose seals, also with apu/apv (property)', async () => {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (pt, withParties) => {
          const enc = new CompactEncrypt(pt).setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
          if (withParties) enc.setKeyManagementParameters({ apu: new Uint8Array([1, 2]), apv: new Uint8Array([3]) });
          const { plaintext } = openEcdhEsA256Kw(await enc.encrypt(publicKey), privateKey);
          assert.deepEqual(new Uint8Array(plaintext), new Uint8Array(pt));
        }),
        { numRuns: 25 },
      );
    });

    it('a fresh ephemeral key, CEK and IV every time', () => {
      const a = sealEcdhEsA256Kw(new Uint8Array(8), publicKey);
      const b = sealEcdhEsA256Kw(new Uint8Array(8), publicKey);
      assert.notDeepEqual(decodeProtectedHeader(a).epk, decodeProtectedHeader(b).epk);
      assert.notEqual(a.split('.')[1], b.split('.')[1]);
      assert.notEqual(a.split('.')[2], b.split('.')[2]);
    });

    it('refuses another recipient, an altered header, ciphertext or tag, and garbage (property)', () => {
      const jwe = sealEcdhEsA256Kw(new Uint8Array([1, 2, 3]), publicKey, { kid: 'a' });
      assert.throws(() => openEcdhEsA256Kw(jwe, make().privateKey), JweRefused);
      const parts = jwe.split('.');
      const header = { ...decodeProtectedHeader(jwe), kid: 'b' };
      assert.throws(() => openEcdhEsA256Kw([Buffer.from(JSON.stringify(header)).toString('base64url'), ...parts.slice(1)].join('.'), privateKey), JweRefused);
      for (const i of [1, 3, 4]) {
        const altered = [...parts];
        const bytes = Buffer.from(altered[i], 'base64url');
        bytes[0] ^= 1;
        altered[i] = bytes.toString('base64url');
        assert.throws(() => openEcdhEsA256Kw(altered.join('.'), privateKey), JweRefused);
      }
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), (s) => {
          assert.throws(() => openEcdhEsA256Kw(s, privateKey), JweRefused);
        }),
        { numRuns: 200 },
      );
    });

    it('refuses other algorithms, zip, crit and an epk on another curve', () => {
      const parts = sealEcdhEsA256Kw(new Uint8Array(1), publicKey).split('.');
      const base = decodeProtectedHeader(parts.join('.'));
      const otherCurve = curve === 'X25519' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('x25519');
      for (const change of [{ alg: 'ECDH-ES' }, { enc: 'A128GCM' }, { zip: 'DEF' }, { crit: ['x'] }, { epk: otherCurve.publicKey.export({ format: 'jwk' }) }]) {
        const h = Buffer.from(JSON.stringify({ ...base, ...change })).toString('base64url');
        assert.throws(() => openEcdhEsA256Kw([h, ...parts.slice(1)].join('.'), privateKey), JweRefused);
      }
    });

    it('seals only to a public key of a supported curve', () => {
      assert.throws(() => sealEcdhEsA256Kw(new Uint8Array(1), privateKey));
      assert.throws(() => sealEcdhEsA256Kw(new Uint8Array(1), generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey));
      assert.throws(() => sealEcdhEsA256Kw(new Uint8Array(1), generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey));
    });
  });
}
