// Group commit: concurrent callers within one process share one write (one transaction, one
// lock, one multi-row INSERT), which keeps append-only logs close to raw INSERT speed. Each
// caller still gets its own result; a failed write fails exactly the callers in that batch.

export interface GroupCommit<I, R> {
  append(item: I): Promise<R>;
  /** Resolves when everything queued so far is written. */
  flush(): Promise<void>;
}

export function groupCommit<I, R>(write: (items: I[]) => Promise<R[]>, maxBatch = 500): GroupCommit<I, R> {
  let pending: Array<{ item: I; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  let running: Promise<void> | null = null;
  const drain = async (): Promise<void> => {
    while (pending.length > 0) {
      const batch = pending.slice(0, maxBatch);
      pending = pending.slice(batch.length);
      try {
        const results = await write(batch.map((b) => b.item));
        for (const [i, b] of batch.entries()) b.resolve(results[i]);
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
  };
  return {
    append(item) {
      return new Promise<R>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        if (!running) {
          running = drain().finally(() => {
            running = null;
          });
        }
      });
    },
    async flush() {
      while (running) await running;
    },
  };
}
