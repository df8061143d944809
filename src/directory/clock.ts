import type { Queryable, Store } from '../kit/store/store.ts';

// Why a lock: an update client takes the first page's Bundle.meta.lastUpdated as its next
// `_since`. That is only safe if no write with an earlier timestamp can still commit after the
// page was read. Writers hold an exclusive advisory lock from taking their timestamp until
// commit; readers take the shared lock before reading the clock, so every write stamped before
// a watermark is visible to the query that follows it. The directory's write rate is low
// (administration feeds), so serialising writers costs nothing that matters.

const LOCK_KEY = "hashtext('ldn-directory-write:' || current_schema())";

/** Takes the write lock (held until the transaction ends) and returns this write's timestamp. */
export async function writeTimestamp(tx: Queryable): Promise<string> {
  await tx.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`);
  const [row] = await tx.query<{ now_ms: number | string; last_ms: number | string | null }>(
    `SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms,
            (SELECT round(extract(epoch FROM last_updated) * 1000)::float8 FROM history ORDER BY seq DESC LIMIT 1) AS last_ms`,
  );
  const now = Number(row.now_ms);
  const last = row.last_ms === null ? Number.NEGATIVE_INFINITY : Number(row.last_ms);
  // Strictly increasing, so that seq order and time order agree even if the clock steps back.
  return new Date(Math.max(now, last + 1)).toISOString();
}

/** A watermark for readers: every write stamped before it has committed. */
export async function readWatermark(store: Store): Promise<string> {
  return store.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock_shared(${LOCK_KEY})`);
    const [row] = await tx.query<{ now_ms: number | string }>(
      'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms',
    );
    return new Date(Number(row.now_ms)).toISOString();
  });
}
