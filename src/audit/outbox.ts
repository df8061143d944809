import type { AuditEvent } from '@medplum/fhirtypes';
import type { PartClient } from '../kit/http/client.ts';
import type { Store } from '../kit/store/store.ts';
import { withoutPseudonymToken } from './event.ts';
import { type OutboxSealer, withPseudonymToken } from './outbox-sealing.ts';

// At-least-once delivery of transparency copies from a node's local log to the transparency
// part. appendAuditEvent(…, {outbox: true}) queues the copy in the same transaction as the
// chain record, so an access is never logged locally without being queued. A delivery pass
// leases due rows with one UPDATE (no transaction held open across the network call), sends
// them, deletes what was accepted and reschedules the rest with exponential backoff. The
// receiver ignores duplicates by event id, so re-sending after a crash is harmless. A copy the
// receiver refuses for good (400/409/413/422, e.g. its PRS token is no longer acceptable) moves
// to audit_outbox_rejected (without the token) instead of blocking the queue behind it.
// A copy queued with the patient's sealed BSN gets its PRS token here, just before it is sent, so
// the PRS being down at access time loses nothing and a long outage leaves no stale token; the
// sealed BSN goes with the delivered (or rejected) row. The transparency part (receive.ts) accepts
// such a token as valid at arrival for an event recorded within its delivery grace (24 h default).

export type SendEvent = (event: AuditEvent) => Promise<void>;

/** Names the patient of a copy queued with a sealed BSN: opens it and asks the PRS for a token. */
export interface TokenAtDelivery {
  sealer: OutboxSealer;
  /** A fresh PRS token for the transparency part, asked on behalf of the event's organisation. */
  fetchToken(event: AuditEvent, bsn: string): Promise<string>;
}

export interface OutboxOptions {
  batchSize?: number;
  /** A lease keeps two workers from sending the same row at once; a crashed worker's lease expires. */
  leaseMs?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => Date;
  /** Needed to deliver copies queued with a sealed BSN (without it they wait and back off). */
  tokenAtDelivery?: TokenAtDelivery;
}

export interface DeliveryPass {
  delivered: number;
  failed: number;
  /** Refused for good by the receiver this pass (moved to audit_outbox_rejected). */
  rejected: number;
  /** Rows still waiting (due later or now). */
  pending: number;
}

export function backoffMs(attempts: number, base: number, max: number, random = Math.random()): number {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempts, 30));
  return Math.round(ceiling * (0.5 + random * 0.5));
}

export async function deliverOutbox(store: Store, send: SendEvent, options: OutboxOptions = {}): Promise<DeliveryPass> {
  const now = options.now ?? (() => new Date());
  const base = options.baseBackoffMs ?? 500;
  const max = options.maxBackoffMs ?? 5 * 60_000;
  const t = now();
  const leased = await store.query<{ event_id: string; body: string; attempts: number; sealed_patient: string | null }>(
    `UPDATE audit_outbox SET next_attempt_at = $1
     WHERE event_id IN (
       SELECT event_id FROM audit_outbox WHERE next_attempt_at <= $2
       ORDER BY created_at, event_id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING event_id, body, attempts, sealed_patient`,
    [new Date(t.getTime() + (options.leaseMs ?? 60_000)).toISOString(), t.toISOString(), options.batchSize ?? 100],
  );
  let delivered = 0;
  let failed = 0;
  let rejected = 0;
  const done: string[] = [];
  for (const [i, row] of leased.entries()) {
    try {
      await send(await namedForDelivery(row, options.tokenAtDelivery));
      done.push(row.event_id);
      delivered += 1;
    } catch (err) {
      const status = (err as { status?: unknown })?.status;
      if (typeof status === 'number' && PERMANENT.has(status)) {
        await reject(store, row, status, err);
        rejected += 1;
        continue;
      }
      // Treat a failure as "the receiver is unavailable": back off this row and release the rest to the same time.
      const retryAt = new Date(now().getTime() + backoffMs(Number(row.attempts), base, max)).toISOString();
      const rest = leased.slice(i).map((r) => r.event_id);
      await store.query(
        `UPDATE audit_outbox SET next_attempt_at = $1,
           attempts = attempts + CASE WHEN event_id = $2 THEN 1 ELSE 0 END,
           last_error = CASE WHEN event_id = $2 THEN $3 ELSE last_error END
         WHERE event_id = ANY($4::text[])`,
        [retryAt, row.event_id, String((err as Error)?.message ?? err).slice(0, 500), rest],
      );
      failed = 1;
      break;
    }
  }
  if (done.length) await store.query('DELETE FROM audit_outbox WHERE event_id = ANY($1::text[])', [done]);
  const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM audit_outbox');
  return { delivered, failed, rejected, pending: Number(n) };
}

async function namedForDelivery(row: { event_id: string; body: string; sealed_patient: string | null }, via: TokenAtDelivery | undefined): Promise<AuditEvent> {
  const event = JSON.parse(row.body) as AuditEvent;
  if (row.sealed_patient === null) return event;
  if (!via) throw new Error('copy queued with a sealed BSN, but this worker has no tokenAtDelivery');
  // The BSN exists in clear only in this call, on its way to the PRS.
  const token = await via.fetchToken(event, via.sealer.open(row.sealed_patient, row.event_id));
  return withPseudonymToken(event, token);
}

/** Statuses that a retry cannot change (the same copy would be refused again). */
const PERMANENT = new Set([400, 409, 413, 422]);

async function reject(store: Store, row: { event_id: string; body: string }, status: number, err: unknown): Promise<void> {
  const body = JSON.stringify(withoutPseudonymToken(JSON.parse(row.body) as AuditEvent));
  await store.query(
    `WITH gone AS (DELETE FROM audit_outbox WHERE event_id = $1 RETURNING event_id)
     INSERT INTO audit_outbox_rejected (event_id, body, status, error)
     SELECT event_id, $2, $3, $4 FROM gone
     ON CONFLICT (event_id) DO UPDATE SET body = EXCLUDED.body, status = EXCLUDED.status, error = EXCLUDED.error, rejected_at = now()`,
    [row.event_id, body, status, String((err as Error)?.message ?? err).slice(0, 500)],
  );
}

/** Runs delivery passes until stopped: immediately while there is work, every intervalMs otherwise. */
export function startOutboxWorker(
  store: Store,
  send: SendEvent,
  options: OutboxOptions & { intervalMs?: number; onError?: (err: unknown) => void } = {},
): { stop(): Promise<void>; kick(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const interval = options.intervalMs ?? 1000;
  const loop = (async () => {
    while (!stopped) {
      let busy = false;
      try {
        const pass = await deliverOutbox(store, send, options);
        busy = pass.delivered > 0 && pass.failed === 0 && pass.pending > 0;
      } catch (err) {
        options.onError?.(err);
      }
      if (stopped) break;
      if (!busy) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, interval);
        });
      }
    }
  })();
  return {
    kick() {
      if (timer) clearTimeout(timer);
      wake?.();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

/**
 * SendEvent over mTLS to the transparency part's POST /AuditEvent (idempotent by id), with a
 * transparency:write access token when the client has a TokenProvider.
 */
export function transparencySender(client: PartClient, transparencyBaseUrl: string, options: { scope?: string } = {}): SendEvent {
  return async (event) => {
    await client.json(`${transparencyBaseUrl}/AuditEvent`, {
      method: 'POST',
      body: event,
      scope: options.scope ?? 'transparency:write',
      retries: 0,
      idempotent: true, // events carry their own id: a repeat is recorded once
    });
  };
}
