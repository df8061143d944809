import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { PartKeys } from '../../kit/keys/part-keys.ts';
import type { Store } from '../../kit/store/store.ts';

// Signing keys of an authorisation server (and of the trust framework's documents). ES256:
// the same curve as the network certificates. The private key lives in the part's store so
// that several instances over one PostgreSQL sign with the same key (STUB for production,
// where it belongs in an HSM or a mounted secret).

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  /** A WebCrypto key: jose signs with it directly (a KeyObject would be re-imported per call). */
  privateKey: CryptoKey;
  publicKey: KeyObject;
  publicJwk: JWK;
  privateJwk: JWK;
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  const keyObject = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const publicKey = createPublicKey(keyObject);
  const privateKey = await webcrypto.subtle.importKey('jwk', jwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return { kid, alg: 'ES256', privateKey, publicKey, publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' }, privateJwk: jwk };
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return fromPrivateJwk(await exportJWK(privateKey));
}

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * A KeyObject as jose uses it fastest: P-256 keys become WebCrypto keys once (jose would
 * otherwise convert a KeyObject on every call); other keys (RSA) stay as they are.
 */
export async function webCryptoKeyOf(key: KeyObject): Promise<CryptoKey | KeyObject> {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return key;
  return key.type === 'private'
    ? webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign'])
    : webcrypto.subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), EC_P256, false, ['verify']);
}

/**
 * The key for `purpose` from the store, created on first use (first writer wins across instances).
 * With the part's sealed key store (`keys`) the private key is kept sealed there and a clear row
 * an earlier version left in auth_signing_keys is moved into it; without, it stays in that table
 * in clear (tests and benchmarks).
 */
export async function loadOrCreateSigningKey(store: Store, purpose = 'access-token', keys?: PartKeys): Promise<SigningKey> {
  if (keys) {
    const text = await keys.secret(`signing-key:${purpose}`, {
      legacyRow: {
        read: async () => {
          const rows = await store.query<{ private_jwk: JWK }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [purpose]);
          return rows.length ? JSON.stringify(parseJwk(rows[0].private_jwk)) : undefined;
        },
        forget: async () => void (await store.query('DELETE FROM auth_signing_keys WHERE purpose = $1', [purpose])),
      },
      make: async () => JSON.stringify((await generateSigningKey()).privateJwk),
    });
    return fromPrivateJwk(JSON.parse(text) as JWK);
  }
  const existing = await store.query<{ private_jwk: JWK }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [purpose]);
  if (existing.length > 0) return fromPrivateJwk(parseJwk(existing[0].private_jwk));
  const fresh = await generateSigningKey();
  const privateJwk = fresh.privateJwk;
  await store.query(
    'INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING',
    [purpose, fresh.kid, JSON.stringify(privateJwk)],
  );
  const row = await store.query<{ private_jwk: JWK }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [purpose]);
  return fromPrivateJwk(parseJwk(row[0].private_jwk));
}

function parseJwk(value: unknown): JWK {
  return (typeof value === 'string' ? JSON.parse(value) : value) as JWK;
}

export function publicJwks(keys: SigningKey[]): JSONWebKeySet {
  return { keys: keys.map((k) => k.publicJwk) };
}
