import type { PartClient } from '../../kit/http/client.ts';
import { parseConsentNotification } from '../notifications.ts';
import type { CachedConsentOracle } from './oracle.ts';

// The holder's side of consent subscriptions: subscribe per patient (Mitz-style criteria), and on
// each notification clear that patient's cached answers, so the next decision asks the registry.
//
// Memory is bounded: at most `maxPatients` patients keep a subscription (least recently asked
// about goes first). An evicted patient is unsubscribed at the registry and their cached answers
// are dropped, so no answer outlives its subscription; asking about them again resubscribes.
// The price is one extra subscription round trip for a patient who comes back after eviction.

export interface HolderSubscriptionsOptions {
  client: PartClient;
  consentBaseUrl: () => string;
  holderUra: string;
  holderType: string;
  /** The holder's https endpoint that receives notifications (mTLS); a function when known only later. */
  notifyEndpoint: string | (() => string);
  cache: Pick<CachedConsentOracle, 'invalidate'>;
  /** Patients with a live subscription at once (default 10 000). */
  maxPatients?: number;
  /** After a failed subscribe, the patient is not tried again for this long (default 30 s): no retry storm. */
  retryAfterMs?: number;
  /** Called once per failed subscribe or unsubscribe (the error never names the patient). */
  onError?: (err: Error, action: 'subscribe' | 'unsubscribe') => void;
}

export class HolderSubscriptions {
  private readonly patientOf = new Map<string, string>();
  /** bsn → subscription id; insertion order is recency of use (oldest first). */
  private readonly subscriptionOf = new Map<string, Promise<string>>();
  private inFlight = 0;
  private readonly maxPatients: number;

  constructor(private readonly options: HolderSubscriptionsOptions) {
    this.maxPatients = options.maxPatients ?? 10_000;
  }

  /** Patients with a (pending or live) subscription. */
  get size(): number {
    return this.subscriptionOf.size;
  }

  /** Subscribe requests still waiting for the registry's answer. */
  get subscribing(): number {
    return this.inFlight;
  }

  /** Subscribes once per patient; returns the subscription id. */
  ensure(bsn: string): Promise<string> {
    const known = this.subscriptionOf.get(bsn);
    if (known) {
      this.subscriptionOf.delete(bsn);
      this.subscriptionOf.set(bsn, known);
      return known;
    }
    while (this.subscriptionOf.size >= this.maxPatients) this.evictOldest();
    const o = this.options;
    this.inFlight += 1;
    const p = o.client
      .json<{ id: string }>(`${o.consentBaseUrl()}/Subscription`, {
        method: 'POST',
        scope: o.client.tokens ? 'consent:read' : undefined,
        resource: o.consentBaseUrl(),
        body: {
          resourceType: 'Subscription',
          status: 'requested',
          reason: 'OTV',
          criteria: `Consent?_query=otv&patientid=${bsn}&providerid=${o.holderUra}&providertype=${o.holderType}`,
          channel: { type: 'rest-hook', endpoint: typeof o.notifyEndpoint === 'function' ? o.notifyEndpoint() : o.notifyEndpoint, payload: 'application/fhir+json' },
        },
      })
      .then((s) => {
        if (typeof s?.id !== 'string' || !s.id) throw new Error('the registry answered a subscription without an id');
        if (this.subscriptionOf.get(bsn) !== p) {
          // Evicted while we waited: do not keep a subscription nobody tracks.
          this.unsubscribe(s.id);
          return s.id;
        }
        this.patientOf.set(s.id, bsn);
        // A change between the answer we may have cached and this subscription would never be
        // notified: start the patient afresh now that every later change will be.
        o.cache.invalidate(bsn);
        return s.id;
      })
      .finally(() => {
        this.inFlight -= 1;
      });
    p.catch((err: Error) => {
      o.onError?.(err, 'subscribe');
      // Keep the failure for a while (ensure answers it at once), then let a later question retry.
      setTimeout(() => {
        if (this.subscriptionOf.get(bsn) === p) this.subscriptionOf.delete(bsn);
      }, o.retryAfterMs ?? 30_000).unref();
    });
    this.subscriptionOf.set(bsn, p);
    return p;
  }

  /** Handles a POSTed notification body; returns false when it is for no known subscription. */
  onNotification(body: unknown): boolean {
    const note = parseConsentNotification(body);
    const bsn = this.patientOf.get(note.subscriptionId);
    if (!bsn) return false;
    this.options.cache.invalidate(bsn);
    return true;
  }

  /** Switches a subscription off at the registry (fire-and-forget; errors go to onError). */
  unsubscribe(id: string): void {
    const o = this.options;
    o.client
      .json(`${o.consentBaseUrl()}/Subscription/${encodeURIComponent(id)}`, {
        method: 'DELETE',
        scope: o.client.tokens ? 'consent:read' : undefined,
        resource: o.consentBaseUrl(),
      })
      .catch((err: Error) => o.onError?.(err, 'unsubscribe'));
  }

  private evictOldest(): void {
    const first = this.subscriptionOf.entries().next();
    if (first.done) return;
    const [bsn, pending] = first.value;
    this.subscriptionOf.delete(bsn);
    this.options.cache.invalidate(bsn);
    // A pending subscribe notices the eviction when it resolves (see ensure).
    pending
      .then((id) => {
        if (this.patientOf.get(id) === bsn) {
          this.patientOf.delete(id);
          this.unsubscribe(id);
        }
      })
      .catch(() => {});
  }
}
