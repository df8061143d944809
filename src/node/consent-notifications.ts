import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type CachedConsentOracle, type ClosedAnswer, type ClosedQuestion, type ConsentOracle, HolderSubscriptions, parseConsentNotification } from '../consent/contract.ts';
import { badRequest, forbidden, notFound, operationOutcome, outcomeIssue } from '../kit/fhir/outcome.ts';
import type { PartClient } from '../kit/http/client.ts';
import { thumbprintOf } from '../kit/http/peer.ts';
import type { Peer, TlsIdentity } from '../kit/part.ts';
import type { ConsentNotificationReceiver, NodeTenant } from './environment.ts';

// Consent change notifications at the node. Every consent question a tenant asks makes sure that
// tenant is subscribed for the patient at the consent part (in the background: a decision never
// waits for or fails on it); the consent part then POSTs to /org/<URA>/consent-notifications on
// this node's own origin (the consent part accepts only callbacks on an origin the directory lists
// for the subscriber), and the patient's cached answers are dropped, so a long cache TTL no longer
// delays a change. Only the consent part may notify: its client certificate must be the one it
// presents at its own URL.

export const NOTIFY_PATH = 'consent-notifications';

export function notifyEndpoint(nodeBaseUrl: string, ura: string): string {
  return `${nodeBaseUrl}/org/${ura}/${NOTIFY_PATH}`;
}

/** Hides anything that looks like a BSN (nine digits) in an error before it is logged. */
const withoutBsn = (text: string) => text.replace(/\d{9}/g, '•••••••••');

export interface ConsentNotificationsOptions {
  tenants: NodeTenant[];
  /** The client acting for each tenant (its certificate and tokens). */
  clientOf(tenant: NodeTenant): PartClient;
  consentUrl: () => string;
  /** The node's public base URL (known once it listens). */
  nodeBaseUrl: () => string;
  /** The cache the notifications clear. */
  cache: CachedConsentOracle;
  /** The node's own TLS identity, to read the certificate the consent part presents. */
  tls: TlsIdentity;
  log: Logger;
  maxPatientsPerTenant?: number;
}

export function createConsentNotifications(o: ConsentNotificationsOptions): { oracle: ConsentOracle; receiver: ConsentNotificationReceiver } {
  const byTenant = new Map<string, HolderSubscriptions>();
  for (const t of o.tenants) {
    byTenant.set(
      t.ura,
      new HolderSubscriptions({
        client: o.clientOf(t),
        consentBaseUrl: o.consentUrl,
        holderUra: t.ura,
        holderType: t.type,
        notifyEndpoint: () => notifyEndpoint(o.nodeBaseUrl(), t.ura),
        cache: o.cache,
        maxPatients: o.maxPatientsPerTenant,
        onError: (err, action) =>
          o.log.warn({ event: `consent.${action}-failed`, holder: t.ura, error: withoutBsn(err.message) }, `consent subscription: ${action} failed; the cache TTL still bounds staleness`),
      }),
    );
  }
  const oracle: ConsentOracle = {
    closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer> {
      // Fire-and-forget: failures are reported once through onError and retried on a later question.
      try {
        byTenant.get(q.holderUra)?.ensure(q.bsn).catch(() => {});
      } catch (err) {
        o.log.warn({ event: 'consent.subscribe-failed', holder: q.holderUra, error: withoutBsn((err as Error).message) }, 'consent subscription: subscribe failed');
      }
      return o.cache.closedQuestion(q);
    },
  };
  const isConsentPart = consentPartRecogniser({ url: o.consentUrl, tls: o.tls, log: o.log });
  return {
    oracle,
    receiver: {
      isConsentPart,
      receive(tenantUra, body) {
        const subs = byTenant.get(tenantUra);
        if (!subs) return 'unknown';
        if (subs.onNotification(body)) return 'applied';
        return 'unknown';
      },
      forget(tenantUra, subscriptionId) {
        const subs = byTenant.get(tenantUra);
        // While a subscribe is in flight the id may be that one's: keep it (its patient's cache is
        // cleared when the subscribe completes anyway).
        if (subs && subs.subscribing === 0) subs.unsubscribe(subscriptionId);
      },
    },
  };
}

/**
 * Recognises the consent part by the certificate it presents at its own URL (the same identity
 * it calls out with). The certificate is read once and again when a caller presents another one
 * (after a renewal), at most every `refreshMs`, so a stranger cannot make us reconnect in a loop.
 */
export function consentPartRecogniser(o: {
  url: () => string;
  tls: TlsIdentity;
  log?: Logger;
  refreshMs?: number;
  now?: () => number;
}): (peer: Peer | undefined) => Promise<boolean> {
  let known: string | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let fetching: Promise<void> | null = null;
  const now = o.now ?? Date.now;
  const refreshMs = o.refreshMs ?? 30_000;
  const refresh = () => {
    fetching ??= serverCertificateOf(o.url(), o.tls)
      .then((der) => {
        known = thumbprintOf(der);
      })
      .catch((err: Error) => o.log?.warn({ event: 'consent.peer-unknown', error: err.message }, 'cannot read the consent part\'s certificate'))
      .finally(() => {
        fetchedAt = now();
        fetching = null;
      });
    return fetching;
  };
  return async (peer) => {
    if (!peer) return false;
    if (known === peer.thumbprint) return true;
    if (now() - fetchedAt < refreshMs) return false;
    await refresh();
    return known === peer.thumbprint;
  };
}

/** The DER certificate a TLS server presents (verified against the network CA). */
export function serverCertificateOf(url: string, tls: TlsIdentity, timeoutMs = 3000): Promise<Buffer> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(u.port || 443),
      servername: isIP(host) ? undefined : host,
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      ALPNProtocols: ['http/1.1'],
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS handshake with ${u.origin} within ${timeoutMs} ms`)));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate(false)?.raw;
      socket.end();
      if (raw) resolve(raw);
      else reject(new Error(`${u.origin} presented no certificate`));
    });
  });
}

/** POST /org/:ura/consent-notifications: the consent part's rest-hook (mutual TLS). */
export async function registerConsentNotificationRoute(app: FastifyInstance, o: { tenants: Map<string, NodeTenant>; receiver: ConsentNotificationReceiver }): Promise<void> {
  app.post<{ Params: { ura: string } }>(`/org/:ura/${NOTIFY_PATH}`, async (request, reply) => {
    if (!o.tenants.has(request.params.ura)) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    if (!(await o.receiver.isConsentPart(request.peer))) throw forbidden('only the consent part may send consent notifications');
    let subscriptionId: string;
    try {
      subscriptionId = parseConsentNotification(request.body).subscriptionId;
    } catch (err) {
      throw badRequest(`not a consent notification: ${(err as Error).message}`);
    }
    const result = o.receiver.receive(request.params.ura, request.body);
    // An unknown subscription (ours from before a restart, or one we dropped) is acknowledged, so
    // the consent part does not retry it for nothing, and switched off at the consent part.
    if (result === 'unknown') o.receiver.forget(request.params.ura, subscriptionId);
    return reply
      .code(200)
      .type('application/fhir+json')
      .send(operationOutcome([outcomeIssue('information', 'informational', result === 'applied' ? 'cached consent answers cleared' : 'no such subscription here; ignored')]));
  });
}
