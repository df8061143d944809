import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SubjectHash } from './referrals.ts';
import { SubjectRefused } from './subject-hash.ts';
import type { WorkerInit, WorkerReply } from './subject-hash-worker.ts';

// A small worker_threads pool for the NVI's per-lookup crypto (JWE RSA-OAEP decrypt, unblind,
// HMAC): ~0.7 ms of CPU per subject that would otherwise block the HTTP event loop. Each request
// goes to the thread with the fewest in-flight jobs; a crashed thread fails its jobs and is
// replaced. Settings: NVI_CRYPTO_WORKERS = "auto" (available cores), a number, or 0/"off" (inline).

const ENTRY = new URL('./subject-hash-worker.mjs', import.meta.url);
const START_TIMEOUT_MS = 90_000;

interface Slot {
  worker: Worker;
  inFlight: Map<number, { resolve(h: SubjectHash[]): void; reject(e: Error): void }>;
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
      const slot: Slot = { worker, inFlight: new Map() };
      const timer = setTimeout(() => {
        reject(new Error('NVI crypto worker did not start in time'));
        void worker.terminate();
      }, START_TIMEOUT_MS);
      const fail = (err: Error) => {
        for (const job of slot.inFlight.values()) job.reject(err);
        slot.inFlight.clear();
      };
      worker.on('message', (m: WorkerReply | { ready: true }) => {
        if ('ready' in m) {
          clearTimeout(timer);
          resolve(slot);
          return;
        }
        const job = slot.inFlight.get(m.id);
        if (!job) return;
        slot.inFlight.delete(m.id);
        if (m.ok) job.resolve(m.hashes.map((h) => ({ version: h.version, hash: Buffer.from(h.hash.buffer, h.hash.byteOffset, h.hash.byteLength) })));
        else job.reject(m.refused !== undefined ? new SubjectRefused(m.refused) : new Error(m.error ?? 'crypto worker failed'));
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
        slot.worker.postMessage({ id, value, now });
      });
    },
    async close() {
      closing = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      slots.length = 0;
    },
  };
}
