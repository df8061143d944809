import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditLogMigrations } from '../audit/chain.ts';
import { REPLICA_MIGRATIONS } from '../directory/replica/migrations.ts';
import { createPdp, MIN_REASON_LENGTH } from '../consent/pdp/evaluate.ts';
import { badRequest, forbidden, HttpError, notFound } from '../kit/fhir/outcome.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import type { Migration } from '../kit/store/store.ts';
import { type AccessTokenClaims, userOf } from '../trust/auth/claims.ts';
import {
  AUTHORIZATION_SERVER_PUBLIC_PATHS,
  authMigrations,
  loadOrCreateSigningKey,
  OAuthError,
  publicJwks,
  registerTokenEndpoint,
  TokenRefusal,
  verifyAccessToken,
} from '../trust/auth/index.ts';
import { createOverviewService, type OverviewService } from './consumer/overview.ts';
import { AUDIT_CHECKPOINT_JWKS_PATH, registerAuditCheckpointKey } from './audit-retention.ts';
import { registerConsentNotificationRoute } from './consent-notifications.ts';
import { ExchangeMetrics } from './metrics.ts';
import { outboxDepthGauge, sendMetrics } from '../kit/http/operability.ts';
import type { NodeEnvironment, NodeTenant } from './environment.ts';
import { EhrConnector } from './source/ehr-connector.ts';
import { registerCitizenApi } from './source/citizen-api.ts';
import { decodeReason, EMERGENCY_HEADER, registerHolderApi } from './source/holder-api.ts';
import { nodeMigrations } from './source/migrations.ts';
import { startReferralSync, type ReferralSync } from './source/referral-sync.ts';

// The participant node: one process next to one or more organisations' EHRs (a vendor hosts
// several). Each organisation is a tenant at /org/<URA> with its own certificate, data and
// referrals. The node runs its own authorisation server (/oauth/token) for its tenants'
// open interfaces, the enforcement point in front of them, and the data-integration function
// its own clinicians use.

export interface NodeOptions {
  /** Node name (manifest participants[].node), e.g. "zuid". */
  name: string;
  tenants: NodeTenant[];
  /** Builds the node's view of the network once the part knows its context. */
  environment(ctx: PartContext): Promise<NodeEnvironment & { stop?(): Promise<void> }>;
  /** Fan-out deadline of the overview (ms). */
  overviewDeadlineMs?: number;
  /** How often to poll the EHRs' change feeds for referral registration (ms); 0 = never. */
  referralSyncIntervalMs?: number;
  /** Extra routes (the clinician viewer) registered with the node's services. */
  extensions?: Array<(app: FastifyInstance, node: NodeRuntime) => Promise<void>>;
  /** Paths the extensions serve to browsers without client certificates. */
  extraPublicPaths?: string[];
}

export interface NodeRuntime {
  ctx: PartContext;
  env: NodeEnvironment & { stop?(): Promise<void> };
  tenants: Map<string, NodeTenant>;
  overview: OverviewService;
  referralSync?: ReferralSync;
}

