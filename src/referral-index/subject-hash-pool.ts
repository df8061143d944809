import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SubjectHash } from './referrals.ts';
import { SubjectRefused } from './subject-hash.ts';
import type { WorkerBatch, WorkerInit, WorkerReply, WorkerRequest } from './subject-hash-worker.ts';

// A small worker_threads pool for the NVI's per-lookup crypto (JWE decrypt, unblind, HMAC), which
// would otherwise block the HTTP event loop. Each request goes to the thread with the fewest
// in-flight jobs; the jobs of one event-loop turn travel in one message per thread (and come back
// in one), because every message wakes a thread and that wake-up is not cheap. A crashed thread
// fails its jobs and is replaced. Settings: NVI_CRYPTO_WORKERS = "auto" (available cores), a
// number, or 0/"off" (inline).

const ENTRY = new URL('./subject-hash-worker.mjs', import.meta.url);
const START_TIMEOUT_MS = 90_000;

interface Slot {
  worker: Worker;
  inFlight: Map<number, { resolve(h: SubjectHash[]): void; reject(e: Error): void }>;
  /** Jobs of this event-loop turn, not yet posted. */
  outbox: WorkerRequest[];
}

export interface SubjectHashPool {
  readonly size: number;
  hashes(value: string, now?: number): Promise<SubjectHash[]>;
  close(): Promise<void>;
}

/** Pool size from the NVI_CRYPTO_WORKERS setting (0 = no pool). */
export function poolSizeFrom(setting: string | number | undefined): number {
  if (setting === undefined || setting === '' || setting === 'auto') return availableParallelism();
  if (setting === 'off') return 0;
  const n = Number(setting);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new Error(`NVI_CRYPTO_WORKERS must be "auto", "off" or 0..256, not "${setting}"`);
  return n;
}

export async function startSubjectHashPool(init: WorkerInit, size: number): Promise<SubjectHashPool> {
  if (!Number.isInteger(size) || size < 1) throw new Error('pool size must be at least 1');
  let nextId = 0;
  let closing = false;
  const slots: Slot[] = [];
  // Every thread ever started, so a failed start can stop them all: a live worker keeps the
  // process alive (a sandbox whose start failed would never exit).
  const started = new Set<Worker>();

  const spawn = (): Promise<Slot> =>
    new Promise((resolve, reject) => {
      // execArgv [] so the entry registers tsx itself, whatever loader flags the parent has.
      const worker = new Worker(ENTRY, { workerData: init, execArgv: [] });
      started.add(worker);
      const slot: Slot = { worker, inFlight: new Map(), outbox: [] };
      const timer = setTimeout(() => {
        reject(new Error('NVI crypto worker did not start in time'));
        void worker.terminate();
      }, START_TIMEOUT_MS);
      const fail = (err: Error) => {
        for (const job of slot.inFlight.values()) job.reject(err);
        slot.inFlight.clear();
        slot.outbox.length = 0;
      };
      worker.on('message', (m: WorkerReply[] | { ready: true }) => {
        if (!Array.isArray(m)) {
          clearTimeout(timer);
          resolve(slot);
          return;
        }
        for (const reply of m) {
          const job = slot.inFlight.get(reply.id);
          if (!job) continue;
          slot.inFlight.delete(reply.id);
          if (reply.ok) job.resolve(reply.hashes.map((h) => ({ version: h.version, hash: Buffer.from(h.hash.buffer, h.hash.byteOffset, h.hash.byteLength) })));
          else job.reject(reply.refused !== undefined ? new SubjectRefused(reply.refused) : new Error(reply.error ?? 'crypto worker failed'));
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
        fail(new Error(`NVI crypto worker failed: ${err.message}`));
      });
      worker.on('exit', () => {
        started.delete(worker);
        fail(new Error('NVI crypto worker exited'));
        const i = slots.indexOf(slot);
        if (i >= 0) slots.splice(i, 1);
        // Replace a crashed thread; a failed replacement leaves the pool smaller, not broken.
        if (!closing && i >= 0) spawn().then((s) => (closing ? s.worker.terminate() : slots.push(s)), () => {});
      });
    });

  try {
    slots.push(...(await Promise.all(Array.from({ length: size }, spawn))));
  } catch (err) {
    closing = true;
    await Promise.all([...started].map((w) => w.terminate()));
    throw err;
  }

  // Posts every slot's outbox once the current event-loop turn has queued what it will (setImmediate
  // runs after the turn's I/O callbacks, so lookups that arrived together travel together).
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    for (const slot of slots) {
      if (slot.outbox.length === 0) continue;
      const batch: WorkerBatch = { jobs: slot.outbox };
      slot.outbox = [];
      try {
        slot.worker.postMessage(batch);
      } catch (err) {
        for (const { id } of batch.jobs) {
          slot.inFlight.get(id)?.reject(err as Error);
          slot.inFlight.delete(id);
        }
      }
    }
  };

  return {
    size,
    hashes(value, now) {
      if (closing) return Promise.reject(new Error('NVI crypto pool is closed'));
      if (slots.length === 0) return Promise.reject(new Error('NVI crypto pool has no live worker'));
      let slot = slots[0];
      for (const s of slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
      const id = nextId++;
      return new Promise<SubjectHash[]>((resolve, reject) => {
        slot.inFlight.set(id, { resolve, reject });
        slot.outbox.push({ id, value, now });
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      slots.length = 0;
    },
  };
}
