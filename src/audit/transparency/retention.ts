import type { Store } from '../../kit/store/store.ts';

// Retention of the transparency log. After N days an event's stored body and its citizen
// pseudonym are cleared, so the citizen view no longer lists it and the log no longer ties the
// citizen to that access. Its leaf hash (tlog_node) stays, so every signed tree head, inclusion
// proof and consistency proof stays valid; its row stays too, so a late re-send of the same event
// id is still recognised as a duplicate rather than appended again.

export interface BodyPruneResult {
  cleared: number;
}

export async function pruneEventBodies(
  store: Store,
  options: { olderThanDays: number; now?: Date; batchSize?: number },
): Promise<BodyPruneResult> {
  if (!(options.olderThanDays >= 0)) throw new Error('olderThanDays must be a non-negative number');
  const cutoff = new Date(
    (options.now ?? new Date()).getTime() - options.olderThanDays * 86_400_000,
  ).toISOString();
  const batch = options.batchSize ?? 5000;
  let cleared = 0;
  // In batches, each its own statement: a first run over a large log holds no long transaction.
  for (;;) {
    const rows = await store.query(
      `UPDATE tlog_entry SET body = NULL, pseudonym = NULL
       WHERE idx IN (
         SELECT idx FROM tlog_entry
         WHERE body IS NOT NULL AND coalesce(recorded, received_at) < $1
         ORDER BY coalesce(recorded, received_at) LIMIT $2)
       RETURNING idx`,
      [cutoff, batch],
    );
    cleared += rows.length;
    if (rows.length < batch) return { cleared };
  }
}
