import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { type CryptoKey, importJWK, type JWK } from 'jose';
import { ECDH_ALG } from './jwe-ecdh.ts';

// A PRS recipient's own JWE key pair, by type: X25519 (ECDH-ES+A256KW, what the network's own parts
// create, design §5) or RSA (RSA-OAEP-256, still accepted from settings and older data directories).

export type RecipientKeyType = 'X25519' | 'P-256' | 'RSA';

/** A fresh private JWK of the network's default type (X25519). */
export function generateRecipientJwk(): JWK {
  return generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' }) as JWK;
}

export function recipientKeyType(privateJwk: JWK): RecipientKeyType {
  if (privateJwk.kty === 'RSA') return 'RSA';
  if (privateJwk.kty === 'OKP' && privateJwk.crv === 'X25519') return 'X25519';
  if (privateJwk.kty === 'EC' && privateJwk.crv === 'P-256') return 'P-256';
  throw new Error('a recipient JWE key must be RSA, OKP X25519 or EC P-256');
}

/** The private key in the form openEvaluation uses: a node KeyObject (EC) or a WebCrypto key (RSA, which jose opens). */
export async function importDecryptionKey(privateJwk: JWK): Promise<CryptoKey | KeyObject> {
  if (recipientKeyType(privateJwk) === 'RSA') return (await importJWK({ ...privateJwk, alg: 'RSA-OAEP-256' }, 'RSA-OAEP-256', { extractable: false })) as CryptoKey;
  const { kty, crv, x, y, d } = privateJwk;
  return createPrivateKey({ key: { kty, crv, x, d, ...(y ? { y } : {}) } as JsonWebKey, format: 'jwk' });
}

/** The public JWK the recipient registers at the PRS. */
export function publicRecipientJwk(privateJwk: JWK): JWK {
  const type = recipientKeyType(privateJwk);
  const { kty, crv, x, y, d } = privateJwk;
  const pub = createPublicKey(createPrivateKey({ key: (type === 'RSA' ? privateJwk : { kty, crv, x, d, ...(y ? { y } : {}) }) as JsonWebKey, format: 'jwk' })).export({ format: 'jwk' }) as JWK;
  if (type === 'RSA') return { kty: 'RSA', n: pub.n, e: pub.e, alg: 'RSA-OAEP-256', use: 'enc' };
  return { ...pub, alg: ECDH_ALG, use: 'enc' };
}
