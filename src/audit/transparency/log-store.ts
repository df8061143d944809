import { groupCommit } from '../../kit/store/group-commit.ts';
import type { Migration, Queryable, Store } from '../../kit/store/store.ts';
import type { InclusionProof } from '../contract.ts';
import {
  consistencyPath,
  type Hash,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  type SubtreeKey,
  subtreeId,
  withFetchedSubtrees,
} from './merkle.ts';

// The transparency log in a Store. tlog_node holds every complete aligned subtree hash
// (level 0 = leaf hashes), written once when the subtree completes, so any root or proof is
// O(log n) rows fetched in one query, whatever the size of the log (10 million entries and up).
// Appends lock the single tlog_state row, so concurrent appenders cannot fork the tree.

export const transparencyLogMigrations: Migration[] = [
  {
    id: 'tlog_001_tree',
    sql: `
CREATE TABLE tlog_state (
  id int PRIMARY KEY CHECK (id = 1),
  size bigint NOT NULL
);
INSERT INTO tlog_state (id, size) VALUES (1, 0);
CREATE TABLE tlog_node (
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE tlog_entry (
  idx bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  pseudonym text,
  source_ura text,
  recorded timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  body text NOT NULL
);
CREATE INDEX tlog_entry_pseudonym ON tlog_entry (pseudonym, idx);
CREATE TABLE tlog_head (
  size bigint PRIMARY KEY,
  root_hash bytea NOT NULL,
  signed_at timestamptz NOT NULL,
  jws text NOT NULL
);
`,
  },
  {
    // The right edge of the tree (its peaks, largest first, 32 bytes each) kept on the locked
    // state row, so an append needs no reads besides that row.
    id: 'tlog_002_frontier',
    sql: `ALTER TABLE tlog_state ADD COLUMN frontier bytea NOT NULL DEFAULT '\\x';`,
  },
  {
    // Retention: an old event's body and pseudonym are cleared; its row (dedup by event id, leaf
    // index) and its leaf stay. The partial index finds the bodies still kept, oldest first.
    id: 'tlog_003_retention',
    sql: `
ALTER TABLE tlog_entry ALTER COLUMN body DROP NOT NULL;
CREATE INDEX tlog_entry_kept_since ON tlog_entry ((coalesce(recorded, received_at))) WHERE body IS NOT NULL;
`,
  },
];

export interface LogItem {
  eventId: string;
  /** Leaf data: the exact bytes the leaf commits to (RFC 8785 JSON of the event). */
  body: string;
  pseudonym?: string;
  sourceUra?: string;
  recorded?: string;
}

export interface LogAppendResult {
  eventId: string;
  index: number;
  duplicate: boolean;
}

const toBuffer = (v: unknown): Hash => Buffer.from(v as Uint8Array);

/** The complete subtrees ("peaks") whose hashes make up a tree of the given size, left to right. */
export function peaksOf(size: number): SubtreeKey[] {
  const keys: SubtreeKey[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
    const w = 2 ** level;
    if (size - start >= w) {
      keys.push({ level, index: start / w });
      start += w;
    }
  }
  return keys;
}

export async function fetchSubtrees(q: Queryable, keys: readonly SubtreeKey[]): Promise<Map<string, Hash>> {
  if (keys.length === 0) return new Map();
  const rows = await q.query<{ level: number; idx: string; hash: Uint8Array }>(
    `SELECT n.level, n.idx, n.hash FROM tlog_node n
     JOIN unnest($1::smallint[], $2::bigint[]) AS k(level, idx) ON n.level = k.level AND n.idx = k.idx`,
    [keys.map((k) => k.level), keys.map((k) => k.index)],
  );
  return new Map(rows.map((r) => [subtreeId({ level: Number(r.level), index: Number(r.idx) }), toBuffer(r.hash)]));
}

/**
 * Appends leaf hashes (and their entry rows) inside tx: locks the state row, extends the
 * stored right edge of the tree, writes every subtree that completes, the entries and the new
 * state in one statement. Returns the size before and after.
 */
export async function appendLeafHashes(
  tx: Queryable,
  leaves: readonly Hash[],
  entries?: readonly LogItem[],
): Promise<{ from: number; to: number }> {
  const [state] = await tx.query<{ size: string; frontier: Uint8Array }>('SELECT size, frontier FROM tlog_state WHERE id = 1 FOR UPDATE');
  const size = Number(state.size);
  const peaks = peaksOf(size);
  const frontier = toBuffer(state.frontier);
  if (frontier.length !== peaks.length * 32) throw new Error('tlog_state.frontier does not match the tree size');
  const stack = peaks.map((k, i) => ({ level: k.level, hash: frontier.subarray(i * 32, i * 32 + 32) as Hash }));
  const out = { level: [] as number[], idx: [] as number[], hash: [] as string[] };
  let n = size;
  for (const leaf of leaves) {
    out.level.push(0);
    out.idx.push(n);
    out.hash.push(leaf.toString('hex'));
    stack.push({ level: 0, hash: leaf });
    n += 1;
    // Merge equal-level peaks: the subtree ending at leaf n-1 is now complete.
    while (stack.length >= 2 && stack[stack.length - 1].level === stack[stack.length - 2].level) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      const level = left.level + 1;
      const hash = nodeHash(left.hash, right.hash);
      stack.push({ level, hash });
      out.level.push(level);
      out.idx.push(n / 2 ** level - 1);
      out.hash.push(hash.toString('hex'));
    }
  }
  const e = entries ?? [];
  await tx.query(
    `WITH nodes AS (
       INSERT INTO tlog_node (level, idx, hash)
       SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS t(l, i, h)
     ), entries AS (
       INSERT INTO tlog_entry (idx, event_id, pseudonym, source_ura, recorded, body)
       SELECT * FROM unnest($4::bigint[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[])
     )
     UPDATE tlog_state SET size = $10, frontier = decode($11, 'hex') WHERE id = 1`,
    [
      out.level,
      out.idx,
      out.hash,
      e.map((_, i) => size + i),
      e.map((i) => i.eventId),
      e.map((i) => i.pseudonym ?? null),
      e.map((i) => i.sourceUra ?? null),
      e.map((i) => i.recorded ?? null),
      e.map((i) => i.body),
      n,
      Buffer.concat(stack.map((x) => x.hash)).toString('hex'),
    ],
  );
  return { from: size, to: n };
}

