import type { Bundle, BundleEntry, CapabilityStatement, Parameters, ParametersParameter, Subscription } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';

// Topic-based Subscriptions in FHIR R4 as the Subscriptions R5 Backport IG (1.1.0) defines them,
// the form Twiin's notification agreements prescribe: a Subscription whose criteria is a topic
// canonical, a rest-hook channel with the receiver's credential in channel.header, and
// notifications as `history` Bundles whose first entry is the SubscriptionStatus (in R4 a
// Parameters resource). Both sides of the node's EHR connection use these: the EHR simulator
// to offer and send them, the node to subscribe and to read what arrives.

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_SUBSCRIPTION_PROFILE = `${BACKPORT}/backport-subscription`;
export const BACKPORT_STATUS_PROFILE = `${BACKPORT}/backport-subscription-status-r4`;
export const TOPIC_CANONICAL_EXTENSION = `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}/backport-payload-content`;

/** The topic the node needs: any create, update or delete of a resource in the EHR. */
export const RESOURCE_CHANGE_TOPIC = 'https://ldn.example.nl/fhir/SubscriptionTopic/resource-change';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';
const TYPES: readonly NotificationType[] = ['handshake', 'heartbeat', 'event-notification', 'query-status', 'query-event'];

/** Whether the EHR's CapabilityStatement offers Subscriptions on this topic. */
export function offersTopic(cs: unknown, topic: string): boolean {
  const c = cs as CapabilityStatement | undefined;
  if (c?.resourceType !== 'CapabilityStatement') return false;
  return (c.rest ?? []).some((rest) =>
    (rest.resource ?? []).some(
      (r) => r.type === 'Subscription' && (r.extension ?? []).some((e) => e.url === TOPIC_CANONICAL_EXTENSION && e.valueCanonical === topic),
    ),
  );
}

/** The Subscription the node asks its EHR for: id-only notifications to its endpoint, with its secret. */
export function subscriptionRequest(topic: string, endpoint: string, secret: string, reason: string): Subscription {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BACKPORT_SUBSCRIPTION_PROFILE] },
    status: 'requested',
    reason,
    criteria: topic,
    channel: {
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: PAYLOAD_CONTENT_EXTENSION, valueCode: 'id-only' }] },
      header: [`Authorization: Bearer ${secret}`],
    },
  } as Subscription;
}

export interface NotificationEvent {
  eventNumber: number;
  timestamp?: string;
  /** The changed resource's URL (id-only) and the request that changed it. */
  focus?: string;
  method?: 'POST' | 'PUT' | 'DELETE';
}

export interface Notification {
  subscription: string;
  topic: string;
  status: string;
  type: NotificationType;
  eventsSinceSubscriptionStart: number;
  events: NotificationEvent[];
}

/** The notification Bundle an EHR posts (id-only: each event's focus as an entry without resource). */
export function notificationBundle(n: Notification, now = new Date()): Bundle {
  const status: Parameters = {
    resourceType: 'Parameters',
    meta: { profile: [BACKPORT_STATUS_PROFILE] },
    parameter: [
      { name: 'subscription', valueReference: { reference: n.subscription } },
      { name: 'topic', valueCanonical: n.topic },
      { name: 'status', valueCode: n.status },
      { name: 'type', valueCode: n.type },
      // int64 in R5 is a string in the R4 backport.
      { name: 'events-since-subscription-start', valueString: String(n.eventsSinceSubscriptionStart) },
      ...n.events.map(
        (e): ParametersParameter => ({
          name: 'notification-event',
          part: [
            { name: 'event-number', valueString: String(e.eventNumber) },
            ...(e.timestamp ? [{ name: 'timestamp', valueInstant: e.timestamp }] : []),
            ...(e.focus ? [{ name: 'focus', valueReference: { reference: e.focus } }] : []),
          ],
        }),
      ),
    ],
  };
  const entries: BundleEntry[] = n.events
    .filter((e) => e.focus)
    .map((e) => ({ fullUrl: e.focus, request: { method: e.method ?? 'PUT', url: e.focus as string }, response: { status: e.method === 'DELETE' ? '204' : '200' } }));
  return {
    resourceType: 'Bundle',
    type: 'history',
    timestamp: now.toISOString(),
    entry: [{ fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: status, request: { method: 'GET', url: `${n.subscription}/$status` }, response: { status: '200' } }, ...entries],
  };
}

const MAX_EVENTS = 1000;
const counter = (v: unknown, what: string): number => {
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v)) throw badRequest(`${what} must be a non-negative integer (string, R4 backport)`);
  return Number(v);
};

/** Reads a notification Bundle; anything that is not one is a 400 naming what is wrong. */
export function parseNotification(body: unknown): Notification {
  const b = body as Bundle | undefined;
  if (!b || typeof b !== 'object' || b.resourceType !== 'Bundle') throw badRequest('a notification is a Bundle');
  if (b.type !== 'history') throw badRequest('a notification Bundle has type history');
  const first = Array.isArray(b.entry) ? b.entry[0]?.resource : undefined;
  if (first?.resourceType !== 'Parameters' || !Array.isArray(first.parameter)) {
    throw badRequest('the first entry of a notification is its SubscriptionStatus (Parameters)');
  }
  const params = first.parameter as ParametersParameter[];
  const one = (name: string) => params.find((p) => p && p.name === name);
  const subscription = one('subscription')?.valueReference?.reference;
  const topic = one('topic')?.valueCanonical;
  const status = one('status')?.valueCode;
  const type = one('type')?.valueCode as NotificationType | undefined;
  if (typeof subscription !== 'string' || !subscription) throw badRequest('the SubscriptionStatus names no subscription');
  if (typeof topic !== 'string' || !topic) throw badRequest('the SubscriptionStatus names no topic');
  if (typeof status !== 'string' || !status) throw badRequest('the SubscriptionStatus has no status');
  if (!type || !TYPES.includes(type)) throw badRequest(`the SubscriptionStatus type must be one of ${TYPES.join(', ')}`);
  const since = counter(one('events-since-subscription-start')?.valueString ?? '0', 'events-since-subscription-start');
  const eventParams = params.filter((p) => p && p.name === 'notification-event');
  if (eventParams.length > MAX_EVENTS) throw badRequest(`a notification carries at most ${MAX_EVENTS} events`);
  const events = eventParams.map((p) => {
    const parts = Array.isArray(p.part) ? p.part : [];
    const part = (name: string) => parts.find((x) => x && x.name === name);
    const focus = part('focus')?.valueReference?.reference;
    const timestamp = part('timestamp')?.valueInstant;
    return {
      eventNumber: counter(part('event-number')?.valueString, 'event-number'),
      ...(typeof focus === 'string' ? { focus } : {}),
      ...(typeof timestamp === 'string' ? { timestamp } : {}),
    };
  });
  if (type === 'event-notification' && events.length === 0) throw badRequest('an event-notification carries at least one notification-event');
  return { subscription, topic, status, type, eventsSinceSubscriptionStart: since, events };
}
