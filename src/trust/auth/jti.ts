import type { Queryable } from '../../kit/store/store.ts';

// Single use of client-assertion ids (RFC 7523 §3 item 7): the first insert wins, every later
// presentation of the same (issuer, jti) is a replay. Rows are kept until the assertion expires,
// after which a replay would fail on exp anyway, so they can be purged.

export async function consumeJti(db: Queryable, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = await db.query(
    'INSERT INTO auth_jti (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1 AS fresh',
    [issuer, jti, expiresAt.toISOString()],
  );
  return rows.length === 1;
}

export async function purgeExpiredJtis(db: Queryable, now = new Date()): Promise<void> {
  await db.query('DELETE FROM auth_jti WHERE expires_at < $1', [now.toISOString()]);
}
