import { constants, createCipheriv, KeyObject, publicEncrypt, randomBytes } from 'node:crypto';
import type { CryptoKey } from 'jose';

// JWE compact serialisation (RFC 7516 §7.1) with alg RSA-OAEP-256 and enc A256GCM, composed
// directly from node:crypto. It is the PRS's hot path: jose's WebCrypto route costs ~2.5x more per
// token (promise hops and a key conversion per call) for the same two primitives. Only the
// producing side lives here; every consumer decrypts with jose (jwe-seal.test.ts checks that).

const CEK_BYTES = 32; // A256GCM
const IV_BYTES = 12; // 96-bit GCM nonce, fresh per token (the CEK is fresh too)

const publicKeys = new WeakMap<CryptoKey, KeyObject>();

/** A node public KeyObject for an RSA public key given as KeyObject or WebCrypto CryptoKey (converted once). */
export function rsaPublicKeyObject(key: CryptoKey | KeyObject): KeyObject {
  let ko = key instanceof KeyObject ? key : publicKeys.get(key);
  if (!ko) {
    ko = KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
    publicKeys.set(key as CryptoKey, ko);
  }
  if (ko.type !== 'public' || ko.asymmetricKeyType !== 'rsa') throw new Error('JWE recipient key must be an RSA public key');
  return ko;
}

/** Compact JWE of `plaintext` to `key` (RSA-OAEP-256 + A256GCM); `header` adds protected members (typ, kid). */
export function sealRsaOaep256A256Gcm(plaintext: Uint8Array, key: CryptoKey | KeyObject, header: Record<string, string> = {}): string {
  const publicKey = rsaPublicKeyObject(key);
  const protectedHeader = Buffer.from(JSON.stringify({ ...header, alg: 'RSA-OAEP-256', enc: 'A256GCM' })).toString('base64url');
  const cek = randomBytes(CEK_BYTES);
  const iv = randomBytes(IV_BYTES);
  const encryptedKey = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, cek);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  // RFC 7516 §5.1 step 14: the AAD is the ASCII of the encoded protected header.
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  cek.fill(0);
  return [protectedHeader, encryptedKey.toString('base64url'), iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
}
