import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { outboxSealer, generateOutboxKey } from '../../audit/contract.ts';
import type { Migration, Store } from '../../kit/store/store.ts';
import { TokenReuseError } from '../errors.ts';

// A citizen's grants to her apps, and the authorisation codes, access and refresh tokens issued
// under them, in the portal's own schema. Codes and tokens are stored as SHA-256 hashes only (a
// copy of the tables cannot be replayed); the citizen's BSN is kept sealed (AES-256-GCM, the
// grant id as associated data) under the portal's grant key, created once in its store (the
// keys-in-stores STUB the nodes use too; production keeps it in an HSM or a mounted secret).

export const appGrantMigrations: Migration[] = [
  {
    id: 'portal_apps_001_grants',
    sql: `CREATE TABLE app_grants (
  id text PRIMARY KEY,
  client_id text NOT NULL,
  app_name text NOT NULL,
  subject_hash text NOT NULL,
  sealed_bsn text NOT NULL,
  loa text NOT NULL,
  categories jsonb NOT NULL,
  scopes text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  revoked_by text
);
CREATE INDEX app_grants_subject ON app_grants (subject_hash, created_at);
CREATE TABLE app_codes (
  code_hash text PRIMARY KEY,
  grant_id text NOT NULL REFERENCES app_grants (id),
  redirect_uri text NOT NULL,
  code_challenge text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE TABLE app_tokens (
  token_hash text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('access', 'refresh')),
  grant_id text NOT NULL REFERENCES app_grants (id),
  jkt text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX app_tokens_grant ON app_tokens (grant_id);`,
  },
];

export const hashOf = (value: string): string => createHash('sha256').update(value).digest('base64url');
const secret = (): string => randomBytes(32).toString('base64url');

export interface Grant {
  id: string;
  clientId: string;
  appName: string;
  bsn: string;
  loa: string;
  categories: string[];
  scopes: string[];
  createdAt: string;
  revokedAt?: string;
}

type GrantRow = {
  id: string;
  client_id: string;
  app_name: string;
  sealed_bsn: string;
  loa: string;
  categories: unknown;
  scopes: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
};

const KEY_PURPOSE = 'app-grant-bsn';

async function grantKey(store: Store): Promise<Uint8Array> {
  const read = async () => (await store.query<{ private_jwk: unknown }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE]))[0]?.private_jwk;
  if ((await read()) === undefined) {
    const jwk = { kty: 'oct', alg: 'A256GCM', k: Buffer.from(generateOutboxKey()).toString('base64url') };
    await store.query('INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING', [KEY_PURPOSE, randomUUID(), JSON.stringify(jwk)]);
  }
  const raw = await read();
  const jwk = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { k?: string };
  return Buffer.from(jwk.k ?? '', 'base64url');
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  grant: Grant;
}

export { TokenReuseError };

export class GrantStore {
  private constructor(
    private readonly store: Store,
    private readonly sealer: ReturnType<typeof outboxSealer>,
    private readonly subjectKey: Uint8Array,
  ) {}

  static async open(store: Store): Promise<GrantStore> {
    const key = await grantKey(store);
    return new GrantStore(store, outboxSealer(key), key);
  }

  /** A keyed hash of the BSN: finds her grants without a readable BSN in the index. */
  private subject(bsn: string): string {
    return createHash('sha256').update(this.subjectKey).update(`grant-subject:${bsn}`).digest('base64url');
  }

  private grantOf(r: GrantRow): Grant {
    return {
      id: r.id,
      clientId: r.client_id,
      appName: r.app_name,
      bsn: this.sealer.open(r.sealed_bsn, r.id),
      loa: r.loa,
      categories: (typeof r.categories === 'string' ? JSON.parse(r.categories) : r.categories) as string[],
      scopes: r.scopes.split(' ').filter(Boolean),
      createdAt: new Date(r.created_at).toISOString(),
      revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : undefined,
    };
  }

