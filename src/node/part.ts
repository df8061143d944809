import type { FastifyInstance, FastifyRequest } from 'fastify';
import { auditLogMigrations } from '../audit/contract.ts';
import { REPLICA_MIGRATIONS } from '../directory/contract.ts';
import { createPdp } from '../consent/contract.ts';
import { operatorUraOf } from '../kit/common-settings.ts';
import { forbidden } from '../kit/fhir/outcome.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { qualifiedAt } from '../kit/rules/qualification.ts';
import type { Migration } from '../kit/store/store.ts';
import { type AccessTokenClaims, authMigrations, AUTHORIZATION_SERVER_PUBLIC_PATHS, defaultAdmit, loadOrCreateSigningKey, OAuthError, publicJwks, registerTokenEndpoint, TokenRefusal, verifyAccessToken, WORKFLOW_TASK_DETAIL } from '../trust/contract.ts';
import { withFanOutMetrics } from './consumer/fan-out-metrics.ts';
import { createOverviewService, type OverviewService } from './consumer/overview.ts';
import { createOverviewOperation, type OverviewOperation } from './consumer/overview-operation.ts';
import { type ClinicianServices, clinicianServices } from './clinician-services.ts';
import { registerOverviewOperation } from './consumer/overview-route.ts';
import { registerSummaryOperation } from './consumer/summary/operation.ts';
import { AUDIT_CHECKPOINT_JWKS_PATH, registerAuditCheckpointKey } from './audit-retention.ts';
import { registerConsentNotificationRoute } from './consent-notifications.ts';
import { auditMissingCounter, ExchangeMetrics } from './metrics.ts';
import { nodeOpenApi } from './openapi.ts';
import { tenantCapability } from './tenant-capability.ts';
import { registerTenantMetadata } from './tenant-metadata.ts';
import { outboxDepthGauge, sendMetrics } from '../kit/http/operability.ts';
import type { NodeEnvironment, NodeTenant } from './environment.ts';
import { DicomWebArchive } from './imaging/archive-client.ts';
import { registerWadoGate } from './imaging/wado-gate.ts';
import { EhrConnector } from './source/ehr-connector.ts';
import { registerCitizenApi } from './source/citizen-api.ts';
import { registerCitizenShare } from './source/citizen-share.ts';
import { registerCrossBorderDispense } from './source/cross-border-dispense.ts';
import { registerHolderApi } from './source/holder-api.ts';
import { nodeMigrations } from './source/migrations.ts';
import { EHR_NOTIFICATION_PATH, EhrSubscriber } from './source/ehr-subscriber.ts';
import { startReferralSync, type ReferralSync } from './source/referral-sync.ts';
import { doors } from '../kit/http/rate-limits.ts';
import { registerWorkflow, type Workflow, workflowMigrations } from './workflow/index.ts';
import { grantWorkflowTask } from './workflow/token-basis.ts';
import { bulkExportMigrations } from './bulk-export/jobs.ts';
import { type BulkExport, registerBulkExport } from './bulk-export/routes.ts';
import { nodeSettingsOf } from './serve-settings.ts';

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
  /**
   * Extra routes on the node, given its services for clinicians: the clinician viewer, which its
   * composer (the sandbox, `ldn serve node` with viewer=true) mounts from src/portals/clinician/.
   */
  extensions?: Array<(app: FastifyInstance, node: ClinicianServices) => Promise<void>>;
  /** Paths the extensions serve to browsers without client certificates. */
  extraPublicPaths?: string[];
}

export interface NodeRuntime {
  ctx: PartContext;
  env: NodeEnvironment & { stop?(): Promise<void> };
  tenants: Map<string, NodeTenant>;
  /** The overview, parsed, authorised and served the same way for every caller. */
  overview: OverviewOperation;
  referralSync?: ReferralSync;
  /** Notified pull (eOverdracht, medicatieoverdracht): sender, receiver and their outbox. */
  workflow: Workflow;
  /** Topic-based Subscriptions at the EHRs that offer them. */
  ehrSubscriber?: EhrSubscriber;
}

