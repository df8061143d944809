import type { Queryable } from '../../kit/store/store.ts';

// Single use of client-assertion ids (RFC 7523 §3 item 7): the first insert wins, every later
// presentation of the same (issuer, jti) is a replay. The store is the authority (several
// instances share it), so concurrent grants are written together in one statement (group
// commit) instead of one round trip each. Rows are kept until the assertion expires, after
// which a replay fails on exp anyway, so they can be purged.

interface Pending {
  key: string;
  issuer: string;
  jti: string;
  expiresAt: string;
  resolve(fresh: boolean): void;
  reject(err: unknown): void;
}

export class JtiRegister {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly db: Queryable,
    private readonly maxBatch = 200,
  ) {}

  /** True when this (issuer, jti) was never seen before; false for a replay. */
  consume(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key: `${issuer}\n${jti}`, issuer, jti, expiresAt: expiresAt.toISOString(), resolve, reject });
      // Flush on the next turn: every grant that reaches this point in the same turn shares the statement.
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        // The same id twice in one batch: only the first can be fresh.
        const first = new Map<string, Pending>();
        for (const p of batch) if (!first.has(p.key)) first.set(p.key, p);
        const rows = [...first.values()];
        const values = rows.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ');
        try {
          const inserted = await this.db.query<{ issuer: string; jti: string }>(
            `INSERT INTO auth_jti (issuer, jti, expires_at) VALUES ${values} ON CONFLICT DO NOTHING RETURNING issuer, jti`,
            rows.flatMap((p) => [p.issuer, p.jti, p.expiresAt]),
          );
          const fresh = new Set(inserted.map((r) => `${r.issuer}\n${r.jti}`));
          for (const p of batch) p.resolve(first.get(p.key) === p && fresh.has(p.key));
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

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
