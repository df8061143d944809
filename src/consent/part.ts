import { consentOpenApi } from './openapi.ts';
import type { Bundle, Consent } from '@medplum/fhirtypes';
import { outboxDepthGauge } from '../kit/http/operability.ts';
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { badRequest, forbidden, notFound, unauthorized } from '../kit/fhir/outcome.ts';
import { searchsetBundle, strictParams } from '../kit/fhir/search.ts';
import { PartClient } from '../kit/http/client.ts';
import { maskBsn } from '../kit/identifiers/bsn.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { type AgreementsDocument, configureTokenVerification, requireToken, type TokenVerification, trustVerification } from '../trust/contract.ts';
import type { CitizenAuth, CitizenIdentity } from './citizen-auth.ts';
import { parseClosedQuestion } from './closed-question.ts';
import { CONSENT_MIGRATIONS } from './migrations.ts';
import { NotificationDispatcher } from './notifications.ts';
import { ConsentRegistry, type RecordedBy, type StoredConsent, type WriteGuard } from './registry.ts';
import { networkSubscriberOrigins, requireOwnEndpoint, type SubscriberOrigins } from './subscriber-endpoints.ts';
import { parseSubscription, SubscriptionStore } from './subscription-store.ts';
import { doors } from '../kit/http/rate-limits.ts';
import { consentSettingsOf } from './serve-settings.ts';

// The consent registry as a part (Mitz-like). Citizens manage their own choices through the
// portal (citizen token); care providers record on a citizen's behalf (their URA and professional
// are kept with the version) and ask the closed question; holders subscribe to changes.

export interface ConsentPartOptions {
  /** The agreements in force (network mode, exchanges): the trust part's signed document (compose.ts); tests pass defaultAgreements. */
  agreements: () => AgreementsDocument;
  /** Citizen identity; absent = citizen routes answer 401 (deny by default). */
  citizenAuth?: CitizenAuth;
  /**
   * Access-token verification for care-provider calls. 'auto' (default) verifies tokens of the
   * network's trust part (and refuses to start without one); 'off' relies on mutual TLS alone (tests, bench).
   */
  tokens?: TokenVerification | 'auto' | 'off';
  /** Notification delivery tuning. */
  delivery?: { intervalMs?: number; baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number; deadlineMs?: number };
  /** Where each subscriber may receive notifications; default: its Endpoints in the network's directory. */
  subscriberOrigins?: SubscriberOrigins;
}

const FHIR_JSON = 'application/fhir+json';

function etag(version: number): string {
  return `W/"${version}"`;
}

function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:W\/)?"(\d+)"$/.exec(header.trim());
  if (!m) throw badRequest('If-Match must be an ETag like W/"3"', ['If-Match']);
  return Number(m[1]);
}

function trustUrlOf(ctx: PartContext): string {
  // Deny by default: without a trust part to verify tokens against, refuse to start.
  if (!ctx.network.has('trust')) throw new Error("consent: no trust part in the network to verify access tokens (pass tokens: 'off' only in tests)");
  return ctx.network.url('trust');
}

