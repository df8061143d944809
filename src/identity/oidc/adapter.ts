import { errors } from 'oidc-provider';
import type { Queryable } from '../../kit/store/store.ts';

// oidc-provider's storage (sessions, interactions, codes, grants, tokens) over the part's
// Store, so that several instances behind one address share state through PostgreSQL.
// One table for every model; the payload is the library's own JSON.

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

function toPayload(row: Row | undefined): AdapterPayload | undefined {
  if (!row) return undefined;
  const payload = (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload) as AdapterPayload;
  if (row.consumed_at) payload.consumed = Math.floor(new Date(row.consumed_at).getTime() / 1000);
  return payload;
}

export class StoreAdapter {
  constructor(
    private readonly db: Queryable,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const expiresAt = typeof expiresIn === 'number' ? new Date(Date.now() + expiresIn * 1000).toISOString() : null;
    await this.db.query(
      `INSERT INTO oidc_models (model, id, payload, grant_id, uid, user_code, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (model, id) DO UPDATE SET payload = EXCLUDED.payload, grant_id = EXCLUDED.grant_id,
         uid = EXCLUDED.uid, user_code = EXCLUDED.user_code, expires_at = EXCLUDED.expires_at`,
      [this.model, id, JSON.stringify(payload), (GRANTABLE.has(this.model) && payload.grantId) || null, payload.uid ?? null, payload.userCode ?? null, expiresAt],
    );
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<Row & Record<string, unknown>>(
      `SELECT payload, consumed_at FROM oidc_models WHERE model = $1 AND id = $2 AND ${LIVE}`,
      [this.model, id],
    );
    return toPayload(rows[0]);
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<Row & Record<string, unknown>>(
      `SELECT payload, consumed_at FROM oidc_models WHERE model = $1 AND uid = $2 AND ${LIVE}`,
      [this.model, uid],
    );
    return toPayload(rows[0]);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const rows = await this.db.query<Row & Record<string, unknown>>(
      `SELECT payload, consumed_at FROM oidc_models WHERE model = $1 AND user_code = $2 AND ${LIVE}`,
      [this.model, userCode],
    );
    return toPayload(rows[0]);
  }

  /**
   * Marks a code (or rotated refresh token) used. Atomic: of two concurrent redemptions of one
   * code only the first succeeds; the second is refused like a replay.
   */
  async consume(id: string): Promise<void> {
    const rows = await this.db.query(
      'UPDATE oidc_models SET consumed_at = now() WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING id',
      [this.model, id],
    );
    if (rows.length === 0) throw new errors.InvalidGrant('grant request is invalid (already used)');
  }

  async destroy(id: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_models WHERE model = $1 AND id = $2', [this.model, id]);
  }

  /** Revokes everything issued under a grant (the library calls this on code replay, logout). */
  async revokeByGrantId(grantId: string): Promise<void> {
    await this.db.query('DELETE FROM oidc_models WHERE grant_id = $1', [grantId]);
  }
}

export function storeAdapterFactory(db: Queryable): (model: string) => StoreAdapter {
  return (model) => new StoreAdapter(db, model);
}

/** Deletes expired rows; run on a timer by the part. */
export async function purgeExpired(db: Queryable): Promise<number> {
  const rows = await db.query('DELETE FROM oidc_models WHERE expires_at <= now() RETURNING id');
  return rows.length;
}
