import type { PartClient } from '../../kit/http/client.ts';
import type { ConsentMode } from '../../trust/contract.ts';
import { decide } from '../decide.ts';
import type { ClosedAnswer, ClosedQuestion, ConsentRecord } from '../model.ts';

// Where the PDP gets consent answers: the registry over HTTP in production, wrapped in a short
// cache that a change notification clears (so a change is visible at the holder within the TTL
// even when a notification is lost, and at once when it arrives).

export interface ConsentOracle {
  closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer>;
}

const DECISIONS = new Set(['Permit', 'Deny', 'NotApplicable']);

/** Asks the consent part's POST /$closed-question over mutual TLS with a consent:read token. */
export class HttpConsentOracle implements ConsentOracle {
  constructor(
    private readonly client: PartClient,
    private readonly consentBaseUrl: () => string,
    private readonly options: { scope?: string; deadlineMs?: number } = {},
  ) {}

  async closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer> {
    const base = this.consentBaseUrl();
    const body = await this.client.json<ClosedAnswer>(`${base}/$closed-question`, {
      method: 'POST',
      body: q,
      headers: { 'content-type': 'application/json' },
      scope: this.client.tokens ? (this.options.scope ?? 'consent:read') : undefined,
      resource: base,
      deadlineMs: this.options.deadlineMs ?? 2000,
    });
    if (!body || !DECISIONS.has(body.decision) || typeof body.rule !== 'object') throw new Error('malformed closed-question answer');
    return body;
  }
}

/** Decides in process over a fixed set of records (the registry itself, tests, the sandbox). */
export class RecordsConsentOracle implements ConsentOracle {
  constructor(
    private readonly records: () => readonly ConsentRecord[],
    private readonly mode: () => ConsentMode,
  ) {}

  async closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer> {
    return decide(q, this.records(), this.mode());
  }
}

function keyOf(q: ClosedQuestion): string {
  return [q.holderUra, q.holderType, q.requesterUra, q.requesterType, q.requesterRole, q.requesterId, q.purposeOfUse, q.eventCode, q.dataCategory ?? '', q.exchange ?? ''].join('\u0000');
}

interface Entry {
  answer: Promise<ClosedAnswer>;
  expires: number;
}

export class CachedConsentOracle implements ConsentOracle {
  /** bsn → (question key → answer); grouped by patient so a notification clears one patient. */
  private readonly byPatient = new Map<string, Map<string, Entry>>();
  private size = 0;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: ConsentOracle,
    options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 4000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer> {
    const now = this.now();
    let entries = this.byPatient.get(q.bsn);
    const key = keyOf(q);
    const hit = entries?.get(key);
    if (hit && hit.expires > now) return hit.answer;
    if (!entries) {
      if (this.size >= this.maxEntries) this.evictOldestPatient();
      entries = new Map();
      this.byPatient.set(q.bsn, entries);
    }
    // Concurrent misses share one registry call; a failure is not cached.
    const answer = this.inner.closedQuestion(q);
    const entry: Entry = { answer, expires: now + this.ttlMs };
    if (!hit) this.size += 1;
    entries.set(key, entry);
    const own = entries;
    answer.catch(() => {
      if (own.get(key) === entry) {
        own.delete(key);
        this.size -= 1;
      }
    });
    return answer;
  }

  /** A consent of this patient changed: forget every cached answer about them. */
  invalidate(bsn: string): void {
    const entries = this.byPatient.get(bsn);
    if (!entries) return;
    this.size -= entries.size;
    this.byPatient.delete(bsn);
  }

  clear(): void {
    this.byPatient.clear();
    this.size = 0;
  }

  private evictOldestPatient(): void {
    const first = this.byPatient.keys().next();
    if (!first.done) this.invalidate(first.value);
  }
}
