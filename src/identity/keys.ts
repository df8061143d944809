import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { Queryable } from '../kit/store/store.ts';

// RS256 keys (Dezi signs verklaringen with RS256; the id_token default alg is RS256 too) and
// cookie secrets. They live in the part's store so that several instances over one PostgreSQL
// sign and verify with the same material; a PGlite data directory keeps them across restarts.
// STUB for production: private keys belong in an HSM or a mounted secret, not in a table.

export const KEYS_MIGRATION_SQL = `
CREATE TABLE identity_keys (
  purpose text PRIMARY KEY,
  material jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`;

export interface RsaKeyPair {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

async function freshRsa(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  return exportJWK(privateKey);
}

async function describe(privateJwk: JWK): Promise<RsaKeyPair> {
  const { kty, n, e } = privateJwk;
  const kid = await calculateJwkThumbprint({ kty, n, e } as JWK);
  return {
    kid,
    privateJwk: { ...privateJwk, kid, alg: 'RS256', use: 'sig' },
    publicJwk: { kty, n, e, kid, alg: 'RS256', use: 'sig' },
  };
}

/** First writer wins: concurrent instances starting together converge on one stored value. */
async function loadOrCreate<T>(db: Queryable, purpose: string, create: () => Promise<T>): Promise<T> {
  const read = async () => (await db.query<{ material: unknown }>('SELECT material FROM identity_keys WHERE purpose = $1', [purpose]))[0];
  const existing = await read();
  if (existing) return parse<T>(existing.material);
  await db.query('INSERT INTO identity_keys (purpose, material) VALUES ($1, $2) ON CONFLICT (purpose) DO NOTHING', [
    purpose,
    JSON.stringify(await create()),
  ]);
  return parse<T>((await read()).material);
}

function parse<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export async function loadOrCreateRsaKey(db: Queryable, purpose: string): Promise<RsaKeyPair> {
  return describe(await loadOrCreate(db, purpose, freshRsa));
}

/** Secrets for signing the OIDC library's cookies (shared by instances, like the keys). */
export async function loadOrCreateCookieKeys(db: Queryable): Promise<string[]> {
  return loadOrCreate(db, 'cookie-keys', async () => [randomBytes(32).toString('base64url')]);
}

export function publicJwks(...pairs: RsaKeyPair[]): JSONWebKeySet {
  return { keys: pairs.map((p) => p.publicJwk) };
}