export function createConsentPart(options: ConsentPartOptions): PartDefinition {
  const agreements = options.agreements;
  let dispatcher: NotificationDispatcher | null = null;
  let client: PartClient | null = null;
  let closeOrigins: (() => Promise<void>) | null = null;

  return {
    name: 'consent',
    rateLimits: doors('consentChange', ['POST /Consent', 'PUT /Consent/:id']),
    schema: 'consent',
    migrations: CONSENT_MIGRATIONS,
    capability: {
      description: 'LDN consent registry (Mitz-like): FHIR Consent, the closed question, change subscriptions',
      resources: [
        {
          type: 'Consent',
          interactions: ['create', 'update', 'read', 'vread', 'history-instance', 'search-type'],
          searchParams: [{ name: 'patient', type: 'token' }],
        },
        { type: 'Subscription', interactions: ['create', 'read', 'delete'] },
      ],
      // The closed question takes and answers plain JSON (the Mitz attribute set): described in OpenAPI.
      openApiPath: '/openapi.json',
    },
    openApi: consentOpenApi,

    async register(app, ctx: PartContext) {
      const settings = consentSettingsOf(ctx.settings);
      const registry = new ConsentRegistry(ctx.store);
      const subscriptions = new SubscriptionStore(ctx.store);
      client = new PartClient({ tls: ctx.tls, maxRetries: 0 });
      const { origins: subscriberOrigins, close } = options.subscriberOrigins
        ? { origins: options.subscriberOrigins, close: async () => {} }
        : networkSubscriberOrigins(ctx);
      closeOrigins = close;
      outboxDepthGauge(ctx.metrics, ctx.store, 'consent-notifications', 'SELECT count(*) AS n FROM notification_outbox WHERE delivered_at IS NULL');

      const tokens =
        options.tokens === 'off'
          ? null
          : options.tokens && options.tokens !== 'auto'
            ? options.tokens
            : trustVerification({ trustUrl: trustUrlOf(ctx), client, audience: () => ctx.baseUrl });
      if (tokens) configureTokenVerification(app, tokens);
      else ctx.log.warn('consent: access tokens are NOT verified (tokens: off); mutual TLS only');
      const guard = (scope: string): preHandlerAsyncHookHandler[] => (tokens ? [requireToken({ scope })] : []);

      const callerUra = (request: FastifyRequest): string => request.token?.sub ?? request.peer?.ura ?? '';
      const citizenOf = async (request: FastifyRequest): Promise<CitizenIdentity | undefined> =>
        options.citizenAuth ? options.citizenAuth(request) : undefined;
      const requireCitizen = async (request: FastifyRequest): Promise<CitizenIdentity> => {
        const who = await citizenOf(request);
        if (!who) throw unauthorized('log in as the citizen whose consents these are');
        return who;
      };
      const ownOnly = (who: CitizenIdentity): WriteGuard => (choice, previous) => {
        if (choice.bsn !== who.bsn || (previous && previous.bsn !== who.bsn)) throw forbidden('a citizen records only their own consents');
      };

      dispatcher = new NotificationDispatcher(
        ctx.store,
        {
          send: async (endpoint: string, bundle: Bundle) =>
            (await client!.call(endpoint, { method: 'POST', body: bundle, retries: 0, deadlineMs: options.delivery?.deadlineMs ?? 5000 })).status,
        },
        { baseUrl: () => ctx.baseUrl, log: ctx.log, ...options.delivery },
      );
      dispatcher.start(options.delivery?.intervalMs ?? settings.deliveryIntervalMs);

      const sendConsent = (reply: FastifyReply, stored: StoredConsent, status = 200) =>
        reply
          .code(status)
          .header('etag', etag(stored.version))
          .header('location', `${ctx.baseUrl}/Consent/${stored.id}/_history/${stored.version}`)
          .header('last-modified', stored.recordedAt.toUTCString())
          .type(FHIR_JSON)
          .send(stored.resource);

      /** Either the citizen themself, or a care provider (token consent:write) on their behalf. */
      const writer = async (request: FastifyRequest, reply: FastifyReply): Promise<{ by: RecordedBy; guard?: WriteGuard }> => {
        const who = await citizenOf(request);
        if (who) return { by: { kind: 'citizen' }, guard: ownOnly(who) };
        for (const g of guard('consent:write')) await g.call(app, request, reply);
        const ura = callerUra(request);
        if (!ura) throw forbidden('recording on behalf of a citizen needs a care provider (URA) identity');
        return { by: { kind: 'provider', ura, ...(request.token?.dezi_number ? { professional: request.token.dezi_number } : {}) } };
      };
      const logWrite = (stored: StoredConsent, action: string) =>
        ctx.log.info(
          { event: `consent.${action}`, consent: stored.id, version: stored.version, patient: maskBsn(stored.bsn), by: stored.recordedBy },
          stored.recordedBy.kind === 'provider' ? 'consent recorded on the citizen\'s behalf' : 'consent recorded by the citizen',
        );

      app.post('/Consent', async (request, reply) => {
        const { by, guard: g } = await writer(request, reply);
        const stored = await registry.create(request.body, by, g);
        logWrite(stored, 'create');
        dispatcher?.kick();
        return sendConsent(reply, stored, 201);
      });

      app.put<{ Params: { id: string } }>('/Consent/:id', async (request, reply) => {
        const { by, guard: g } = await writer(request, reply);
        const ifMatch = parseIfMatch(request.headers['if-match'] as string | undefined);
        const stored = await registry.update(request.params.id, request.body, by, { ifMatch, guard: g });
        logWrite(stored, 'update');
        dispatcher?.kick();
        return sendConsent(reply, stored);
      });

      const readOwn = async (request: FastifyRequest, id: string, version?: number): Promise<StoredConsent> => {
        const who = await requireCitizen(request);
        const stored = await registry.read(id, version);
        // Not revealing whether another citizen's consent exists: same answer (404) as absent.
        if (!stored || stored.bsn !== who.bsn) throw notFound(`Consent/${id}${version ? `/_history/${version}` : ''} not found`);
        return stored;
      };

      app.get<{ Params: { id: string } }>('/Consent/:id', async (request, reply) => sendConsent(reply, await readOwn(request, request.params.id)));
      app.get<{ Params: { id: string; vid: string } }>('/Consent/:id/_history/:vid', async (request, reply) => {
        const v = Number(request.params.vid);
        if (!Number.isInteger(v) || v < 1) throw badRequest('version must be a positive integer');
        return sendConsent(reply, await readOwn(request, request.params.id, v));
      });
      app.get<{ Params: { id: string } }>('/Consent/:id/_history', async (request, reply) => {
        await readOwn(request, request.params.id);
        const versions = await registry.history(request.params.id);
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'history',
          total: versions.length,
          entry: versions.map((v) => ({
            fullUrl: `${ctx.baseUrl}/Consent/${v.id}`,
            resource: v.resource,
            request: { method: v.version === 1 ? 'POST' : 'PUT', url: v.version === 1 ? 'Consent' : `Consent/${v.id}` },
            response: { status: v.version === 1 ? '201' : '200', etag: etag(v.version), lastModified: v.recordedAt.toISOString() },
          })),
        };
        return reply.type(FHIR_JSON).send(bundle);
      });

      app.get('/Consent', async (request, reply) => {
        const query = request.query as Record<string, string>;
        const params = strictParams(query, ['patient', 'patient:identifier']);
        const who = await requireCitizen(request);
        for (const value of [...(params.get('patient') ?? []), ...(params.get('patient:identifier') ?? [])]) {
          const bsn = value.includes('|') ? value.split('|')[1] : value;
          if (bsn !== who.bsn) throw forbidden('a citizen searches only their own consents');
        }
        const own: Consent[] = (await registry.ofCitizen(who.bsn)).map((s) => s.resource);
        return reply.type(FHIR_JSON).send(
          searchsetBundle({ baseUrl: ctx.baseUrl, path: '/Consent', query, resources: own, total: own.length, count: own.length, offset: 0, hasMore: false }),
        );
      });

      app.post('/$closed-question', { preHandler: guard('consent:read') }, async (request) => {
        const doc = agreements();
        const q = parseClosedQuestion(request.body, doc);
        const caller = callerUra(request);
        // A holder asks about releasing its own data. A vendor certificate (no URA) hosts several
        // holders. STUB: the hosting relation is not yet checked against the trust register.
        if (caller && caller !== q.holderUra) throw forbidden(`caller ${caller} asks on behalf of another holder (${q.holderUra})`);
        const mode = doc.network.consentMode;
        const answer = await registry.closedQuestion(q, mode);
        request.log.info(
          { event: 'consent.closed-question', patient: maskBsn(q.bsn), holder: q.holderUra, requester: q.requesterUra, role: q.requesterRole, decision: answer.decision, rule: answer.rule.kind },
          'closed question answered',
        );
        return { ...answer, mode, agreementsVersion: doc.version };
      });

      app.post('/Subscription', { preHandler: guard('consent:read') }, async (request, reply) => {
        const ura = callerUra(request);
        if (!ura) throw forbidden('a subscriber must be a care provider with a URA');
        // Notifications go out with our certificate: only to the subscriber's own node.
        await requireOwnEndpoint(subscriberOrigins, ura, parseSubscription(request.body, ura).endpoint);
        const sub = await subscriptions.create(request.body, ura);
        ctx.log.info({ event: 'consent.subscribe', subscription: sub.id, subscriber: ura, patient: maskBsn(sub.bsn) }, 'subscription created');
        return reply.code(201).header('location', `${ctx.baseUrl}/Subscription/${sub.id}`).type(FHIR_JSON).send(sub.resource);
      });

      const ownSubscription = async (request: FastifyRequest<{ Params: { id: string } }>) => {
        const sub = await subscriptions.read(request.params.id);
        if (!sub || sub.subscriberUra !== callerUra(request)) throw notFound(`Subscription/${request.params.id} not found`);
        return sub;
      };
      app.get<{ Params: { id: string } }>('/Subscription/:id', { preHandler: guard('consent:read') }, async (request, reply) =>
        reply.type(FHIR_JSON).send((await ownSubscription(request)).resource),
      );
      app.delete<{ Params: { id: string } }>('/Subscription/:id', { preHandler: guard('consent:read') }, async (request, reply) => {
        await subscriptions.off((await ownSubscription(request)).id);
        return reply.code(204).send();
      });
    },

    async stop() {
      await dispatcher?.stop();
      await client?.close();
      await closeOrigins?.();
    },
  };
}

