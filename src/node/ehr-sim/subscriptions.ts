import { randomUUID } from 'node:crypto';
import type { CapabilityStatementRestResource, Subscription } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { badRequest, HttpError, notFound, unprocessable } from '../../kit/fhir/outcome.ts';
import { notificationBundle, PAYLOAD_CONTENT_EXTENSION, RESOURCE_CHANGE_TOPIC, TOPIC_CANONICAL_EXTENSION } from '../source/subscription-backport.ts';

// Topic-based Subscriptions of the simulated EHR (R4 Backport): one topic, any create, update or
// delete in the organisation's record; rest-hook channels, id-only payloads, the subscriber's
// headers sent with every notification. A handshake is posted before the Subscription is
// answered (active, or error when the endpoint does not take it); each change is then posted
// as one event-notification, in order per subscription. Subscriptions live in memory, as the
// simulator's other runtime state does: a restarted EHR has none, and the node subscribes again.

const MAX_PER_TENANT = 20;
const ALLOWED_HEADER = /^(authorization): ([\x21-\x7e][\x20-\x7e]{0,511})$/i;

interface Active {
  resource: Subscription;
  ura: string;
  base: string;
  events: number;
  headers: Record<string, string>;
  /** Notifications of one subscription are sent in order. */
  queue: Promise<void>;
}

export interface EhrSubscriptionsOptions {
  /** Extra CA certificates for https endpoints (the sandbox's network CA). */
  ca?: string;
  log?: Logger;
}

export class EhrSubscriptions {
  private readonly byId = new Map<string, Active>();
  private readonly agent: Agent;

  constructor(private readonly options: EhrSubscriptionsOptions = {}) {
    this.agent = new Agent({ connect: options.ca ? { ca: options.ca } : {}, connections: 4 });
  }

  /** The CapabilityStatement entry for Subscription, naming the topic it offers. */
  static capability(): CapabilityStatementRestResource {
    return {
      type: 'Subscription',
      extension: [{ url: TOPIC_CANONICAL_EXTENSION, valueCanonical: RESOURCE_CHANGE_TOPIC }],
      interaction: [{ code: 'create' }, { code: 'read' }, { code: 'delete' }],
    };
  }

  private async post(s: Active, type: 'handshake' | 'event-notification', change?: { focus: string; method: 'POST' | 'PUT' | 'DELETE' }): Promise<boolean> {
    if (change) s.events++;
    const body = notificationBundle({
      subscription: `${s.base}/Subscription/${s.resource.id}`,
      topic: RESOURCE_CHANGE_TOPIC,
      status: s.resource.status ?? 'active',
      type,
      eventsSinceSubscriptionStart: s.events,
      events: change ? [{ eventNumber: s.events, timestamp: new Date().toISOString(), ...change }] : [],
    });
    try {
      const res = await request(s.resource.channel.endpoint ?? '', {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/fhir+json', ...s.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return true;
      this.options.log?.warn({ subscription: s.resource.id, status: res.statusCode }, 'subscription endpoint refused a notification');
    } catch (err) {
      this.options.log?.warn({ subscription: s.resource.id, err: (err as Error).message }, 'subscription endpoint unreachable');
    }
    return false;
  }

  /** Called after every write in an organisation's record. */
  changed(ura: string, focus: string, method: 'POST' | 'PUT' | 'DELETE'): void {
    for (const s of this.byId.values()) {
      if (s.ura !== ura || s.resource.status !== 'active') continue;
      s.queue = s.queue.then(async () => {
        await this.post(s, 'event-notification', { focus: `${s.base}/${focus}`, method });
      });
    }
  }

  register(app: FastifyInstance, o: { storeOf(ura: string): unknown; baseUrl(request: FastifyRequest, ura: string): string }): void {
    app.post<{ Params: { ura: string }; Body: unknown }>('/:ura/fhir/Subscription', async (request, reply) => {
      const { ura } = request.params;
      o.storeOf(ura);
      const wanted = parseSubscription(request.body);
      if ([...this.byId.values()].filter((s) => s.ura === ura).length >= MAX_PER_TENANT) throw new HttpError(429, 'throttled', 'too many subscriptions for this record');
      const headers = Object.fromEntries((wanted.channel.header ?? []).map((h) => ALLOWED_HEADER.exec(h)!.slice(1, 3) as [string, string]));
      const resource: Subscription = { ...wanted, id: randomUUID(), status: 'requested' };
      const s: Active = { resource, ura, base: o.baseUrl(request, ura), events: 0, headers, queue: Promise.resolve() };
      // The handshake decides: an endpoint that does not take it gets no events.
      s.resource.status = (await this.post(s, 'handshake')) ? 'active' : 'error';
      if (s.resource.status === 'error') s.resource.error = 'the endpoint did not accept the handshake';
      this.byId.set(resource.id!, s);
      return reply.code(201).type('application/fhir+json').send(redacted(s.resource));
    });
    app.get<{ Params: { ura: string; id: string } }>('/:ura/fhir/Subscription/:id', async (request, reply) => {
      const s = this.byId.get(request.params.id);
      if (!s || s.ura !== request.params.ura) throw notFound(`Subscription/${request.params.id} not found`);
      return reply.type('application/fhir+json').send(redacted(s.resource));
    });
    app.delete<{ Params: { ura: string; id: string } }>('/:ura/fhir/Subscription/:id', async (request, reply) => {
      const s = this.byId.get(request.params.id);
      if (!s || s.ura !== request.params.ura) throw notFound(`Subscription/${request.params.id} not found`);
      this.byId.delete(request.params.id);
      s.resource.status = 'off';
      return reply.code(204).send();
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.byId.values()].map((s) => s.queue));
    await this.agent.close();
  }
}

/** A read never shows the subscriber's credential again. */
function redacted(s: Subscription): Subscription {
  return { ...s, channel: { ...s.channel, header: s.channel.header?.map((h) => h.replace(/:.*/, ': ***')) } };
}

function parseSubscription(body: unknown): Subscription {
  const s = body as Subscription | undefined;
  if (!s || typeof s !== 'object' || s.resourceType !== 'Subscription') throw badRequest('body must be a Subscription resource');
  if (s.criteria !== RESOURCE_CHANGE_TOPIC) throw unprocessable(`this EHR offers one topic: ${RESOURCE_CHANGE_TOPIC}`);
  const ch = s.channel;
  if (ch?.type !== 'rest-hook') throw unprocessable('only rest-hook channels are offered');
  let endpoint: URL;
  try {
    endpoint = new URL(ch.endpoint ?? '');
  } catch {
    throw badRequest('channel.endpoint must be an absolute URL');
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw badRequest('channel.endpoint must be http(s)');
  if (ch.payload !== undefined && ch.payload !== 'application/fhir+json') throw unprocessable('the payload type offered is application/fhir+json');
  const content = (ch as { _payload?: { extension?: Array<{ url?: string; valueCode?: string }> } })._payload?.extension?.find((e) => e.url === PAYLOAD_CONTENT_EXTENSION)?.valueCode;
  if (content !== undefined && content !== 'id-only' && content !== 'empty') throw unprocessable('this EHR sends id-only (or empty) notifications');
  const headers = ch.header ?? [];
  if (!Array.isArray(headers) || headers.length > 2 || !headers.every((h) => typeof h === 'string' && ALLOWED_HEADER.test(h))) {
    throw badRequest('channel.header may carry one Authorization header');
  }
  return s;
}
