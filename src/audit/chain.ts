import { createHash } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import canonicalize from 'canonicalize';
import { groupCommit } from '../kit/store/group-commit.ts';
import type { Migration, Queryable, Store } from '../kit/store/store.ts';
import { summarizeAuditEvent, toTransparencyEvent, withoutPseudonymToken } from './event.ts';
import type { OutboxSealer } from './outbox-sealing.ts';

// The node's local, hash-chained audit log. Record n commits to record n-1:
//   hash_n = SHA-256(hash_{n-1} || RFC8785({seq: n, event}))
// with hash_0 = 32 zero bytes (or the hash of the signed checkpoint after pruning).
// Appends take a row lock on the single chain-head row inside one transaction, so several
// appenders (threads, processes, instances on one PostgreSQL) can never fork the chain.

export const GENESIS_HASH = '0'.repeat(64);

export const auditLogMigrations: Migration[] = [
  {
    id: 'audit_001_log',
    sql: `
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  event_id text NOT NULL UNIQUE,
  recorded timestamptz NOT NULL,
  trace_id text,
  entry text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_log_trace_id ON audit_log (trace_id);
CREATE INDEX audit_log_recorded ON audit_log (recorded);
CREATE TABLE audit_chain_head (
  id int PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');
CREATE TABLE audit_checkpoint (
  seq bigint PRIMARY KEY,
  hash text NOT NULL,
  created_at timestamptz NOT NULL,
  jws text NOT NULL
);
CREATE TABLE audit_outbox (
  event_id text PRIMARY KEY,
  body text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_outbox_due ON audit_outbox (next_attempt_at);
`,
  },
  {
    // Copies the transparency part refused for good (e.g. 422: token no longer valid): kept, without
    // the PRS token, for the operator to look into, so they no longer block the queue.
    id: 'audit_002_outbox_rejected',
    sql: `
CREATE TABLE audit_outbox_rejected (
  event_id text PRIMARY KEY,
  body text NOT NULL,
  status int NOT NULL,
  error text NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    // The patient's BSN sealed with the node's outbox key, for a copy whose PRS token is fetched at
    // delivery (outbox-sealing.ts). Only here, never in audit_log; gone with the delivered row.
    id: 'audit_003_outbox_sealed_patient',
    sql: 'ALTER TABLE audit_outbox ADD COLUMN sealed_patient text;',
  },
];

export interface ChainEntry {
  seq: number;
  event: AuditEvent;
}

export interface AppendResult {
  eventId: string;
  seq: number;
  hash: string;
  /** True when an event with this id was already in the log (nothing appended). */
  duplicate: boolean;
}

export interface AppendOptions {
  /**
   * Also queue a transparency copy for delivery: for an event appended with the patient's BSN
   * (its PRS token is then fetched at delivery), or one that already carries a PRS token.
   */
  outbox?: boolean;
  /** Seals the BSN of events appended with one; required when such events are queued. */
  sealer?: OutboxSealer;
}

/** Per event: the patient's BSN, which only the outbox row keeps (sealed), to name the patient at delivery. */
export interface DeliveryPatient {
  bsn: string;
}

export function chainHash(prevHashHex: string, entry: ChainEntry): string {
  return createHash('sha256')
    .update(Buffer.from(prevHashHex, 'hex'))
    .update(canonicalize(entry)!, 'utf8')
    .digest('hex');
}

/**
 * RFC 8785 text of {seq, event} from the event's own canonical text: keys sort "event" < "seq",
 * so the costly canonicalisation can happen before the chain lock is taken.
 */
export function entryText(seq: number, eventCanonical: string): string {
  return `{"event":${eventCanonical},"seq":${seq}}`;
}

/** An event made ready for the chain outside the lock (canonical form, trace id, outbox copy). */
export interface PreparedEvent {
  id: string;
  eventCanonical: string;
  recorded: string;
  traceId: string | null;
  outboxBody: string | null;
  outboxSealedPatient: string | null;
}

export function prepareEvent(event: AuditEvent, options: AppendOptions = {}, patient?: DeliveryPatient): PreparedEvent {
  const summary = summarizeAuditEvent(event);
  const id = requireId(event);
  const local = withoutPseudonymToken(event);
  // The PRS token goes to the outbox copy only: it is single-use transit data for the
  // transparency part, not part of the node's own (kept for years) record. With the BSN given,
  // the copy is queued whatever the PRS's state now, and named at delivery with a fresh token.
  let outboxBody: string | null = null;
  let outboxSealedPatient: string | null = null;
  if (options.outbox && patient) {
    if (!options.sealer) throw new Error('an event appended with the patient BSN needs AppendOptions.sealer to be queued');
    outboxSealedPatient = options.sealer.seal(patient.bsn, id);
    outboxBody = JSON.stringify(toTransparencyEvent(local));
  } else if (options.outbox && summary.pseudonymToken) {
    outboxBody = JSON.stringify(toTransparencyEvent(event));
  }
  return {
    id,
    eventCanonical: canonicalize(local)!,
    recorded: event.recorded ?? new Date().toISOString(),
    traceId: summary.traceId ?? null,
    outboxBody,
    outboxSealedPatient,
  };
}

/** Appends events in one transaction, in order. Returns one result per event. */
export async function appendAuditEvents(
  store: Store,
  events: readonly AuditEvent[],
  options: AppendOptions = {},
): Promise<AppendResult[]> {
  return appendPrepared(store, events.map((e) => prepareEvent(e, options)));
}

// Last head this process wrote or read, per store: the fast path assumes it is still current
// and checks that atomically (compare-and-swap on the head row), so one round trip suffices.
const knownHeads = new WeakMap<Store, { seq: number; hash: string }>();

export async function appendPrepared(store: Store, prepared: readonly PreparedEvent[]): Promise<AppendResult[]> {
  if (prepared.length === 0) return [];
  // Fast path assumes fresh ids (the norm: builders mint UUIDs); a unique violation means a
  // re-append, and the careful path (locked transaction, duplicate check) sorts it out.
  const fresh = new Set(prepared.map((p) => p.id)).size === prepared.length;
  if (fresh) {
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        const head = knownHeads.get(store) ?? (await readChainHead(store));
        const plan = planAppend(head, prepared, new Map());
        if (await writeIfHeadIs(store, head, plan)) {
          knownHeads.set(store, plan.head);
          return plan.results;
        }
        knownHeads.delete(store); // another appender moved the head: re-read and re-chain
      }
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
    }
  }
  const results = await store.transaction((tx) => appendInTx(tx, prepared));
  knownHeads.delete(store);
  return results;
}

interface AppendPlan {
  results: AppendResult[];
  head: { seq: number; hash: string };
  rows: { seq: number[]; id: string[]; recorded: string[]; trace: (string | null)[]; entry: string[]; prev: string[]; hash: string[] };
  outbox: { id: string[]; body: string[]; sealed: (string | null)[] };
}

function planAppend(
  head: { seq: number; hash: string },
  prepared: readonly PreparedEvent[],
  existing: Map<string, { seq: string | number; hash: string }>,
): AppendPlan {
  let seq = head.seq;
  let hash = head.hash;
  const rows: AppendPlan['rows'] = { seq: [], id: [], recorded: [], trace: [], entry: [], prev: [], hash: [] };
  const outbox: AppendPlan['outbox'] = { id: [], body: [], sealed: [] };
  const results: AppendResult[] = [];
  const seen = new Set<string>();
  for (const p of prepared) {
    const known = existing.get(p.id);
    if (known || seen.has(p.id)) {
      const prior = known ?? results.find((r) => r.eventId === p.id)!;
      results.push({ eventId: p.id, seq: Number(prior.seq), hash: prior.hash, duplicate: true });
      continue;
    }
    seen.add(p.id);
    seq += 1;
    const text = entryText(seq, p.eventCanonical);
    const next = createHash('sha256').update(Buffer.from(hash, 'hex')).update(text, 'utf8').digest('hex');
    rows.seq.push(seq);
    rows.id.push(p.id);
    rows.recorded.push(p.recorded);
    rows.trace.push(p.traceId);
    rows.entry.push(text);
    rows.prev.push(hash);
    rows.hash.push(next);
    results.push({ eventId: p.id, seq, hash: next, duplicate: false });
    hash = next;
    if (p.outboxBody) {
      outbox.id.push(p.id);
      outbox.body.push(p.outboxBody);
      outbox.sealed.push(p.outboxSealedPatient);
    }
  }
  return { results, head: { seq, hash }, rows, outbox };
}

/**
 * One atomic statement: move the head from `expected` to the plan's head, and only if that
 * succeeded insert the records and outbox copies. The UPDATE locks the head row, and a
 * concurrent appender that moved it first makes the WHERE fail, so the chain cannot fork.
 */
async function writeIfHeadIs(q: Queryable, expected: { seq: number; hash: string }, plan: AppendPlan): Promise<boolean> {
  const { rows, outbox } = plan;
  const [r] = await q.query<{ n: number }>(
    `WITH moved AS (
       UPDATE audit_chain_head SET seq = $10, hash = $11 WHERE id = 1 AND seq = $12 AND hash = $13 RETURNING 1
     ), log AS (
       INSERT INTO audit_log (seq, event_id, recorded, trace_id, entry, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
       WHERE EXISTS (SELECT 1 FROM moved)
     ), outbox AS (
       INSERT INTO audit_outbox (event_id, body, sealed_patient)
       SELECT * FROM unnest($8::text[], $9::text[], $14::text[]) WHERE EXISTS (SELECT 1 FROM moved)
       ON CONFLICT (event_id) DO NOTHING
     )
     SELECT count(*)::int AS n FROM moved`,
    [rows.seq, rows.id, rows.recorded, rows.trace, rows.entry, rows.prev, rows.hash, outbox.id, outbox.body, plan.head.seq, plan.head.hash, expected.seq, expected.hash, outbox.sealed],
  );
  return Number(r?.n) === 1;
}

/** The careful path: lock the head, look up ids already logged, then write. */
async function appendInTx(tx: Queryable, prepared: readonly PreparedEvent[]): Promise<AppendResult[]> {
  const [row] = await tx.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE');
  if (!row) throw new Error('audit_chain_head missing: run auditLogMigrations');
  const head = { seq: Number(row.seq), hash: row.hash };
  const existing = new Map(
    (
      await tx.query<{ event_id: string; seq: string; hash: string }>('SELECT event_id, seq, hash FROM audit_log WHERE event_id = ANY($1::text[])', [
        prepared.map((p) => p.id),
      ])
    ).map((r) => [r.event_id, r]),
  );
  const plan = planAppend(head, prepared, existing);
  if (plan.rows.seq.length > 0 && !(await writeIfHeadIs(tx, head, plan))) throw new Error('chain head moved while locked');
  return plan.results;
}

export async function appendAuditEvent(store: Store, event: AuditEvent, options: AppendOptions = {}, patient?: DeliveryPatient): Promise<AppendResult> {
  const [r] = await appendPrepared(store, [prepareEvent(event, options, patient)]);
  return r;
}

function requireId(event: AuditEvent): string {
  if (!event.id) throw new Error('AuditEvent needs an id (buildAuditEvent sets one)');
  return event.id;
}

/**
 * Group commit: concurrent callers of append() within one process share a transaction, so
 * one lock + one multi-row INSERT serve many events (this is what keeps the chain close to
 * raw INSERT speed on PostgreSQL). Each caller still learns its own seq and hash.
 */
export function createAuditLogWriter(store: Store, options: AppendOptions & { maxBatch?: number } = {}) {
  const commit = groupCommit((events: PreparedEvent[]) => appendPrepared(store, events), options.maxBatch ?? 500);
  return {
    // Canonicalise now, while an earlier batch may be waiting on the database.
    append: (event: AuditEvent, patient?: DeliveryPatient): Promise<AppendResult> => commit.append(prepareEvent(event, options, patient)),
    /** Resolves when everything queued so far is committed. */
    flush: () => commit.flush(),
  };
}

export async function readChainHead(q: Queryable): Promise<{ seq: number; hash: string }> {
  const [head] = await q.query<{ seq: string; hash: string }>('SELECT seq, hash FROM audit_chain_head WHERE id = 1');
  return { seq: Number(head.seq), hash: head.hash };
}

/** Events of the local log that share a W3C trace id (requester and holder side of one exchange). */
export async function eventsByTraceId(q: Queryable, traceId: string): Promise<AuditEvent[]> {
  const rows = await q.query<{ entry: string }>('SELECT entry FROM audit_log WHERE trace_id = $1 ORDER BY seq', [traceId]);
  return rows.map((r) => (JSON.parse(r.entry) as ChainEntry).event);
}