export function createNodePart(options: NodeOptions): PartDefinition & { runtime(): NodeRuntime | undefined } {
  const tenants = new Map(options.tenants.map((t) => [t.ura, t]));
  const connectors = new Map(options.tenants.map((t) => [t.ura, new EhrConnector({ baseUrl: t.ehrBaseUrl })]));
  let runtime: NodeRuntime | undefined;
  const schema = `node_${options.name.replace(/[^a-z0-9_]/g, '_')}`;
  const migrations: Migration[] = [...authMigrations, ...auditLogMigrations, ...REPLICA_MIGRATIONS, ...nodeMigrations];

  return {
    name: 'node',
    schema,
    migrations,
    publicPaths: [...AUTHORIZATION_SERVER_PUBLIC_PATHS, AUDIT_CHECKPOINT_JWKS_PATH, ...(options.extraPublicPaths ?? [])],
    capability: {
      description: `LDN participant node "${options.name}": open interface per organisation at /org/<URA>/fhir`,
      resources: [
        { type: 'Patient', interactions: ['search-type'], searchParams: [{ name: 'identifier', type: 'token' }] },
        ...['AllergyIntolerance', 'Condition', 'MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'Observation', 'Flag'].map((type) => ({
          type,
          interactions: ['search-type' as const],
          searchParams: [{ name: 'patient:identifier', type: 'token' as const }],
        })),
      ],
      operations: [{ name: 'overview', definition: 'https://ldn.example.nl/fhir/OperationDefinition/Patient-overview' }],
      systemInteractions: ['batch'],
    },
    runtime: () => runtime,

    async register(app, ctx) {
      const env = await options.environment(ctx);
      outboxDepthGauge(ctx.metrics, ctx.store, 'audit', 'SELECT count(*) AS n FROM audit_outbox');
      const signingKey = await loadOrCreateSigningKey(ctx.store, 'node-access-token', ctx.keys);
      const jwks = publicJwks([signingKey]);
      const tenantBase = (ura: string) => `${ctx.baseUrl}/org/${ura}`;
      // The public key of the audit-log checkpoints, for `ldn audit verify --checkpoint-key`.
      await registerAuditCheckpointKey(app, ctx.store);

      await registerTokenEndpoint(app, {
        issuer: () => ctx.baseUrl,
        signingKey,
        store: ctx.store,
        scopesSupported: () => env.agreements().scopes.filter((s) => s.audience === 'node').map((s) => s.scope),
        async scopesFor(client, requested, grant) {
          const tenantUra = /\/org\/(\d{8})$/.exec(grant.resource)?.[1];
          if (!tenantUra || !tenants.has(tenantUra) || grant.resource !== tenantBase(tenantUra)) {
            throw new OAuthError(400, 'invalid_target', `this node serves no open interface at ${grant.resource}`);
          }
          const participant = await env.participant(client.ura);
          if (!participant || participant.status !== 'admitted') return [];
          const now = Date.now();
          const qualified = (code: string) =>
            participant.qualifications.some(
              (q) => q.code === code && (!q.validFrom || Date.parse(q.validFrom) <= now) && (!q.validUntil || Date.parse(q.validUntil) >= now),
            );
          return requested.filter((scope) => {
            const def = env.agreements().scopes.find((s) => s.scope === scope && s.audience === 'node');
            if (!def) return false;
            if (def.requiresUser && !grant.user) return false;
            if (def.organizationTypes && !def.organizationTypes.includes(participant.type)) return false;
            return !def.qualification || qualified(def.qualification);
          });
        },
        verifyUserAssertion: (assertion, client) => env.verifyVerklaring(assertion, client.ura),
      });

      const verifyToken = async (request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims> => {
        const h = request.headers.authorization;
        const m = h ? /^Bearer (\S+)$/.exec(h) : null;
        try {
          if (!m) throw new TokenRefusal(401, 'invalid_token', 'an access token (Authorization: Bearer) is required');
          return await verifyAccessToken(m[1], { issuer: ctx.baseUrl, jwks, audience: tenantBase(tenant.ura), peer: request.peer });
        } catch (err) {
          if (!(err instanceof TokenRefusal)) throw err;
          request.log.warn({ event: 'token.refused', reason: err.message, peer: request.peer?.ura }, 'access token refused');
          throw new HttpError(err.status, err.status === 401 ? 'login' : 'forbidden', err.message, {
            headers: { 'www-authenticate': `Bearer error="${err.error}"` },
          });
        }
      };

      const pdp = createPdp({ agreements: () => env.agreements(), consent: env.consent });
      const metrics = new ExchangeMetrics();
      await registerHolderApi(app, { tenants, env, pdp, connectors, verifyToken, baseUrl: () => ctx.baseUrl, metrics });
      // Exchange volumes for the network operator's dashboard (operator certificate only).
      const operatorUra = ctx.settings.operator_ura ?? '90000001';
      app.get('/metrics', async (request, reply) => {
        if (request.peer?.ura !== operatorUra) throw forbidden('exchange metrics are for the network operator');
        // A Prometheus scraper (no JSON in Accept) gets the kit's metrics; the operator portal the JSON figures.
        if (ctx.metrics && !/json/.test(request.headers.accept ?? '')) return sendMetrics(reply, ctx.metrics);
        return { node: options.name, ...metrics.snapshot() };
      });
      await registerCitizenApi(app, { ctx, tenants, env, connectors });
      // The consent part's change notifications (its certificate only) clear cached consent answers.
      if (env.consentNotifications) await registerConsentNotificationRoute(app, { tenants, receiver: env.consentNotifications });

      const overview = createOverviewService({ env, deadlineMs: options.overviewDeadlineMs ?? 3000 });
      // The organisation's own systems (its certificate) ask for an overview for a logged-in
      // clinician: her access token from this node's AS names her; her verklaring travels along
      // so that each holder's AS can verify her itself.
      app.get<{ Params: { ura: string }; Querystring: { identifier?: string; exchange?: string } }>(
        '/org/:ura/fhir/Patient/$overview',
        async (request, reply) => {
          const tenant = tenants.get(request.params.ura);
          if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
          if (request.peer?.ura !== tenant.ura) throw forbidden('only the organisation itself may ask its node for an overview');
          const claims = await verifyToken(request, tenant);
          const user = userOf(claims);
          if (!user) throw forbidden('the access token names no professional');
          const verklaring = request.headers['dezi-verklaring'];
          if (typeof verklaring !== 'string') throw badRequest('the Dezi-Verklaring header (the clinician\'s verklaring) is required');
          const checked = await env.verifyVerklaring(verklaring, tenant.ura).catch((e: Error) => {
            throw forbidden(`verklaring refused: ${e.message}`);
          });
          if (checked.deziNumber !== user.deziNumber) throw forbidden('the verklaring names another professional than the token');
          const [system, bsn] = (request.query.identifier ?? '').split('|');
          if (!bsn || system !== 'http://fhir.nl/fhir/NamingSystem/bsn') throw badRequest('identifier must be http://fhir.nl/fhir/NamingSystem/bsn|<BSN>');
          const exchange = request.query.exchange ?? 'acute-zorg';
          if (!claims.scope.split(' ').some((s) => env.agreements().exchanges.find((e) => e.code === exchange)?.scopes.includes(s))) {
            throw forbidden(`the access token does not carry the ${exchange} scope`);
          }
          // A break-the-glass reason the holders would refuse is refused here, before any holder is asked.
          const emergencyReason = decodeReason(request.headers[EMERGENCY_HEADER]);
          if (emergencyReason !== undefined && emergencyReason.trim().length < MIN_REASON_LENGTH) {
            throw badRequest(`${EMERGENCY_HEADER} must give a reason of at least ${MIN_REASON_LENGTH} characters`);
          }
          const result = await overview.overview({
            tenant,
            bsn,
            exchange,
            user,
            verklaring,
            emergencyReason,
            trace: request.trace,
          });
          return reply.type('application/fhir+json').send(result.bundle);
        },
      );

      const referralSync =
        options.referralSyncIntervalMs === 0
          ? undefined
          : startReferralSync({ store: ctx.store, env, tenants: [...tenants.values()], connectors, intervalMs: options.referralSyncIntervalMs ?? 2000, log: ctx.log });
      runtime = { ctx, env, tenants, overview, referralSync };
      for (const ext of options.extensions ?? []) await ext(app, runtime);
    },

    async stop() {
      await runtime?.referralSync?.stop();
      await runtime?.overview.close();
      await runtime?.env.stop?.();
      for (const c of connectors.values()) await c.close();
    },
  };
}
