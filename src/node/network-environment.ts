import type { AuditEvent, Organization } from '@medplum/fhirtypes';
import { createAuditLogWriter, outboxSealer, startOutboxWorker, summarizeAuditEvent, type TokenAtDelivery, transparencyPseudonymToken, transparencySender } from '../audit/contract.ts';
import { startAuditRetention } from './audit-retention.ts';
import type { JSONWebKeySet } from 'jose';
import { PrsClient } from '../pseudonyms/contract.ts';
import { HDAB_JWKS_PATH, HDAB_PART } from '../secondary-use/contract.ts';
import { CachedConsentOracle, type ClosedAnswer, type ClosedQuestion, type ConsentOracle, HttpConsentOracle } from '../consent/contract.ts';
import { findEndpoints, httpFetcher, searchReplica, UpdateClient } from '../directory/contract.ts';
import { PartClient } from '../kit/http/client.ts';
import type { PartContext } from '../kit/part.ts';
import { ReferralClient } from '../referral-index/contract.ts';
import { type ClientContext, startAgreementsSource, TrustTokenProvider, verklaringVerifier } from '../trust/contract.ts';
import { crossBorderUserVerifier } from '../ncpeh/contract.ts';
import { loadSealedOutboxKey, outboxKeySetting } from './audit-outbox-key.ts';
import { nodeSettingsOf } from './serve-settings.ts';
import { createConsentNotifications } from './consent-notifications.ts';
import type { NodeEnvironment, NodeTenant, ParticipantView } from './environment.ts';

// The node's view of the network over the central parts' public HTTP interfaces: agreements
// and participants from trust, localisation through PRS + NVI, addressing from a local replica
// of the national directory, consent from the registry, the audit log with its outbox to the
// transparency part. Every outbound call on an organisation's behalf uses its own certificate.

export interface NetworkEnvironmentOptions {
  nodeName: string;
  tenants: NodeTenant[];
  directorySyncMs?: number;
  agreementsRefreshMs?: number;
  participantCacheMs?: number;
  /**
   * How long a consent answer is reused (ms). Change notifications clear it at once; the TTL only
   * bounds staleness when a notification is lost. Default: setting consent_cache_ms (4000).
   */
  consentCacheMs?: number;
}


export interface RunningEnvironment extends NodeEnvironment {
  replica: UpdateClient;
  stop(): Promise<void>;
}

interface TenantClients {
  client: PartClient;
  referrals: ReferralClient;
}