  /** Records the citizen's grant and returns a single-use authorisation code (10 minutes). */
  async createGrant(input: { clientId: string; appName: string; bsn: string; loa: string; categories: string[]; scopes: string[]; redirectUri: string; codeChallenge: string }): Promise<{ grantId: string; code: string }> {
    const id = randomUUID();
    const code = secret();
    await this.store.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO app_grants (id, client_id, app_name, subject_hash, sealed_bsn, loa, categories, scopes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [id, input.clientId, input.appName, this.subject(input.bsn), this.sealer.seal(input.bsn, id), input.loa, JSON.stringify(input.categories), input.scopes.join(' ')],
      );
      await tx.query("INSERT INTO app_codes (code_hash, grant_id, redirect_uri, code_challenge, expires_at) VALUES ($1, $2, $3, $4, now() + interval '10 minutes')", [
        hashOf(code),
        id,
        input.redirectUri,
        input.codeChallenge,
      ]);
    });
    return { grantId: id, code };
  }

  /** Consumes a code once; a second use revokes the grant (RFC 9700 §4.5: the code leaked). */
  async redeemCode(code: string): Promise<{ grant: Grant; redirectUri: string; codeChallenge: string } | undefined> {
    const rows = await this.store.query<{ grant_id: string; redirect_uri: string; code_challenge: string; fresh: boolean; expired: boolean }>(
      `UPDATE app_codes c SET used_at = COALESCE(c.used_at, now())
       FROM (SELECT code_hash, used_at IS NULL AS fresh FROM app_codes WHERE code_hash = $1 FOR UPDATE) old
       WHERE c.code_hash = old.code_hash
       RETURNING c.grant_id, c.redirect_uri, c.code_challenge, old.fresh, c.expires_at < now() AS expired`,
      [hashOf(code)],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (!row.fresh) {
      await this.revoke(row.grant_id, 'code-reuse');
      return undefined;
    }
    if (row.expired) return undefined;
    const grant = await this.grant(row.grant_id);
    if (!grant || grant.revokedAt) return undefined;
    return { grant, redirectUri: row.redirect_uri, codeChallenge: row.code_challenge };
  }

  /** A DPoP-bound access token (5 minutes) and a DPoP-bound refresh token (30 days, single use). */
  async issue(grant: Grant, jkt: string, accessTtlSeconds = 300): Promise<IssuedTokens> {
    const accessToken = secret();
    const refreshToken = secret();
    await this.store.query(
      `INSERT INTO app_tokens (token_hash, kind, grant_id, jkt, expires_at) VALUES
       ($1, 'access', $3, $4, now() + make_interval(secs => $5)), ($2, 'refresh', $3, $4, now() + interval '30 days')`,
      [hashOf(accessToken), hashOf(refreshToken), grant.id, jkt, accessTtlSeconds],
    );
    return { accessToken, refreshToken, expiresIn: accessTtlSeconds, grant };
  }

  /**
   * Rotation: a refresh token is used once; presenting a used one again means it was copied, and
   * the whole grant is revoked (the app must ask the citizen again).
   */
  async refresh(refreshToken: string, jkt: string): Promise<IssuedTokens> {
    const rows = await this.store.query<{ grant_id: string; jkt: string; fresh: boolean; expired: boolean }>(
      `UPDATE app_tokens t SET used_at = COALESCE(t.used_at, now())
       FROM (SELECT token_hash, used_at IS NULL AS fresh FROM app_tokens WHERE token_hash = $1 AND kind = 'refresh' FOR UPDATE) old
       WHERE t.token_hash = old.token_hash
       RETURNING t.grant_id, t.jkt, old.fresh, t.expires_at < now() AS expired`,
      [hashOf(refreshToken)],
    );
    const row = rows[0];
    if (!row) throw new TokenReuseError('unknown refresh token');
    if (!row.fresh) {
      await this.revoke(row.grant_id, 'refresh-token-reuse');
      throw new TokenReuseError('refresh token used twice: the grant is revoked');
    }
    if (row.expired) throw new TokenReuseError('refresh token expired');
    if (row.jkt !== jkt) {
      // Someone without the app's key holds its refresh token: it was stolen.
      await this.revoke(row.grant_id, 'refresh-token-other-key');
      throw new TokenReuseError('refresh token is bound to another DPoP key: the grant is revoked');
    }
    const grant = await this.grant(row.grant_id);
    if (!grant || grant.revokedAt) throw new TokenReuseError('the grant was revoked');
    return this.issue(grant, jkt);
  }

  /** The grant behind a live access token, with the key it is bound to. */
  async accessToken(token: string): Promise<{ grant: Grant; jkt: string } | undefined> {
    const rows = await this.store.query<GrantRow & { jkt: string }>(
      `SELECT g.*, t.jkt FROM app_tokens t JOIN app_grants g ON g.id = t.grant_id
       WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > now() AND g.revoked_at IS NULL`,
      [hashOf(token)],
    );
    return rows[0] ? { grant: this.grantOf(rows[0]), jkt: rows[0].jkt } : undefined;
  }

  async grant(id: string): Promise<Grant | undefined> {
    const rows = await this.store.query<GrantRow>('SELECT * FROM app_grants WHERE id = $1', [id]);
    return rows[0] ? this.grantOf(rows[0]) : undefined;
  }

  /** The citizen's grants, newest first (revoked ones too, for her overview). */
  async grantsOf(bsn: string): Promise<Grant[]> {
    const rows = await this.store.query<GrantRow>('SELECT * FROM app_grants WHERE subject_hash = $1 ORDER BY created_at DESC', [this.subject(bsn)]);
    return rows.map((r) => this.grantOf(r));
  }

  /** Revokes a grant and every token issued under it. */
  async revoke(id: string, by: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.query('UPDATE app_grants SET revoked_at = COALESCE(revoked_at, now()), revoked_by = COALESCE(revoked_by, $2) WHERE id = $1', [id, by]);
      await tx.query("UPDATE app_tokens SET expires_at = LEAST(expires_at, now()) WHERE grant_id = $1", [id]);
    });
  }
}
