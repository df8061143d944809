import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { Store } from '../../kit/store/store.ts';

// Signing keys of an authorisation server (and of the trust framework's documents). ES256:
// the same curve as the network certificates. The private key lives in the part's store so
// that several instances over one PostgreSQL sign with the same key (STUB for production,
// where it belongs in an HSM or a mounted secret).

export interface SigningKey {
  kid: string;
  alg: 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

async function fromPrivateJwk(jwk: JWK): Promise<SigningKey> {
  const privateKey = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  return { kid, alg: 'ES256', privateKey, publicKey, publicJwk: { ...pub, kid, alg: 'ES256', use: 'sig' } };
}

export async function generateSigningKey(): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return fromPrivateJwk(await exportJWK(privateKey));
}

/** The key for `purpose` from the store, created on first use (first writer wins across instances). */
export async function loadOrCreateSigningKey(store: Store, purpose = 'access-token'): Promise<SigningKey> {
  const existing = await store.query<{ private_jwk: JWK }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [purpose]);
  if (existing.length > 0) return fromPrivateJwk(parseJwk(existing[0].private_jwk));
  const fresh = await generateSigningKey();
  const privateJwk = await exportJWK(fresh.privateKey);
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
