import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { Queryable } from '../../kit/store/store.ts';

// Every issued verklaring is recorded (id, who, for which URA, until when) so that its status
// can be answered and a revocation can be checked against the organisation asking for it.
// Revocation sets revoked_at; rows are never deleted before they expire.
//
// The verklaring itself is a bearer credential: it is kept only for its OIDC grant (to go into
// that grant's id_token), sealed (AES-256-GCM) under a key derived from the grant id, and the
// row names the grant by a hash. The grant id lives only in the provider's sealed table, so a
// copy of this table holds no usable verklaring.

export const VERKLARING_MIGRATION_SQL = `
CREATE TABLE verklaringen (
  verklaring_id text PRIMARY KEY,
  dezi_nummer text NOT NULL,
  abonnee_nummer text NOT NULL,
  issued_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  jwt text NOT NULL,
  grant_id text,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX verklaringen_dezi ON verklaringen (dezi_nummer);
CREATE INDEX verklaringen_grant ON verklaringen (grant_id) WHERE grant_id IS NOT NULL;`;

export type VerklaringStatus = 'active' | 'revoked' | 'expired';

export interface VerklaringRecord {
  verklaringId: string;
  deziNummer: string;
  ura: string;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

const grantRef = (grantId: string) => createHash('sha256').update(`verklaring grant\n${grantId}`).digest('base64url');
const grantKey = (grantId: string) => Buffer.from(hkdfSync('sha256', grantId, 'ldn verklaring', 'verklaring seal v1', 32));

function seal(grantId: string, jwt: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', grantKey(grantId), iv);
  const body = Buffer.concat([cipher.update(jwt, 'utf8'), cipher.final()]);
  return `sealed:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

function open(grantId: string, stored: string): string | undefined {
  if (!stored.startsWith('sealed:')) return undefined;
  const raw = Buffer.from(stored.slice('sealed:'.length), 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', grantKey(grantId), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    return Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export async function recordVerklaring(
  db: Queryable,
  r: { verklaringId: string; deziNummer: string; ura: string; expiresAt: Date; jwt: string; grantId?: string },
): Promise<void> {
  // Without a grant nothing will ask for the verklaring again: only its facts are kept.
  await db.query(
    'INSERT INTO verklaringen (verklaring_id, dezi_nummer, abonnee_nummer, expires_at, jwt, grant_id) VALUES ($1, $2, $3, $4, $5, $6)',
    [r.verklaringId, r.deziNummer, r.ura, r.expiresAt.toISOString(), r.grantId ? seal(r.grantId, r.jwt) : '', r.grantId ? grantRef(r.grantId) : null],
  );
}

/** The signed verklaring issued with an OIDC grant, for its id_token/userinfo; only while active. */
export async function activeVerklaringForGrant(db: Queryable, grantId: string, deziNummer: string): Promise<string | undefined> {
  const rows = await db.query<{ jwt: string }>(
    'SELECT jwt FROM verklaringen WHERE grant_id = $1 AND dezi_nummer = $2 AND revoked_at IS NULL AND expires_at > now()',
    [grantRef(grantId), deziNummer],
  );
  return rows[0] ? open(grantId, rows[0].jwt) : undefined;
}

export async function findVerklaring(db: Queryable, verklaringId: string): Promise<VerklaringRecord | undefined> {
  const rows = await db.query<{
    verklaring_id: string;
    dezi_nummer: string;
    abonnee_nummer: string;
    expires_at: Date | string;
    revoked_at: Date | string | null;
    revoked_reason: string | null;
  }>('SELECT verklaring_id, dezi_nummer, abonnee_nummer, expires_at, revoked_at, revoked_reason FROM verklaringen WHERE verklaring_id = $1', [
    verklaringId,
  ]);
  const row = rows[0];
  if (!row) return undefined;
  return {
    verklaringId: row.verklaring_id,
    deziNummer: row.dezi_nummer,
    ura: row.abonnee_nummer,
    expiresAt: new Date(row.expires_at),
    revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    revokedReason: row.revoked_reason,
  };
}

export function statusOf(record: VerklaringRecord, now = new Date()): VerklaringStatus {
  if (record.revokedAt) return 'revoked';
  return record.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active';
}

/** Revokes one verklaring; idempotent (the first reason is kept). Returns false when unknown. */
export async function revokeVerklaring(db: Queryable, verklaringId: string, reason: string): Promise<boolean> {
  const rows = await db.query(
    'UPDATE verklaringen SET revoked_at = COALESCE(revoked_at, now()), revoked_reason = COALESCE(revoked_reason, $2) WHERE verklaring_id = $1 RETURNING verklaring_id',
    [verklaringId, reason],
  );
  return rows.length > 0;
}

/** Revokes every active verklaring of a professional (e.g. role withdrawn); returns how many. */
export async function revokeAllFor(db: Queryable, deziNummer: string, reason: string): Promise<number> {
  const rows = await db.query(
    'UPDATE verklaringen SET revoked_at = now(), revoked_reason = $2 WHERE dezi_nummer = $1 AND revoked_at IS NULL AND expires_at > now() RETURNING verklaring_id',
    [deziNummer, reason],
  );
  return rows.length;
}