export async function createNetworkEnvironment(ctx: PartContext, o: NetworkEnvironmentOptions): Promise<RunningEnvironment> {
  // Accesses are queued with the patient's BSN sealed by the node's outbox key; the PRS token
  // naming the patient to the transparency part is fetched at delivery (outbox.ts), so neither
  // the PRS nor that part being down at access time loses the citizen's log line.
  // Loaded first: nothing has started yet that would need stopping if it fails.
  const settings = nodeSettingsOf(ctx.settings);
  const sealer = outboxSealer(outboxKeySetting(settings.auditOutboxKey) ?? (await loadSealedOutboxKey(ctx.store, ctx.keys)));
  const trustUrl = () => ctx.network.url('trust');
  const tokenEndpoint = () => `${trustUrl()}/oauth/token`;
  // The node's own identity (its server certificate) for reading public network data.
  const nodeClient = new PartClient({ tls: ctx.tls });
  const agreements = await startAgreementsSource({ trustUrl, client: nodeClient, refreshMs: o.agreementsRefreshMs ?? 3000, log: ctx.log });

  const perTenant = new Map<string, TenantClients>();
  for (const t of o.tenants) {
    const tokens = new TrustTokenProvider({ tls: t.identity, ura: t.ura, tokenEndpoint: () => tokenEndpoint() });
    const client = new PartClient({ tls: t.identity, tokens });
    const referrals = new ReferralClient({
      client,
      nviUrl: ctx.network.url('nvi'),
      prsUrl: ctx.network.url('prs'),
      ura: t.ura,
      sourceClientId: `ldn-node-${o.nodeName}`,
    });
    perTenant.set(t.ura, { client, referrals });
  }
  const tenantClients = (t: NodeTenant): TenantClients => {
    const c = perTenant.get(t.ura);
    if (!c) throw new Error(`no tenant ${t.ura} on this node`);
    return c;
  };
  const firstTenant = o.tenants[0];

  // Participant status and qualifications, cached for a bounded time (a suspension reaches
  // every node within the cache age).
  const participants = new Map<string, { at: number; view: ParticipantView | null }>();
  const participant = async (ura: string): Promise<ParticipantView | null> => {
    const hit = participants.get(ura);
    const maxAge = o.participantCacheMs ?? 10_000;
    if (hit && Date.now() - hit.at < maxAge) return hit.view;
    const r = await nodeClient.call<Record<string, unknown>>(`${trustUrl()}/participants/${encodeURIComponent(ura)}`);
    let view: ParticipantView | null = null;
    if (r.status === 200) {
      const p = r.body as {
        ura: string;
        name: string;
        organizationType: string;
        status: string;
        qualifications?: Array<{ qualification: string; validFrom?: string; validUntil?: string | null }>;
      };
      view = {
        ura: p.ura,
        name: p.name,
        type: p.organizationType,
        status: p.status,
        qualifications: (p.qualifications ?? []).map((q) => ({ code: q.qualification, validFrom: q.validFrom, validUntil: q.validUntil ?? undefined })),
      };
    } else if (r.status !== 404) throw new Error(`trust register answered ${r.status}`);
    participants.set(ura, { at: Date.now(), view });
    return view;
  };

  // Consent: each tenant asks about its own patients (the registry answers only the holder).
  const byHolder = new Map<string, ConsentOracle>();
  for (const t of o.tenants) byHolder.set(t.ura, new HttpConsentOracle(tenantClients(t).client, () => ctx.network.url('consent')));
  const consent = new CachedConsentOracle(
    {
      closedQuestion(q: ClosedQuestion): Promise<ClosedAnswer> {
        const oracle = byHolder.get(q.holderUra);
        if (!oracle) throw new Error(`consent asked for holder ${q.holderUra}, which this node does not serve`);
        return oracle.closedQuestion(q);
      },
    },
    { ttlMs: o.consentCacheMs ?? settings.consentCacheMs },
  );
  // Each tenant subscribes at the consent part for the patients it is asked about; the consent
  // part's notifications clear those patients' cached answers.
  const notifications = createConsentNotifications({
    tenants: o.tenants,
    clientOf: (t) => tenantClients(t).client,
    consentUrl: () => ctx.network.url('consent'),
    nodeBaseUrl: () => ctx.baseUrl,
    cache: consent,
    tls: ctx.tls,
    log: ctx.log,
  });

  // Addressing: a replica of the national directory in the node's own store.
  const replica = new UpdateClient({
    store: ctx.store,
    directoryUrl: ctx.network.url('directory'),
    fetch: httpFetcher(tenantClients(firstTenant).client),
    intervalMs: o.directorySyncMs ?? 5000,
    jitterMs: 500,
    log: ctx.log,
  });
  replica.start();

  const verklaring = verklaringVerifier({ network: ctx.network, client: () => nodeClient, issuer: settings.identityIssuer, jwks: settings.identityJwks });
  // A foreign professional acting through the NCPeH comes with the NCPeH's assertion, not a verklaring.
  const crossBorder = crossBorderUserVerifier({ network: ctx.network, client: () => nodeClient, ncpehUrl: settings.ncpehUrl });

  const writer = createAuditLogWriter(ctx.store, { outbox: true, sealer });
  // Retention of the local log (setting audit_retention_days; absent = keep forever).
  const retention = startAuditRetention(ctx);
  // Each organisation's access events go out under its own certificate and token: the
  // transparency part accepts an event only in the name of the organisation the caller acts for.
  const transparencyUrl = ctx.network.has('transparency') ? ctx.network.url('transparency') : '';
  const senders = new Map(o.tenants.map((t) => [t.ura, transparencySender(tenantClients(t).client, transparencyUrl)]));
  const tenantOf = (event: AuditEvent): NodeTenant => {
    const ura = summarizeAuditEvent(event).organizationUra ?? '';
    const tenant = o.tenants.find((t) => t.ura === ura);
    if (!tenant) throw new Error(`access event for ${ura || 'no organisation'}, which this node does not serve`);
    return tenant;
  };
  // The token is asked by the organisation the event is in the name of, with its own certificate.
  const tokenAtDelivery: TokenAtDelivery = {
    sealer,
    fetchToken: (event, bsn) => {
      const { client } = tenantClients(tenantOf(event));
      return transparencyPseudonymToken(new PrsClient(client, ctx.network.url('prs')), client, transparencyUrl, bsn);
    },
  };
  const outbox = startOutboxWorker(
    ctx.store,
    async (event) => {
      const send = senders.get(tenantOf(event).ura);
      if (!send) throw new Error('no transparency sender for the event\'s organisation');
      await send(event);
    },
    { intervalMs: 1000, tokenAtDelivery },
  );

  return {
    agreements: () => agreements.current(),
    participant,
    localise: (tenant, bsn, exchange, trace) => tenantClients(tenant).referrals.localise(bsn, { exchange, trace }),
    registerReferral: (tenant, bsn, categories) => tenantClients(tenant).referrals.register(bsn, categories),
    withdrawReferral: (tenant, bsn, categories) => tenantClients(tenant).referrals.withdraw(bsn, categories),
    async endpoint(ura, exchange) {
      const [endpoint] = await findEndpoints(ctx.store, { ura, exchange, fhirVersion: '4.0' });
      if (!endpoint?.address) return null;
      const org = (await searchReplica(ctx.store, 'Organization', { identifier: `http://fhir.nl/fhir/NamingSystem/ura|${ura}` }).catch(() => null)) as
        | { entry?: Array<{ resource?: Organization }> }
        | null;
      const name = org?.entry?.find((e) => e.resource?.resourceType === 'Organization')?.resource?.name ?? `URA ${ura}`;
      return { ura, name, address: endpoint.address };
    },
    consent: notifications.oracle,
    consentNotifications: notifications.receiver,
    verifyVerklaring: (assertion, expectedUra) =>
      crossBorder.handles(assertion) ? crossBorder.verify(assertion, expectedUra) : verklaring(assertion, { ura: expectedUra } as ClientContext),
    // Without a transparency part in the network nothing is queued for it: the local log only.
    async audit(event: AuditEvent, patient?: { bsn: string }) {
      await writer.append(event, transparencyUrl && patient ? { bsn: patient.bsn } : undefined);
      outbox.kick?.();
    },
    // Secondary use: the HDAB's permit keys over mTLS; the research opt-out asked uncached (an
    // objection must count at once); research pseudonyms from the PRS with the tenant's credentials.
    secondaryUse: {
      hdabUrl: () => ctx.network.url(HDAB_PART),
      hdabJwks: () => nodeClient.json<JSONWebKeySet>(`${ctx.network.url(HDAB_PART)}${HDAB_JWKS_PATH}`, { deadlineMs: 5000 }),
      researchConsent(tenant, q) {
        const oracle = byHolder.get(tenant.ura);
        if (!oracle) throw new Error(`no tenant ${tenant.ura} on this node`);
        return oracle.closedQuestion(q);
      },
      researchPseudonym: (tenant, bsn, permit) => new PrsClient(tenantClients(tenant).client, ctx.network.url('prs')).researchPseudonym(bsn, permit),
    },
    replica,
    async stop() {
      agreements.stop();
      await replica.stop();
      await retention.stop();
      await outbox.stop();
      await writer.flush?.();
      await nodeClient.close();
      for (const c of perTenant.values()) await c.client.close();
    },
  };
}
