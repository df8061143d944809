import type { PartClient } from '../../kit/http/client.ts';
import { parseConsentNotification } from '../notifications.ts';
import type { CachedConsentOracle } from './oracle.ts';

// The holder's side of consent subscriptions: subscribe per patient (Mitz-style criteria), and on
// each notification clear that patient's cached answers, so the next decision asks the registry.

export interface HolderSubscriptionsOptions {
  client: PartClient;
  consentBaseUrl: () => string;
  holderUra: string;
  holderType: string;
  /** The holder's https endpoint that receives notifications (mTLS). */
  notifyEndpoint: string;
  cache: CachedConsentOracle;
}

export class HolderSubscriptions {
  private readonly patientOf = new Map<string, string>();
  private readonly subscriptionOf = new Map<string, Promise<string>>();

  constructor(private readonly options: HolderSubscriptionsOptions) {}

  /** Subscribes once per patient; returns the subscription id. */
  ensure(bsn: string): Promise<string> {
    let p = this.subscriptionOf.get(bsn);
    if (!p) {
      const o = this.options;
      p = o.client
        .json<{ id: string }>(`${o.consentBaseUrl()}/Subscription`, {
          method: 'POST',
          scope: o.client.tokens ? 'consent:read' : undefined,
          resource: o.consentBaseUrl(),
          body: {
            resourceType: 'Subscription',
            status: 'requested',
            reason: 'OTV',
            criteria: `Consent?_query=otv&patientid=${bsn}&providerid=${o.holderUra}&providertype=${o.holderType}`,
            channel: { type: 'rest-hook', endpoint: o.notifyEndpoint, payload: 'application/fhir+json' },
          },
        })
        .then((s) => {
          this.patientOf.set(s.id, bsn);
          return s.id;
        });
      p.catch(() => this.subscriptionOf.delete(bsn));
      this.subscriptionOf.set(bsn, p);
    }
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
}
