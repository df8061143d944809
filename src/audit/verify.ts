import type { JWK } from 'jose';
import type { Queryable } from '../kit/store/store.ts';
import { type ChainEntry, chainHash, GENESIS_HASH } from './chain.ts';
import { verifyJws } from './signing.ts';

// Walks the local chain and reports the first record that breaks it, and how: a record whose
// content or hash changed ("altered"), a gap ("missing"), or a record that sits at another position
// than the one it was chained at ("reordered"). The walk starts at genesis. Only when the first
// records were pruned does it start at the checkpoint left behind, and then only if the checkpoint's
// signature checks out with the node's key: a checkpoint row is as easy to forge as any other row,
// so without a key a pruned log is "unverifiable", never intact. Checkpoints inside the walked range
// must match the chain, and one beyond the chain head is itself a finding. Records cannot be checked
// against anything outside the store here; anchoring in the transparency log (outbox) is what
// catches a rewrite of the whole tail.

export type ChainFault = 'altered' | 'missing' | 'reordered' | 'unverifiable';
export type VerifyResult =
  | { ok: true; checked: number; firstSeq: number; lastSeq: number }
  | { ok: false; firstBadSeq: number; kind: ChainFault; detail: string };

export interface CheckpointPayload {
  seq: number;
  hash: string;
  createdAt: string;
}

const PAGE = 2000;

interface CheckpointRow {
  seq: number;
  hash: string;
  jws: string;
}

export async function verifyChain(store: Queryable, options: { checkpointKey?: JWK } = {}): Promise<VerifyResult> {
  const checkpoints = (await store.query<{ seq: string; hash: string; jws: string }>('SELECT seq, hash, jws FROM audit_checkpoint ORDER BY seq')).map(
    (c) => ({ seq: Number(c.seq), hash: c.hash, jws: c.jws }),
  );
  const [head] = await store.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1');
  const headSeq = Number(head?.seq ?? 0);
  const [first] = await store.query<{ seq: string | null }>('SELECT min(seq) AS seq FROM audit_log');
  const firstPresent = first?.seq === null || first?.seq === undefined ? headSeq + 1 : Number(first.seq);
  let expected = 1;
  let chain = GENESIS_HASH;
  if (firstPresent > 1) {
    const start = await trustedStart(checkpoints, firstPresent - 1, options.checkpointKey);
    if ('ok' in start) return start;
    expected = firstPresent;
    chain = start.hash;
  }
  // Checkpoints the walk passes must agree with the chain it recomputes.
  const passed = new Map(checkpoints.filter((c) => c.seq >= expected).map((c) => [c.seq, c.hash]));
  const firstSeq = expected;
  let checked = 0;
  for (;;) {
    const rows = await store.query<{ seq: string; entry: string; prev_hash: string; hash: string }>(
      'SELECT seq, entry, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2',
      [expected, PAGE],
    );
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expected) return { ok: false, firstBadSeq: expected, kind: await gapKind(store, expected), detail: `no record ${expected}` };
      let entry: ChainEntry;
      try {
        entry = JSON.parse(row.entry) as ChainEntry;
      } catch {
        return { ok: false, firstBadSeq: seq, kind: 'altered', detail: 'entry is not JSON' };
      }
      if (entry.seq !== seq) {
        // The record was chained at another position: moved here, or later ones renumbered after a deletion.
        const kind = entry.seq > seq && !(await hasEntryFor(store, seq)) ? 'missing' : 'reordered';
        return { ok: false, firstBadSeq: seq, kind, detail: `record at ${seq} was chained as ${entry.seq}` };
      }
      if (chainHash(chain, entry) !== row.hash) {
        // If this record is self-consistent with its own stored predecessor hash, the predecessor
        // was rewritten (its hash recomputed), so that is where the chain was broken.
        if (row.prev_hash !== chain && chainHash(row.prev_hash, entry) === row.hash && seq > firstSeq) {
          return { ok: false, firstBadSeq: seq - 1, kind: 'altered', detail: `record ${seq - 1} was rewritten` };
        }
        return { ok: false, firstBadSeq: seq, kind: 'altered', detail: `record ${seq} does not match its hash` };
      }
      const pinned = passed.get(seq);
      if (pinned !== undefined && pinned !== row.hash) {
        return { ok: false, firstBadSeq: seq, kind: 'altered', detail: `checkpoint at ${seq} does not match the chain` };
      }
      chain = row.hash;
      expected = seq + 1;
      checked += 1;
    }
    if (rows.length < PAGE) break;
  }
  if (headSeq >= expected) return { ok: false, firstBadSeq: expected, kind: 'missing', detail: `chain head is at ${headSeq}` };
  if (headSeq === expected - 1 && head && head.hash !== chain) {
    return { ok: false, firstBadSeq: headSeq, kind: 'altered', detail: 'chain head hash differs from the last record' };
  }
  const beyond = checkpoints.find((c) => c.seq > headSeq);
  if (beyond) return { ok: false, firstBadSeq: beyond.seq, kind: 'altered', detail: `checkpoint ${beyond.seq} lies beyond the chain head (${headSeq})` };
  return { ok: true, checked, firstSeq, lastSeq: expected - 1 };
}

/**
 * The hash to start from when records 1..seq are gone: the checkpoint at seq, trusted only when
 * its signature verifies with the given key and says the same as its row.
 */
async function trustedStart(checkpoints: CheckpointRow[], seq: number, key: JWK | undefined): Promise<{ hash: string } | VerifyResult> {
  const checkpoint = checkpoints.find((c) => c.seq === seq);
  if (!checkpoint) {
    const below = checkpoints.filter((c) => c.seq < seq).at(-1);
    const from = below ? below.seq + 1 : 1;
    return { ok: false, firstBadSeq: from, kind: 'missing', detail: `records ${from}..${seq} are gone and no checkpoint covers them` };
  }
  if (!key) {
    return {
      ok: false,
      firstBadSeq: 1,
      kind: 'unverifiable',
      detail: `records 1..${seq} were pruned; checkpoint ${seq} can only be trusted with the node's checkpoint key (--checkpoint-key)`,
    };
  }
  const bad = { ok: false as const, firstBadSeq: seq, kind: 'altered' as const };
  try {
    const p = await verifyJws<CheckpointPayload>(checkpoint.jws, key);
    if (p.seq !== seq || p.hash !== checkpoint.hash) return { ...bad, detail: 'checkpoint differs from its signature' };
  } catch {
    return { ...bad, detail: 'checkpoint signature invalid' };
  }
  return { hash: checkpoint.hash };
}

async function gapKind(store: Queryable, seq: number): Promise<ChainFault> {
  return (await hasEntryFor(store, seq)) ? 'reordered' : 'missing';
}

/** Whether some row carries the entry that was chained at seq (only asked after a fault). */
async function hasEntryFor(store: Queryable, seq: number): Promise<boolean> {
  const rows = await store.query(
    `SELECT 1 FROM audit_log WHERE (entry::jsonb ->> 'seq')::bigint = $1 LIMIT 1`,
    [seq],
  );
  return rows.length > 0;
}
