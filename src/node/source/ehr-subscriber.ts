import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { HttpError, notFound, unprocessable } from '../../kit/fhir/outcome.ts';
import type { NodeTenant } from '../environment.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { offersTopic, parseNotification, RESOURCE_CHANGE_TOPIC, subscriptionRequest } from './subscription-backport.ts';

// The node's topic-based Subscription at each EHR that offers one (R4 Backport), alongside the
// _history polling: the EHR posts an id-only notification for every change and the node runs
// its referral sync at once instead of at the next poll. The notification is only a nudge: what
// changed is still read from _history from the stored cursor, so a lost or reordered
// notification loses nothing, and polling goes on (less often is fine, never off).
// The EHR is no network participant and has no certificate: it authenticates with the random
// secret the node put in the Subscription's channel.header (compared as hashes, in constant time).

export const EHR_NOTIFICATION_PATH = '/ehr-notifications';

interface Subscribed {
  secretHash: Buffer;
  /** The EHR's URL of the Subscription, once created. */
  url?: string;
  id?: string;
}

export interface EhrSubscriberOptions {
  tenants: NodeTenant[];
  connectors: Map<string, EhrConnector>;
  /** The node's public base URL (known once it listens). */
  baseUrl(): string;
  /** A change happened in this tenant's EHR. */
  onChange(ura: string): void;
  log: Logger;
  /** First retry delay when the EHR or the node is not ready yet; doubles up to a minute. */
  retryMs?: number;
}

const hash = (s: string) => createHash('sha256').update(s).digest();

export class EhrSubscriber {
  private readonly subscribed = new Map<string, Subscribed>();
  /** Tenants whose EHR offers no topic: polling only. */
  private readonly pollingOnly = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: EhrSubscriberOptions) {}

  /** How each tenant's EHR tells the node about changes now. */
  state(ura: string): 'subscription' | 'polling' | 'pending' {
    if (this.subscribed.get(ura)?.id) return 'subscription';
    return this.pollingOnly.has(ura) ? 'polling' : 'pending';
  }

  /** Subscribes at every EHR that offers the topic, retrying in the background until each is decided. */
  start(): void {
    let delay = this.o.retryMs ?? 1000;
    const attempt = async () => {
      this.timer = undefined;
      if (this.stopped) return;
      await Promise.all(this.o.tenants.filter((t) => this.state(t.ura) === 'pending').map((t) => this.subscribe(t)));
      if (this.o.tenants.some((t) => this.state(t.ura) === 'pending') && !this.stopped) {
        this.timer = setTimeout(attempt, delay);
        this.timer.unref();
        delay = Math.min(delay * 2, 60_000);
      }
    };
    this.timer = setTimeout(attempt, 0);
    this.timer.unref();
  }

  private async subscribe(t: NodeTenant): Promise<void> {
    const base = this.o.baseUrl();
    const connector = this.o.connectors.get(t.ura);
    if (!base || !connector) return;
    try {
      const cs = await connector.getJson(`${connector.baseUrl}/metadata`);
      if (!offersTopic(cs, RESOURCE_CHANGE_TOPIC)) {
        this.pollingOnly.add(t.ura);
        return;
      }
      const secret = randomBytes(32).toString('base64url');
      const entry: Subscribed = { secretHash: hash(secret) };
      this.subscribed.set(t.ura, entry); // the handshake arrives before the create is answered
      const created = await connector.create<Subscription>(
        subscriptionRequest(RESOURCE_CHANGE_TOPIC, `${base}${EHR_NOTIFICATION_PATH}/${t.ura}`, secret, `LDN node: referrals of ${t.name} follow its record`),
      );
      if (created.status !== 'active') {
        this.subscribed.delete(t.ura);
        this.o.log.warn({ tenant: t.ura, status: created.status, error: created.error }, 'EHR subscription not active; polling _history only for now');
        return;
      }
      entry.id = created.id;
      entry.url = `${connector.baseUrl}/Subscription/${created.id}`;
      this.o.log.info({ tenant: t.ura, subscription: entry.url }, 'subscribed to the EHR\'s changes (topic-based Subscription)');
    } catch (err) {
      if (!this.subscribed.get(t.ura)?.id) this.subscribed.delete(t.ura);
      this.o.log.warn({ tenant: t.ura, err: (err as Error).message }, 'EHR subscription failed; will retry (polling meanwhile)');
    }
  }

  register(app: FastifyInstance): void {
    app.post<{ Params: { ura: string }; Body: unknown }>(`${EHR_NOTIFICATION_PATH}/:ura`, async (request, reply) => {
      const entry = this.subscribed.get(request.params.ura);
      if (!entry) throw notFound('no subscription of this node for that organisation');
      const m = /^Bearer ([A-Za-z0-9_-]{1,128})$/.exec(request.headers.authorization ?? '');
      if (!m || !timingSafeEqual(hash(m[1]), entry.secretHash)) {
        throw new HttpError(401, 'login', 'the notification does not carry this subscription\'s credential', { headers: { 'www-authenticate': 'Bearer' } });
      }
      const n = parseNotification(request.body);
      if (n.topic !== RESOURCE_CHANGE_TOPIC) throw unprocessable(`not the subscribed topic: ${n.topic}`);
      if (entry.url && n.subscription !== entry.url) throw unprocessable('the notification names another subscription');
      if (n.type === 'event-notification') this.o.onChange(request.params.ura);
      return reply.code(200).send();
    });
  }

  /** Ends the subscriptions (best effort: an EHR that is down drops them when its endpoint fails). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled(
      [...this.subscribed.entries()].filter(([, s]) => s.id).map(([ura, s]) => this.o.connectors.get(ura)?.remove('Subscription', s.id as string)),
    );
    this.subscribed.clear();
  }
}
