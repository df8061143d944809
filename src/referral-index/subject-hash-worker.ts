import { parentPort, workerData } from 'node:worker_threads';
import type { JWK } from 'jose';
import { importDecryptionKey, SubjectRefused, type SubjectKeys, subjectHashes } from './subject-hash.ts';

// One thread of the NVI crypto pool: decrypt the PRS token, check it, unblind, keyed hash.
// Private key and index key arrive once in workerData; requests carry only the token value.
// Requests come in batches (all the lookups the pool received in one event-loop turn) and are
// answered in one message per batch: each message is a cross-thread wake-up, which on a busy
// 2-core machine costs as much CPU as a good part of the crypto itself.

export interface WorkerInit {
  privateJwk: JWK;
  audience: string;
  scope: string;
  indexKey: Uint8Array;
}

export interface WorkerRequest {
  id: number;
  value: string;
  now?: number;
}

/** What the pool posts: the jobs of one event-loop turn. */
export interface WorkerBatch {
  jobs: WorkerRequest[];
}

export type WorkerReply =
  | { id: number; ok: true; hashes: Array<{ version: number; hash: Uint8Array }> }
  | { id: number; ok: false; refused?: string; error?: string };

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error('subject-hash-worker runs only as a worker thread');
const keys: SubjectKeys = {
  audience: init.audience,
  scope: init.scope,
  decryptionKey: await importDecryptionKey(init.privateJwk),
  indexKey: new Uint8Array(init.indexKey),
};

async function answer(req: WorkerRequest): Promise<WorkerReply> {
  try {
    const hashes = await subjectHashes(req.value, keys, req.now);
    return { id: req.id, ok: true, hashes: hashes.map((h) => ({ version: h.version, hash: new Uint8Array(h.hash) })) };
  } catch (err) {
    // Messages are ours (SubjectRefused / TokenRefused wording), never the token value.
    return err instanceof SubjectRefused ? { id: req.id, ok: false, refused: err.message } : { id: req.id, ok: false, error: 'subject hashing failed in a crypto worker' };
  }
}

port.on('message', async (batch: WorkerBatch) => {
  const replies: WorkerReply[] = [];
  for (const job of batch.jobs) replies.push(await answer(job));
  port.postMessage(replies);
});
port.postMessage({ ready: true });
