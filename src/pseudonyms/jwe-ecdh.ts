import { createCipheriv, createDecipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, type JsonWebKey, KeyObject, randomBytes } from 'node:crypto';
import { JweRefused } from './errors.ts';

// JWE compact serialisation with alg ECDH-ES+A256KW (RFC 7518 §4.6) and enc A256GCM, on X25519 or
// P-256, composed from node:crypto primitives (X25519/ECDH, SHA-256, AES key wrap RFC 3394,
// AES-GCM) like jwe-seal.ts does for RSA. jose's WebCrypto route costs ~1.5 ms per decrypt on this
// machine (a key import per step and many promise hops), as much as RSA; these primitives take
// 0.2-0.4 CPU-ms, and the NVI opens one such token per lookup. jwe-ecdh.test.ts checks both directions against jose.

export const ECDH_ALG = 'ECDH-ES+A256KW';
const ENC = 'A256GCM';
const KEY_BITS = 256;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** RFC 3394 §2.2.3.1 default initial value, which node's id-aes256-wrap checks on unwrap. */
const KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

export type EcCurve = 'X25519' | 'P-256';

export { JweRefused };

/** The curve of an X25519 or P-256 KeyObject, or undefined for any other key. */
export function ecdhCurveOf(key: KeyObject): EcCurve | undefined {
  if (key.asymmetricKeyType === 'x25519') return 'X25519';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'P-256';
  return undefined;
}

function lengthPrefixed(bytes: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

// The Concat KDF input around Z is the same for every token of this alg (apu/apv are almost
// always absent): built once, so a decrypt hashes three buffers instead of building six.
const KDF_ROUND = Buffer.from([0, 0, 0, 1]);
const KDF_ALG_ID = lengthPrefixed(Buffer.from(ECDH_ALG, 'ascii'));
const KDF_SUPP_PUB = Buffer.from([0, 0, KEY_BITS >> 8, KEY_BITS & 0xff]);
const KDF_TAIL_WITHOUT_PARTY_INFO = Buffer.concat([KDF_ALG_ID, lengthPrefixed(Buffer.alloc(0)), lengthPrefixed(Buffer.alloc(0)), KDF_SUPP_PUB]);

/** RFC 7518 §4.6.2 Concat KDF (NIST SP 800-56A), one SHA-256 round: the wrapping key is 256 bits. */
function concatKdf(z: Buffer, apu: Buffer, apv: Buffer): Buffer {
  const tail = apu.length === 0 && apv.length === 0 ? KDF_TAIL_WITHOUT_PARTY_INFO : Buffer.concat([KDF_ALG_ID, lengthPrefixed(apu), lengthPrefixed(apv), KDF_SUPP_PUB]);
  return createHash('sha256').update(KDF_ROUND).update(z).update(tail).digest();
}

function publicEpk(key: KeyObject): JsonWebKey {
  const { kty, crv, x, y } = key.export({ format: 'jwk' });
  return y ? { kty, crv, x, y } : { kty, crv, x };
}

/** Compact JWE of `plaintext` to an X25519 or P-256 public key; `header` adds protected members. */
export function sealEcdhEsA256Kw(plaintext: Uint8Array, recipient: KeyObject, header: Record<string, string> = {}): string {
  const curve = recipient.type === 'public' ? ecdhCurveOf(recipient) : undefined;
  if (!curve) throw new Error('JWE recipient key must be an X25519 or P-256 public key');
  const ephemeral = curve === 'X25519' ? generateKeyPairSync('x25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kek = concatKdf(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), Buffer.alloc(0), Buffer.alloc(0));
  const protectedHeader = Buffer.from(JSON.stringify({ ...header, alg: ECDH_ALG, enc: ENC, epk: publicEpk(ephemeral.publicKey) })).toString('base64url');
  const cek = randomBytes(KEY_BITS / 8);
  const wrap = createCipheriv('id-aes256-wrap', kek, KW_IV);
  const encryptedKey = Buffer.concat([wrap.update(cek), wrap.final()]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', cek, iv);
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = cipher.getAuthTag();
  cek.fill(0);
  kek.fill(0);
  return [protectedHeader, encryptedKey.toString('base64url'), iv.toString('base64url'), ciphertext.toString('base64url'), tag.toString('base64url')].join('.');
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Opens a compact ECDH-ES+A256KW / A256GCM JWE with the recipient's X25519 or P-256 private key.
 * Refuses any other alg/enc, compression, critical extensions and an epk on another curve.
 * Returns the plaintext and the protected header.
 */
export function openEcdhEsA256Kw(jwe: string, privateKey: KeyObject): { plaintext: Buffer; header: Record<string, unknown> } {
  const curve = privateKey.type === 'private' ? ecdhCurveOf(privateKey) : undefined;
  if (!curve) throw new JweRefused('JWE decryption key must be an X25519 or P-256 private key');
  const parts = jwe.split('.');
  if (parts.length !== 5 || !parts.every((p) => B64URL.test(p))) throw new JweRefused('not a compact JWE');
  const [h, ek, ivText, ctText, tagText] = parts;
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    throw new JweRefused('JWE protected header is not JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new JweRefused('JWE protected header is not an object');
  if (header.alg !== ECDH_ALG || header.enc !== ENC) throw new JweRefused(`JWE must use ${ECDH_ALG} with ${ENC}`);
  if ('zip' in header || 'crit' in header) throw new JweRefused('JWE compression and critical extensions are not accepted');
  const epk = header.epk as JsonWebKey | undefined;
  if (typeof epk !== 'object' || epk === null || epk.crv !== curve || 'd' in epk) throw new JweRefused(`JWE epk must be a public ${curve} key`);
  let ephemeral: KeyObject;
  try {
    ephemeral = createPublicKey({ key: { kty: epk.kty, crv: epk.crv, x: epk.x, ...(epk.y !== undefined ? { y: epk.y } : {}) }, format: 'jwk' });
  } catch {
    throw new JweRefused('JWE epk is not a valid public key');
  }
  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new JweRefused('JWE iv or tag has the wrong length');
  const optional = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'base64url') : Buffer.alloc(0));
  let cek: Buffer;
  try {
    const kek = concatKdf(diffieHellman({ privateKey, publicKey: ephemeral }), optional(header.apu), optional(header.apv));
    const unwrap = createDecipheriv('id-aes256-wrap', kek, KW_IV);
    cek = Buffer.concat([unwrap.update(Buffer.from(ek, 'base64url')), unwrap.final()]);
    kek.fill(0);
  } catch {
    throw new JweRefused('JWE key cannot be unwrapped by this recipient');
  }
  if (cek.length !== KEY_BITS / 8) throw new JweRefused('JWE content key has the wrong length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', cek, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(h, 'ascii'));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(Buffer.from(ctText, 'base64url')), decipher.final()]);
    return { plaintext, header };
  } catch {
    throw new JweRefused('JWE content does not authenticate');
  } finally {
    cek.fill(0);
  }
}

/** True when a node KeyObject can be used with this JWE form. */
export function isEcdhKey(key: unknown): key is KeyObject {
  return key instanceof KeyObject && ecdhCurveOf(key) !== undefined;
}
