import type { Migration, Queryable, Store } from '../../kit/store/store.ts';
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
 * Appends leaf hashes after the current size inside tx (the caller holds the tlog_state lock).
 * Keeps the right edge of the tree as a stack of peaks and writes each subtree as it completes.
 */
export async function appendLeafHashes(tx: Queryable, size: number, leaves: readonly Hash[]): Promise<number> {
  const peaks = peaksOf(size);
  const known = await fetchSubtrees(tx, peaks);
  const stack = peaks.map((k) => ({ level: k.level, hash: known.get(subtreeId(k))! }));
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
  if (out.level.length) {
    await tx.query(
      `INSERT INTO tlog_node (level, idx, hash)
       SELECT l, i, decode(h, 'hex') FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS t(l, i, h)`,
      [out.level, out.idx, out.hash],
    );
  }
  await tx.query('UPDATE tlog_state SET size = $1 WHERE id = 1', [n]);
  return n;
}

/** Appends events (idempotent by event id) and returns each one's leaf index. */
export async function appendToLog(store: Store, items: readonly LogItem[]): Promise<LogAppendResult[]> {
  if (items.length === 0) return [];
  return store.transaction(async (tx) => {
    const [state] = await tx.query<{ size: string }>('SELECT size FROM tlog_state WHERE id = 1 FOR UPDATE');
    const size = Number(state.size);
    const existing = new Map(
      (
        await tx.query<{ event_id: string; idx: string }>('SELECT event_id, idx FROM tlog_entry WHERE event_id = ANY($1::text[])', [
          items.map((i) => i.eventId),
        ])
      ).map((r) => [r.event_id, Number(r.idx)]),
    );
    const results: LogAppendResult[] = [];
    const fresh: LogItem[] = [];
    for (const item of items) {
      const prior = existing.get(item.eventId);
      if (prior !== undefined) {
        results.push({ eventId: item.eventId, index: prior, duplicate: true });
        continue;
      }
      const index = size + fresh.length;
      existing.set(item.eventId, index);
      fresh.push(item);
      results.push({ eventId: item.eventId, index, duplicate: false });
    }
    if (fresh.length === 0) return results;
    await tx.query(
      `INSERT INTO tlog_entry (idx, event_id, pseudonym, source_ura, recorded, body)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])`,
      [
        fresh.map((_, i) => size + i),
        fresh.map((i) => i.eventId),
        fresh.map((i) => i.pseudonym ?? null),
        fresh.map((i) => i.sourceUra ?? null),
        fresh.map((i) => i.recorded ?? null),
        fresh.map((i) => i.body),
      ],
    );
    await appendLeafHashes(tx, size, fresh.map((i) => leafHash(Buffer.from(i.body, 'utf8'))));
    return results;
  });
}

export async function logSize(q: Queryable): Promise<number> {
  const [state] = await q.query<{ size: string }>('SELECT size FROM tlog_state WHERE id = 1');
  return Number(state.size);
}

export async function treeRoot(q: Queryable, size: number): Promise<Hash> {
  return withFetchedSubtrees((keys) => fetchSubtrees(q, keys), (lookup) => rootHash(lookup, size));
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  auditPath: string[];
}

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
