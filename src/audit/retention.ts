import type { Store } from '../kit/store/store.ts';
import type { JwsSigner } from './signing.ts';
import type { CheckpointPayload } from './verify.ts';

// Retention: records older than N days leave the local log, but the hash of the last removed
// record stays behind in a signed checkpoint, so the remaining chain still verifies from there.

export interface PruneResult {
  pruned: number;
  checkpoint?: CheckpointPayload;
}

export async function pruneAuditLog(
  store: Store,
  options: { olderThanDays: number; signer: JwsSigner; now?: Date },
): Promise<PruneResult> {
  if (!(options.olderThanDays >= 0)) throw new Error('olderThanDays must be a non-negative number');
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.olderThanDays * 86_400_000).toISOString();
  return store.transaction(async (tx) => {
    // Same lock as appends: nothing is chained onto records while they are being pruned.
    await tx.query('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE');
    // Prune a prefix only: up to (not including) the first record that is still young.
    const [keep] = await tx.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_log WHERE recorded >= $1', [cutoff]);
    const bound = keep?.seq === null || keep?.seq === undefined ? Number.MAX_SAFE_INTEGER : Number(keep.seq);
    const [last] = await tx.query<{ seq: string; hash: string }>(
      'SELECT seq, hash FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT 1',
      [bound],
    );
    if (!last) return { pruned: 0 };
    const checkpoint: CheckpointPayload = { seq: Number(last.seq), hash: last.hash, createdAt: now.toISOString() };
    const jws = await options.signer.sign(checkpoint);
    await tx.query('INSERT INTO audit_checkpoint (seq, hash, created_at, jws) VALUES ($1, $2, $3, $4)', [
      checkpoint.seq,
      checkpoint.hash,
      checkpoint.createdAt,
      jws,
    ]);
    const deleted = await tx.query('DELETE FROM audit_log WHERE seq <= $1 RETURNING seq', [checkpoint.seq]);
    return { pruned: deleted.length, checkpoint };
  });
}


export interface RetentionJob {
  /** Runs one pass now (also used by tests); passes never overlap. */
  runOnce(): Promise<void>;
  /** Cancels the timer and waits for a pass in progress, so the store can close after it. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` shortly after start and then every intervalMs, on an unref'd timer (it never keeps
 * the process alive). A failing pass is logged and retried at the next tick.
 */
export function startRetentionJob(
  pass: () => Promise<void>,
  options: { intervalMs?: number; firstRunMs?: number; onError(err: unknown): void },
): RetentionJob {
  const intervalMs = options.intervalMs ?? 3_600_000;
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const runOnce = (): Promise<void> => {
    running ??= pass()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(() => schedule(intervalMs)), ms);
    timer.unref();
  };
  schedule(options.firstRunMs ?? 10_000);
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
