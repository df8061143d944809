import { createHash, createPublicKey, type JsonWebKey } from 'node:crypto';
import type { JWK } from 'jose';
import { badRequest } from '../kit/fhir/outcome.ts';
import type { Migration, Store } from '../kit/store/store.ts';
import type { RecipientKey } from './evaluate.ts';
import { ECDH_ALG } from './jwe-ecdh.ts';

// Recipients' JWE encryption keys at the PRS. A recipient registers its own key over mutual TLS
// (PUT /recipients/<ura>/key, URA taken from its certificate), per scope: in the sandbox every
// central service shares the operator's URA, so the scope tells them apart.

export const prsMigrations: Migration[] = [
  {
    id: '001_recipient_keys',
    sql: `
CREATE TABLE recipient_keys (
  recipient text NOT NULL,
  scope text NOT NULL,
  jwk jsonb NOT NULL,
  kid text NOT NULL,
  updated timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (recipient, scope)
);
`,
  },
];

const MIN_RSA_BITS = 2048;

/**
 * Validates a recipient's public JWE key and returns its canonical public part and kid (RFC 7638
 * thumbprint): RSA (≥ 2048 bits) for RSA-OAEP-256, or X25519 / P-256 for ECDH-ES+A256KW (design §5).
 */
export function acceptRecipientJwk(input: unknown): { jwk: JWK; kid: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badRequest('jwk must be a JSON Web Key object', ['jwk']);
  const j = input as Record<string, unknown>;
  if ('d' in j || 'p' in j || 'q' in j) throw badRequest('jwk must not contain private key material', ['jwk']);
  if (j.kty === 'OKP' || j.kty === 'EC') return acceptEcJwk(j);
  if (j.kty !== 'RSA' || typeof j.n !== 'string' || typeof j.e !== 'string') throw badRequest('jwk must be an RSA public key (kty RSA, n, e) or an X25519 / P-256 key', ['jwk']);
  if (j.alg !== undefined && j.alg !== 'RSA-OAEP-256') throw badRequest('jwk alg must be RSA-OAEP-256', ['jwk.alg']);
  if (Buffer.from(j.n, 'base64url').length * 8 < MIN_RSA_BITS) throw badRequest(`RSA key must have at least ${MIN_RSA_BITS} bits`, ['jwk.n']);
  const jwk: JWK = { kty: 'RSA', n: j.n, e: j.e, alg: 'RSA-OAEP-256', use: 'enc' };
  // RFC 7638 thumbprint as kid: members e, kty, n in lexicographic order.
  const kid = createHash('sha256').update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })).digest('base64url');
  return { jwk: { ...jwk, kid }, kid };
}

function acceptEcJwk(j: Record<string, unknown>): { jwk: JWK; kid: string } {
  const okp = j.kty === 'OKP';
  if (okp ? j.crv !== 'X25519' : j.crv !== 'P-256') throw badRequest('an elliptic-curve jwk must be OKP X25519 or EC P-256', ['jwk.crv']);
  if (j.alg !== undefined && j.alg !== ECDH_ALG) throw badRequest(`jwk alg must be ${ECDH_ALG}`, ['jwk.alg']);
  if (typeof j.x !== 'string' || (!okp && typeof j.y !== 'string')) throw badRequest('jwk lacks its public coordinates', ['jwk']);
  // RFC 7638 members in lexicographic order: crv, kty, x (and y for EC).
  const members = okp ? { crv: 'X25519', kty: 'OKP', x: j.x } : { crv: 'P-256', kty: 'EC', x: j.x, y: j.y as string };
  try {
    // Node checks the length (X25519) and that the point lies on the curve (P-256).
    createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
  } catch {
    throw badRequest('jwk is not a valid public key on its curve', ['jwk']);
  }
  const kid = createHash('sha256').update(JSON.stringify(members)).digest('base64url');
  return { jwk: { ...members, alg: ECDH_ALG, use: 'enc', kid } as JWK, kid };
}

export async function putRecipientKey(store: Store, recipient: string, scope: string, jwk: JWK, kid: string): Promise<boolean> {
  const rows = await store.query<{ inserted: boolean }>(
    `INSERT INTO recipient_keys (recipient, scope, jwk, kid) VALUES ($1, $2, $3, $4)
     ON CONFLICT (recipient, scope) DO UPDATE SET jwk = EXCLUDED.jwk, kid = EXCLUDED.kid, updated = now()
     RETURNING (xmax = 0) AS inserted`,
    [recipient, scope, JSON.stringify(jwk), kid],
  );
  return rows[0]?.inserted === true;
}

export type RecipientKeyLookup = ((recipient: string, scope: string) => Promise<RecipientKey | null>) & {
  /** Forgets one recipient's cached key ("<recipient>|<scope>"), or every one (null). */
  invalidate(id: string | null): void;
};

/** The cache key and change-feed key of a recipient's key. */
export const recipientKeyId = (recipient: string, scope: string) => `${recipient}|${scope}`;

/**
 * Key lookup with a short cache: imported keys are reused; a re-registration at any instance
 * reaches this one through `invalidate` (the PRS's change feed), and within ttlMs regardless.
 */
export function recipientKeyLookup(store: Store, ttlMs = 10_000): RecipientKeyLookup {
  const cache = new Map<string, { at: number; value: RecipientKey | null }>();
  const lookup = async (recipient: string, scope: string) => {
    const id = recipientKeyId(recipient, scope);
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const rows = await store.query<{ jwk: JWK; kid: string }>('SELECT jwk, kid FROM recipient_keys WHERE recipient = $1 AND scope = $2', [recipient, scope]);
    // A node KeyObject, imported once per cache period: the JWE seal uses node:crypto directly.
    const value = rows.length ? { key: createPublicKey({ key: publicMembers(rows[0].jwk), format: 'jwk' }), kid: rows[0].kid } : null;
    if (cache.size > 10_000) cache.clear();
    cache.set(id, { at: Date.now(), value });
    return value;
  };
  return Object.assign(lookup, {
    invalidate(id: string | null) {
      if (id === null) cache.clear();
      else cache.delete(id);
    },
  });
}

function publicMembers(jwk: JWK): JsonWebKey {
  const { kty, n, e, crv, x, y } = jwk;
  return Object.fromEntries(Object.entries({ kty, n, e, crv, x, y }).filter(([, v]) => v !== undefined)) as JsonWebKey;
}