/** Appends events (idempotent by event id) and returns each one's leaf index. */
export async function appendToLog(store: Store, items: readonly LogItem[]): Promise<LogAppendResult[]> {
  if (items.length === 0) return [];
  const distinct = new Set(items.map((i) => i.eventId)).size === items.length;
  if (distinct) {
    // Fast path: fresh ids. A unique violation means a re-send; the careful path handles it.
    try {
      return await store.transaction(async (tx) => {
        const leaves = items.map((i) => leafHash(Buffer.from(i.body, 'utf8')));
        const { from } = await appendLeafHashes(tx, leaves, items);
        return items.map((i, k) => ({ eventId: i.eventId, index: from + k, duplicate: false }));
      });
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
    }
  }
  return store.transaction(async (tx) => {
    // Taking the lock first keeps the duplicate check and the append atomic.
    await tx.query('SELECT size FROM tlog_state WHERE id = 1 FOR UPDATE');
    const existing = new Map(
      (
        await tx.query<{ event_id: string; idx: string }>('SELECT event_id, idx FROM tlog_entry WHERE event_id = ANY($1::text[])', [
          items.map((i) => i.eventId),
        ])
      ).map((r) => [r.event_id, Number(r.idx)]),
    );
    const fresh: LogItem[] = [];
    const pending: Array<{ eventId: string; offset?: number; index?: number }> = [];
    const offsets = new Map<string, number>();
    for (const item of items) {
      const prior = existing.get(item.eventId);
      if (prior !== undefined) pending.push({ eventId: item.eventId, index: prior });
      else if (offsets.has(item.eventId)) pending.push({ eventId: item.eventId, offset: offsets.get(item.eventId) });
      else {
        offsets.set(item.eventId, fresh.length);
        pending.push({ eventId: item.eventId, offset: fresh.length });
        fresh.push(item);
      }
    }
    const { from } = fresh.length
      ? await appendLeafHashes(tx, fresh.map((i) => leafHash(Buffer.from(i.body, 'utf8'))), fresh)
      : { from: 0 };
    return pending.map((p, k) =>
      p.index !== undefined
        ? { eventId: p.eventId, index: p.index, duplicate: true }
        : { eventId: p.eventId, index: from + p.offset!, duplicate: pending.findIndex((x) => x.eventId === p.eventId) !== k },
    );
  });
}

/** Group commit for the part: concurrent POSTs share one transaction (one lock, one write). */
export function createLogAppender(store: Store, maxBatch = 500) {
  return groupCommit((items: LogItem[]) => appendToLog(store, items), maxBatch);
}

export async function logSize(q: Queryable): Promise<number> {
  const [state] = await q.query<{ size: string }>('SELECT size FROM tlog_state WHERE id = 1');
  return Number(state.size);
}

export async function treeRoot(q: Queryable, size: number): Promise<Hash> {
  return withFetchedSubtrees((keys) => fetchSubtrees(q, keys), (lookup) => rootHash(lookup, size));
}

export type { InclusionProof } from '../contract.ts';

export async function inclusionProof(q: Queryable, leafIndex: number, treeSize: number): Promise<InclusionProof> {
  await assertSize(q, treeSize);
  const { path, leaf } = await withFetchedSubtrees(
    (keys) => fetchSubtrees(q, keys),
    (lookup) => ({ path: inclusionPath(lookup, leafIndex, treeSize), leaf: lookup({ level: 0, index: leafIndex }) }),
  );
  return { leafIndex, treeSize, leafHash: leaf.toString('base64'), auditPath: path.map((h) => h.toString('base64')) };
}

export interface ConsistencyProof {
  first: number;
  second: number;
  consistency: string[];
}

export async function consistencyProof(q: Queryable, first: number, second: number): Promise<ConsistencyProof> {
  await assertSize(q, second);
  const proof = await withFetchedSubtrees((keys) => fetchSubtrees(q, keys), (lookup) => consistencyPath(lookup, first, second));
  return { first, second, consistency: proof.map((h) => h.toString('base64')) };
}

export async function leafIndexOf(q: Queryable, eventId: string): Promise<number | undefined> {
  const [row] = await q.query<{ idx: string }>('SELECT idx FROM tlog_entry WHERE event_id = $1', [eventId]);
  return row ? Number(row.idx) : undefined;
}

async function assertSize(q: Queryable, treeSize: number): Promise<void> {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1 || treeSize > (await logSize(q))) {
    throw new RangeError(`tree size ${treeSize} is not a size this log has had`);
  }
}
