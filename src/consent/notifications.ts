import { randomUUID } from 'node:crypto';
import type { Bundle, Parameters } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Store } from '../kit/store/store.ts';
import { CONSENT_URI } from './uris.ts';

// Delivery of queued notifications (the outbox filled inside each consent write). Rows are claimed
// with a lease (UPDATE … SKIP LOCKED), so several registry instances on one PostgreSQL never send
// the same row twice at once, and no transaction is held open during the HTTP call. A failed
// delivery is retried with exponential backoff; a subscriber that comes back gets what it missed.

export interface NotificationSender {
  /** POSTs the notification to the subscriber (over mTLS in production); resolves with the HTTP status. */
  send(endpoint: string, bundle: Bundle): Promise<number>;
}

export interface DispatcherOptions {
  /** Base URL of the registry, for references in notifications. */
  baseUrl: () => string;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** After this many failed attempts a row is parked (last_error kept; status 'error' on the subscription). */
  maxAttempts?: number;
  batchSize?: number;
  leaseMs?: number;
  log?: Logger;
}

type ClaimedRow = {
  id: string | number;
  subscription_id: string;
  event_number: string | number;
  consent_id: string;
  consent_version: number;
  attempts: number;
  created_at: Date | string;
  endpoint: string;
};

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export function notificationBundle(baseUrl: string, row: { subscription_id: string; event_number: string | number; consent_id: string; consent_version: number; created_at: Date | string }): Bundle {
  const n = String(row.event_number);
  const status: Parameters = {
    resourceType: 'Parameters',
    meta: { profile: [CONSENT_URI.backportSubscriptionStatus] },
    parameter: [
      { name: 'subscription', valueReference: { reference: `${baseUrl}/Subscription/${row.subscription_id}` } },
      { name: 'topic', valueCanonical: CONSENT_URI.consentTopic },
      { name: 'status', valueCode: 'active' },
      { name: 'type', valueCode: 'event-notification' },
      { name: 'events-since-subscription-start', valueString: n },
      {
        name: 'notification-event',
        part: [
          { name: 'event-number', valueString: n },
          { name: 'timestamp', valueInstant: new Date(row.created_at).toISOString() },
          { name: 'focus', valueReference: { reference: `${baseUrl}/Consent/${row.consent_id}/_history/${row.consent_version}` } },
        ],
      },
    ],
  };
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: status,
        request: { method: 'GET', url: `${baseUrl}/Subscription/${row.subscription_id}/$status` },
        response: { status: '200' },
      },
    ],
  };
}

export interface ReceivedNotification {
  subscriptionId: string;
  eventNumbers: number[];
  /** Consent references (with version) that changed. */
  focus: string[];
}

/** For the holder: reads a notification Bundle (throws on anything else). */
export function parseConsentNotification(bundle: unknown): ReceivedNotification {
  const b = bundle as Bundle;
  const status = b?.resourceType === 'Bundle' && b.type === 'history' ? (b.entry?.[0]?.resource as Parameters | undefined) : undefined;
  if (status?.resourceType !== 'Parameters') throw new Error('not a subscription notification bundle');
  const sub = status.parameter?.find((p) => p.name === 'subscription')?.valueReference?.reference ?? '';
  const m = /Subscription\/([^/]+)$/.exec(sub);
  if (!m) throw new Error('notification names no subscription');
  const events = (status.parameter ?? []).filter((p) => p.name === 'notification-event');
  return {
    subscriptionId: m[1],
    eventNumbers: events.map((e) => Number(e.part?.find((x) => x.name === 'event-number')?.valueString)).filter(Number.isFinite),
    focus: events.map((e) => e.part?.find((x) => x.name === 'focus')?.valueReference?.reference ?? '').filter(Boolean),
  };
}

export class NotificationDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly baseDelay: number;
  private readonly maxDelay: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly store: Store,
    private readonly sender: NotificationSender,
    private readonly options: DispatcherOptions,
  ) {
    this.baseDelay = options.baseDelayMs ?? 1000;
    this.maxDelay = options.maxDelayMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 20;
  }

  /** Delivers every due notification once; returns how many were delivered and how many failed. */
  async runOnce(): Promise<{ delivered: number; failed: number }> {
    const lease = Math.ceil((this.options.leaseMs ?? 30_000) / 1000);
    const rows = await this.store.query<ClaimedRow>(
      `UPDATE notification_outbox o SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
       FROM subscription s
       WHERE s.id = o.subscription_id AND o.id IN (
         SELECT id FROM notification_outbox WHERE delivered_at IS NULL AND next_attempt_at <= now() AND attempts < $3
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING o.id, o.subscription_id, o.event_number, o.consent_id, o.consent_version, o.attempts, o.created_at, s.endpoint`,
      [this.options.batchSize ?? 50, lease, this.maxAttempts],
    );
    let delivered = 0;
    let failed = 0;
    await Promise.all(
      rows.map(async (row) => {
        let error: string | null = null;
        try {
          const status = await this.sender.send(row.endpoint, notificationBundle(this.options.baseUrl(), row));
          if (status < 200 || status >= 300) error = `subscriber answered ${status}`;
        } catch (err) {
          error = (err as Error).message;
        }
        if (error === null) {
          delivered += 1;
          await this.store.query('UPDATE notification_outbox SET delivered_at = now(), last_error = NULL WHERE id = $1', [row.id]);
          await this.store.query("UPDATE subscription SET status = 'active' WHERE id = $1 AND status = 'error'", [row.subscription_id]);
          return;
        }
        failed += 1;
        const delay = backoffMs(row.attempts, this.baseDelay, this.maxDelay);
        this.options.log?.warn({ subscription: row.subscription_id, attempt: row.attempts, delayMs: delay, error }, 'consent notification not delivered; will retry');
        await this.store.query(
          'UPDATE notification_outbox SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 WHERE id = $1',
          [row.id, delay / 1000, error.slice(0, 500)],
        );
        if (row.attempts >= this.maxAttempts) {
          await this.store.query("UPDATE subscription SET status = 'error' WHERE id = $1 AND status = 'active'", [row.subscription_id]);
        }
      }),
    );
    return { delivered, failed };
  }

  /** Polls for due notifications; a run never overlaps the previous one. */
  start(intervalMs = 500): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.runOnce()
        .catch((err) => this.options.log?.error({ err }, 'notification dispatch failed'))
        .finally(() => {
          this.running = null;
        });
    }, intervalMs);
    this.timer.unref();
  }

  /** Nudges an immediate run (after a write), without waiting for the poll. */
  kick(): void {
    if (!this.timer || this.running) return;
    this.running = this.runOnce()
      .catch((err) => this.options.log?.error({ err }, 'notification dispatch failed'))
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