export function createNodePart(options: NodeOptions): PartDefinition & { runtime(): NodeRuntime | undefined } {
  const tenants = new Map(options.tenants.map((t) => [t.ura, t]));
  const connectors = new Map(options.tenants.map((t) => [t.ura, new EhrConnector({ baseUrl: t.ehrBaseUrl })]));
  const archives = new Map(options.tenants.filter((t) => t.archive).map((t) => [t.ura, new DicomWebArchive(t.archive!)]));
  let runtime: NodeRuntime | undefined;
  let bulkExport: BulkExport | undefined;
  let overviewService: OverviewService | undefined;
  const schema = `node_${options.name.replace(/[^a-z0-9_]/g, '_')}`;
  const migrations: Migration[] = [...authMigrations, ...auditLogMigrations, ...REPLICA_MIGRATIONS, ...nodeMigrations, ...workflowMigrations, ...bulkExportMigrations];

  return {
    name: 'node',
    schema,
    migrations,
    rateLimits: doors('token', ['POST /oauth/token']),
    publicPaths: [
      ...AUTHORIZATION_SERVER_PUBLIC_PATHS,
      AUDIT_CHECKPOINT_JWKS_PATH,
      // The EHRs' Subscription notifications (no certificate: the subscription's secret instead).
      `${EHR_NOTIFICATION_PATH}/`,
      // Each organisation's FHIR self-description is readable before any token is fetched.
      ...options.tenants.flatMap((t) => [`/org/${t.ura}/fhir/metadata`, `/org/${t.ura}/fhir/OperationDefinition/`]),
      ...(options.extraPublicPaths ?? []),
    ],
    // The node's root is no FHIR base: each organisation's is /org/<URA>/fhir, with its own
    // CapabilityStatement generated from the agreements (tenant-capability.ts).
    capability: {
      description: `LDN participant node "${options.name}": the open interface of each organisation is at /org/<URA>/fhir (its CapabilityStatement at /org/<URA>/fhir/metadata)`,
      resources: [],
      openApiPath: '/openapi.json',
    },
    openApi: (baseUrl) =>
      nodeOpenApi(baseUrl, Object.fromEntries(runtime?.env.agreements().scopes.filter((d) => d.audience === 'node').map((d) => [d.scope, d.description]) ?? [])),
    runtime: () => runtime,

    async register(app, ctx) {
      // Every setting is checked before anything starts (a bad value refuses the start).
      const settings = nodeSettingsOf(ctx.settings);
      const env = await options.environment(ctx);
      outboxDepthGauge(ctx.metrics, ctx.store, 'audit', 'SELECT count(*) AS n FROM audit_outbox');
      const signingKey = await loadOrCreateSigningKey(ctx.store, 'node-access-token', ctx.keys);
      const jwks = publicJwks([signingKey]);
      const tenantBase = (ura: string) => `${ctx.baseUrl}/org/${ura}`;
      // The public key of the audit-log checkpoints, for `ldn audit verify --checkpoint-key`.
      await registerAuditCheckpointKey(app, ctx.store, ctx.keys);

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
          return requested.filter((scope) => {
            const def = env.agreements().scopes.find((s) => s.scope === scope && s.audience === 'node');
            if (!def) return false;
            if (def.requiresUser && !grant.user) return false;
            if (def.organizationTypes && !def.organizationTypes.includes(participant.type)) return false;
            return !def.qualification || qualifiedAt(participant.qualifications, def.qualification, now);
          });
        },
        verifyUserAssertion: (assertion, client) => env.verifyVerklaring(assertion, client.ura),
        // Notified pull: the receiver names the workflow Task it pulls under (RFC 9396).
        authorizationDetailsTypes: [WORKFLOW_TASK_DETAIL],
        authorizationDetailsFor: (client, details, grant) => grantWorkflowTask({ store: ctx.store, env }, client.ura, details, grant),
        // The token endpoint is a public path (it answers in OAuth JSON), so the kit's guard does
        // not run there: it checks the certificate's standing itself, the same way.
        admit: async (peer, ura) => (ctx.peerStatus ? await ctx.peerStatus(peer) : null) ?? defaultAdmit(peer, ura),
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
          throw err;
        }
      };

      registerTenantMetadata(app, { tenants, agreements: () => env.agreements(), baseUrl: () => ctx.baseUrl });
      const pdp = createPdp({ agreements: () => env.agreements(), consent: env.consent });
      const metrics = new ExchangeMetrics();
      await registerHolderApi(app, {
        tenants,
        env,
        pdp,
        connectors,
        verifyToken,
        baseUrl: () => ctx.baseUrl,
        metrics,
        archives,
        declared: (tenant) => tenantCapability(env.agreements(), tenant),
      });
      await registerWadoGate(app, { tenants, env, pdp, connectors, archives, verifyToken, baseUrl: () => ctx.baseUrl });
      // Exchange volumes for the network operator's dashboard (operator certificate only).
      const operatorUra = operatorUraOf(ctx.settings, 'node');
      app.get('/metrics', async (request, reply) => {
        if (request.peer?.ura !== operatorUra) throw forbidden('exchange metrics are for the network operator');
        // A Prometheus scraper (no JSON in Accept) gets the kit's metrics; the operator portal the JSON figures.
        if (ctx.metrics && !/json/.test(request.headers.accept ?? '')) return sendMetrics(reply, ctx.metrics);
        return { node: options.name, ...metrics.snapshot() };
      });
      await registerCitizenApi(app, { ctx, tenants, env, connectors });
      await registerCitizenShare(app, { ctx, tenants, env, connectors });
      await registerCrossBorderDispense(app, { tenants, env, connectors, verifyToken, auditMissing: auditMissingCounter(ctx.metrics) });
      // The consent part's change notifications (its certificate only) clear cached consent answers.
      if (env.consentNotifications) await registerConsentNotificationRoute(app, { tenants, receiver: env.consentNotifications });

      overviewService = withFanOutMetrics(createOverviewService({ env, deadlineMs: options.overviewDeadlineMs ?? 3000, fanOut: settings.fanOut }), ctx.metrics);
      const overview = createOverviewOperation({ env, overview: overviewService });
      // The organisation's own systems ask for an overview (consumer/overview-route.ts) or an IPS (consumer/summary/).
      await registerOverviewOperation(app, { tenants, env, verifyToken, operation: overview });
      await registerSummaryOperation(app, { tenants, env, verifyToken, operation: overview });

      // Notified pull: workflow Tasks, their notification outbox, the receivers' inbox and pulls.
      const workflow = await registerWorkflow(app, { ctx, env, tenants, connectors, verifyToken });
      // Secondary use: the HDAB's Bulk Data $export of a permit's cohort (bulk-export/).
      bulkExport = await registerBulkExport(app, { ctx, env, tenants, connectors, verifyToken });

      const referralSync =
        options.referralSyncIntervalMs === 0
          ? undefined
          : startReferralSync({ store: ctx.store, env, tenants: [...tenants.values()], connectors, intervalMs: options.referralSyncIntervalMs ?? 2000, log: ctx.log });
      // EHRs that offer topic-based Subscriptions announce their changes; _history polling stays.
      const ehrSubscriber = new EhrSubscriber({ tenants: [...tenants.values()], connectors, baseUrl: () => ctx.baseUrl, onChange: () => referralSync?.nudge(), log: ctx.log });
      ehrSubscriber.register(app);
      if (referralSync) ehrSubscriber.start();
      runtime = { ctx, env, tenants, overview, referralSync, workflow, ehrSubscriber };
      if (options.extensions?.length) {
        const services = clinicianServices(app, runtime, options.name);
        for (const ext of options.extensions) await ext(app, services);
      }
    },

    async stop() {
      await runtime?.ehrSubscriber?.stop();
      await bulkExport?.stop();
      await runtime?.referralSync?.stop();
      await runtime?.workflow.stop();
      await overviewService?.close();
      await runtime?.env.stop?.();
      for (const c of connectors.values()) await c.close();
      for (const a of archives.values()) await a.close();
    },
  };
}
