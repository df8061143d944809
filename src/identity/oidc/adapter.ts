import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { Queryable } from '../../kit/store/store.ts';

// oidc-provider's storage (sessions, interactions, codes, grants, tokens) over the part's
// Store, so that several instances behind one address share state through PostgreSQL.
// One table for every model; the payload is the library's own JSON.
//
// Nothing in the table is a usable credential or names a person in clear: the library's ids
// are the bearer values themselves (an access token, an authorisation code, a session cookie),
// so rows are keyed by an HMAC of them, and the payload (accountId is the citizen's BSN, grants
// hold claims) is sealed with AES-256-GCM. The key is held outside the store: the setting
// OIDC_STORE_KEY (32 bytes base64url, the same on every instance), else one per process
// (logins then do not survive a restart, which for 8-hour login sessions is acceptable).

export const OIDC_MODELS_MIGRATION_SQL = `
CREATE TABLE oidc_models (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  uid text,
  user_code text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_models_uid ON oidc_models (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_models_user_code ON oidc_models (user_code) WHERE user_code IS NOT NULL;
CREATE INDEX oidc_models_expires ON oidc_models (expires_at);`;

export type AdapterPayload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string; consumed?: number };

interface Row {
  payload: AdapterPayload | string;
  consumed_at: Date | string | null;
}

/** Models revoked with their grant; others (e.g. Interaction) may mention a grantId but outlive it. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

const LIVE = '(expires_at IS NULL OR expires_at > now())';

/** The key that seals the table: from the setting when given, else one for this process. */
export function oidcStoreKey(setting: string | undefined): Buffer {
  if (setting === undefined || setting === '') return processKey;
  const key = Buffer.from(setting, 'base64url');
  if (key.length !== 32) throw new Error('OIDC_STORE_KEY must be 32 bytes, base64url');
  return key;
}
const processKey = randomBytes(32);

export class StoreAdapter {
  constructor(
    private readonly db: Queryable,
    private readonly model: string,
    private readonly key: Buffer = processKey,
  ) {}

  /** The stored form of a lookup value (id, uid, user code, grant id): keyed, so not reversible from the table. */
  private ref(kind: string, value: string): string {
    // A grant id is looked up across models (revokeByGrantId); the others within their model.
    const input = kind === 'grant' ? `grant\n${value}` : `${kind}\n${this.model}\n${value}`;
    return createHmac('sha256', this.key).update(input).digest('base64url');
  }

  private seal(ref: string, payload: AdapterPayload): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(`${this.model}\n${ref}`));
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
    return JSON.stringify({ sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url') });
  }

  private open(row: (Row & { id?: string }) | undefined, ref: string): AdapterPayload | undefined {
    if (!row) return undefined;
    const stored = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as { sealed?: string };
    if (typeof stored.sealed !== 'string') return undefined;
    const raw = Buffer.from(stored.sealed, 'base64url');
    let payload: AdapterPayload;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(`${this.model}\n${ref}`));
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      payload = JSON.parse(Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8')) as AdapterPayload;
    } catch {
      return undefined; // sealed under another key (a restart without OIDC_STORE_KEY) or altered: no such row
    }
    if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
    return payload;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
    const ref = this.ref('id', id);
    const grant = GRANTABLE.has(this.model) && payload.grantId ? this.ref('grant', payload.grantId) : null;
    const uid = payload.uid ? this.ref('uid', payload.uid) : null;
    const userCode = payload.userCode ? this.ref('user_code', payload.userCode) : null;
    await this.db.query(
      `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
      [this.model, ref, this.seal(ref, payload), grant, uid, userCode, expiresAt],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const ref = this.ref('id', id);
    const rows = await this.db.query<Row & Record<string, unknown>>(
      `SELECT payload, consumed_at FROM oidc_models WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [this.model, ref],
    );
    return this.open(rows[0], ref);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<Row & { id: string } & Record<string, unknown>>(
      `SELECT id, payload, consumed_at FROM oidc_models WHERE model = $1 AND uid = $2 AND ${LIVE}`,
      [this.model, this.ref('uid', uid)],
    );
    return rows[0] ? this.open(rows[0], rows[0].id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<Row & { id: string } & Record<string, unknown>>(
      `SELECT id, payload, consumed_at FROM oidc_models WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
      [this.model, this.ref('user_code', userCode)],
    );
    return rows[0] ? this.open(rows[0], rows[0].id) : undefined;
  }

  /**
   * Marks a code (or rotated refresh token) used. Atomic: of two concurrent redemptions of one
   * code only the first succeeds; the second is refused like a replay.
   */
  async consume(id: string): Promise<void> {
    const rows = await this.db.query(
      'UPDATE oidc_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING id',
      [this.model, this.ref('id', id)],
    );
    if (rows.length === 0) throw new errors.InvalidGrant('grant request is invalid (already used)');
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [this.model, this.ref('id', id)]);
  }

  /** Revokes everything issued under a grant (the library calls this on code replay, logout). */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_models WHERE grant_id = $1', [this.ref('grant', grantId)]);
  }
}

export function storeAdapterFactory(db: Queryable, key?: Buffer): (model: string) => StoreAdapter {
  return (model) => new StoreAdapter(db, model, key);
}

/** Deletes expired rows; run on a timer by the part. */
export async function purgeExpired(db: Queryable): Promise<number> {
  const rows = await db.query('DELETE FROM oidc_models WHERE expires_at <= now() RETURNING id');
  return rows.length;
}
