import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { transparencyPseudonymToken } from '../audit/contract.ts';
import { PartClient } from '../kit/http/client.ts';
import { peerFromDer } from '../kit/http/peer.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import { PrsClient } from '../pseudonyms/contract.ts';
import { type AgreementsDocument, authMigrations, type ConsentMode, fetchAgreements, TrustTokenProvider } from '../trust/contract.ts';
import type { PartContext, PartDefinition, TlsIdentity } from '../kit/part.ts';
import { buildCatalogue, type KnownTenant } from './catalogue/index.ts';
import { CATALOGUE_PATH, registerCatalogue } from './catalogue/routes.ts';
import { citizenRoute, directoryAddressing, httpCitizenData } from './adapters/citizen-data.ts';
import { registerCitizenApps } from './apps/wiring.ts';
import type { AppRegister } from './apps/app-register.ts';
import { appGrantMigrations } from './apps/grant-store.ts';
import { httpAccessLog, httpConsent, httpNetworkMonitor, httpTrustOperator, type MonitorTarget } from './adapters/http.ts';
import { CITIZEN_BASE } from './citizen/pages.ts';
import { type CitizenSession, registerCitizenPortal } from './citizen/routes.ts';
import { type LoginProvider, openIdLogin } from './oidc.ts';
import { OPERATOR_BASE } from './operator/pages.ts';
import { type OperatorSession, registerOperatorDashboard } from './operator/routes.ts';
import type { AccessLogPort, CitizenDataPort, ConsentPort, HdabOperatorPort, HdabResearcherPort, NetworkMonitorPort, ProviderOption, TrustOperatorPort } from './ports.ts';
import { httpHdabOperator, httpHdabResearcher } from './adapters/hdab.ts';
import { RESEARCH_BASE } from './research/pages.ts';
import { registerResearchPortal, type ResearchSession } from './research/routes.ts';
import { HDAB_PART } from '../secondary-use/contract.ts';
import { type SessionStore, Sessions, StoreSessionStore, portalSessionMigrations } from './sessions.ts';
import { html } from './ui/html.ts';
import { languageOf, translator } from './ui/i18n.ts';
import { page } from './ui/layout.ts';
import { installErrorPage, installWebKit, sendPage } from './ui/web.ts';
import { doors } from '../kit/http/rate-limits.ts';
import { newTrace } from '../kit/trace.ts';
import { portalSettingsOf } from './serve-settings.ts';

// The central `portal` part: Mijn Gezondheidsoverzicht (/citizen) and the operator dashboard
// (/operator). Every path is public (browsers carry no client certificate); people are
// authenticated by OpenID Connect (citizens) or the operator password, with session cookies.
// Settings: operator_password (required unless sandbox=true), citizen_client_id,
// citizen_client_secret, certificate_warning_days, operator_cert_file/operator_key_file
// (the operator's network certificate for the trust part's operator API), nodes (JSON name → URL),
// portal_ura (whom the portal acts for at the trust part's token endpoint; default: its certificate's URA),
// citizen_data_deadline_ms (fan-out deadline of "my data", default 5000).

export interface PortalOptions {
  citizenLogin?: LoginProvider;
  citizenData?: CitizenDataPort;
  consent?: ConsentPort;
  accessLog?: AccessLogPort;
  providers?: () => Promise<ProviderOption[]>;
  trust?: TrustOperatorPort;
  monitor?: NetworkMonitorPort;
  /** The operator's network identity for the trust part's operator API. */
  operatorTls?: TlsIdentity;
  sessions?: SessionStore;
  /** False only for plain-HTTP tests. */
  secureCookies?: boolean;
  /** The app register (default: the trust part's, over mTLS). */
  appRegister?: AppRegister;
  /** The agreements (default: the trust part's signed document, kept a minute). */
  agreements?: () => Promise<AgreementsDocument>;
  /** The HDAB's permit API for the operator (default: over mTLS with the operator's certificate). */
  hdab?: HdabOperatorPort;
  /** The researcher's login (default: the professional identity part, client research-portal). */
  researchLogin?: LoginProvider;
  /** The HDAB's permit API on a researcher's behalf (default: the portal's certificate plus her verklaring). */
  hdabResearcher?: HdabResearcherPort;
}

/** The portal's client id at the professional identity provider for researchers (setting research_client_id). */
export const RESEARCH_CLIENT_ID = 'research-portal';

const ASSETS = '/assets';
/** Everything in the portal's schema: sessions, its key table and DPoP proof ids, citizens' app grants. */
export const PORTAL_MIGRATIONS = [...portalSessionMigrations, ...authMigrations, ...appGrantMigrations];
const CENTRAL_PARTS = ['trust', 'directory', 'prs', 'nvi', 'consent', 'identity', 'citizen-identity', 'transparency'];

/** Without the network's localisation and addressing parts (plain tests), "my data" is unavailable. */
export const unwiredCitizenData: CitizenDataPort = async () => {
  throw new Error('citizen data is not wired yet (PortalOptions.citizenData)');
};

const failing = (what: string) => () => Promise.reject(new Error(`${what} is not configured`));

function operatorIdentity(ctx: PartContext, given?: TlsIdentity): TlsIdentity | undefined {
  if (given) return given;
  const { operatorCertFile: cert, operatorKeyFile: key } = portalSettingsOf(ctx.settings);
  return cert && key ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8'), ca: ctx.tls.ca } : undefined;
}

/** The URA in our own certificate (undefined without one, as in plain-HTTP tests). */
function certificateUra(tls: TlsIdentity): string | undefined {
  try {
    return tls.cert ? (peerFromDer(pemToDer(tls.cert))?.ura ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

function monitorTargets(ctx: PartContext): () => MonitorTarget[] {
  const { nodes } = portalSettingsOf(ctx.settings);
  return () => [
    ...CENTRAL_PARTS.filter((p) => ctx.network.has(p)).map((p) => ({ name: p, kind: 'part' as const, url: ctx.network.url(p) })),
    ...Object.entries(nodes).map(([name, url]) => ({ name, kind: 'node' as const, url })),
  ];
}

export function createPortalPart(options: PortalOptions | ((ctx: PartContext) => PortalOptions) = {}): PartDefinition {
  const clients: PartClient[] = [];
  const tokenProviders: TrustTokenProvider[] = [];
  return {
    name: 'portal',
    schema: 'portal',
    migrations: PORTAL_MIGRATIONS,
    publicPaths: ['/'],
    rateLimits: [
      ...doors('login', ['GET /citizen/login', 'POST /operator/login', 'GET /research/login']),
      ...doors('consentChange', ['POST /citizen/consent', 'POST /citizen/consent/:id']),
      ...doors('operator', [
        'POST /operator/participants/:ura/status',
        'POST /operator/participants/:ura/qualify',
        'POST /operator/participants/:ura/withdraw',
        'POST /operator/certificates/:serial/revoke',
        'POST /operator/permits/:id/decision',
        'POST /operator/permits/:id/extraction',
        'POST /research/apply',
        'POST /research/permits/:id/query',
      ]),
    ],
    async register(app: FastifyInstance, ctx: PartContext) {
      const o = typeof options === 'function' ? options(ctx) : options;
      const settings = portalSettingsOf(ctx.settings);
      const sandbox = settings.sandbox;
      const password = settings.operatorPassword;
      if (!password && !sandbox) throw new Error('portal: setting operator_password is required outside the sandbox (LDN_SETTING_OPERATOR_PASSWORD)');

      const client = new PartClient({ tls: ctx.tls });
      clients.push(client);
      const trustUrl = ctx.network.has('trust') ? ctx.network.url('trust') : undefined;
      // With tokens from the trust part (prs:eval), acting for the URA in the portal's certificate.
      const portalUra = settings.portalUra ?? certificateUra(ctx.tls);
      const tokens =
        trustUrl && portalUra ? new TrustTokenProvider({ tls: ctx.tls, ura: portalUra, tokenEndpoint: `${trustUrl}/oauth/token`, client }) : undefined;
      if (tokens) tokenProviders.push(tokens);
      const networkClient = tokens ? new PartClient({ tls: ctx.tls, tokens }) : undefined;
      if (networkClient) clients.push(networkClient);
      const opTls = operatorIdentity(ctx, o.operatorTls);
      const opClient = opTls ? new PartClient({ tls: opTls }) : undefined;
      if (opClient) clients.push(opClient);

      let agreementsCache: { at: number; document: AgreementsDocument } | undefined;
      const agreements = o.agreements ?? (async (): Promise<AgreementsDocument> => {
        if (agreementsCache && Date.now() - agreementsCache.at < 60_000) return agreementsCache.document;
        if (!trustUrl) throw new Error('no trust part in the network');
        const { document } = await fetchAgreements({ trustUrl, client });
        agreementsCache = { at: Date.now(), document };
        return document;
      });
      const mode = async (): Promise<ConsentMode> => (await agreements()).network.consentMode;

      // ctx.baseUrl is known only once the service listens: build the relying party on first use.
      const citizenRedirect = () => `${ctx.baseUrl}${CITIZEN_BASE}/callback`;
      let rp: LoginProvider | undefined;
      const relyingParty = () =>
        (rp ??= openIdLogin({
          issuerUrl: ctx.network.has('citizen-identity') ? ctx.network.url('citizen-identity') : 'https://citizen-identity.invalid',
          clientId: settings.citizenClientId,
          clientSecret: settings.citizenClientSecret,
          redirectUri: citizenRedirect(),
          scope: 'openid profile',
          ca: ctx.tls.ca,
        }));
      const citizenLogin: LoginProvider = o.citizenLogin ?? { begin: () => relyingParty().begin(), complete: (url, pending) => relyingParty().complete(url, pending) };
      // Researchers log in with the professional identity provider (a person bound to her research organisation).
      const researchRedirect = () => `${ctx.baseUrl}${RESEARCH_BASE}/callback`;
      let researchRp: LoginProvider | undefined;
      const researchRelyingParty = () =>
        (researchRp ??= openIdLogin({
          issuerUrl: ctx.network.has('identity') ? ctx.network.url('identity') : 'https://identity.invalid',
          clientId: settings.researchClientId,
          clientSecret: settings.researchClientSecret,
          redirectUri: researchRedirect(),
          ca: ctx.tls.ca,
          authParams: { prompt: 'login' },
        }));
      const researchLogin: LoginProvider = o.researchLogin ?? { begin: () => researchRelyingParty().begin(), complete: (url, pending) => researchRelyingParty().complete(url, pending) };
      const trust =
        o.trust ??
        (opClient && trustUrl
          ? httpTrustOperator({ client: opClient, trustUrl })
          : {
              participants: failing('the operator certificate'),
              setStatus: failing('the operator certificate'),
              qualify: failing('the operator certificate'),
              withdrawQualification: failing('the operator certificate'),
              certificates: failing('the operator certificate'),
              revokeCertificate: failing('the operator certificate'),
              agreements: failing('the operator certificate'),
            });
      const providers =
        o.providers ??
        (async () => {
          if (!trustUrl) return [];
          const all = await httpTrustOperator({ client, trustUrl }).participants();
          return all.filter((p) => p.status === 'admitted').map((p) => ({ ura: p.ura, name: p.name, type: p.organizationType }));
        });
      const consent =
        o.consent ??
        (ctx.network.has('consent')
          ? httpConsent({ client, consentUrl: ctx.network.url('consent'), mode })
          : { mode, list: failing('the consent part'), create: failing('the consent part'), update: failing('the consent part') });
      const accessLog =
        o.accessLog ??
        (ctx.network.has('transparency') && ctx.network.has('prs') && networkClient
          ? httpAccessLog({
              client,
              transparencyUrl: ctx.network.url('transparency'),
              patientToken: (citizen) =>
                transparencyPseudonymToken(new PrsClient(networkClient, ctx.network.url('prs')), client, ctx.network.url('transparency'), citizen.bsn),
            })
          : { accesses: failing('the transparency part'), treeHead: failing('the transparency part'), inclusionProof: failing('the transparency part'), signingKeys: failing('the transparency part') });
      // Her data from every holder, asked for with her own id_token (exchange citizen-access).
      const citizenData =
        o.citizenData ??
        (networkClient && portalUra && ['nvi', 'prs', 'directory'].every((p) => ctx.network.has(p))
          ? httpCitizenData({
              client: networkClient,
              nviUrl: ctx.network.url('nvi'),
              prsUrl: ctx.network.url('prs'),
              directoryUrl: ctx.network.url('directory'),
              ura: portalUra,
              agreements,
              deadlineMs: settings.citizenDataDeadlineMs,
            })
          : unwiredCitizenData);
      const targetsOf = monitorTargets(ctx);
      const monitor = o.monitor ?? httpNetworkMonitor({ client, targets: targetsOf });
      const store = o.sessions ?? new StoreSessionStore(ctx.store);
      const secureCookies = o.secureCookies;

      const citizenSessions = new Sessions<CitizenSession>(store, { cookieName: 'ldn_citizen', cookiePath: CITIZEN_BASE, secureCookies });
      // Citizens' own apps (PGO): the app register's view, grants, tokens and the citizen FHIR API.
      const addressing = networkClient && ctx.network.has('directory') ? directoryAddressing({ client: networkClient, directoryUrl: ctx.network.url('directory') }) : undefined;
      // The catalogue lists each organisation's real FHIR base where the directory knows it
      // (addresses are cached by directoryAddressing; one that cannot be found is left out).
      const knownTenants = async (): Promise<KnownTenant[]> => {
        if (!addressing) return [];
        const trace = newTrace();
        const list = await providers().catch(() => []);
        const found: KnownTenant[] = [];
        // One organisation at a time (a page view must not burst the directory); one retry each.
        for (const p of list) {
          const a = await addressing(p.ura, trace).catch(() => addressing(p.ura, trace)).catch(() => undefined);
          if (a?.fhirBase) found.push({ ura: p.ura, name: a.name, fhirBase: a.fhirBase });
        }
        return found;
      };
      const apps = await registerCitizenApps(app, {
        ctx,
        client,
        trustUrl,
        agreements,
        citizenData,
        sessions: citizenSessions,
        assetBase: ASSETS,
        register: o.appRegister,
        async share(ura, token, observation, trace) {
          if (!addressing || !networkClient) throw new Error('the care-services directory is not wired');
          const a = await addressing(ura, trace);
          if (!a.fhirBase) return { status: 404, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `${a.name} has no active endpoint in the care-services directory` }] } };
          const r = await networkClient.call(citizenRoute(a.fhirBase).replace(/\$everything$/, 'Observation'), {
            method: 'POST',
            body: observation,
            headers: { authorization: `Bearer ${token}` },
            retries: 0,
            trace,
          });
          return { status: r.status, body: r.body };
        },
      });

      await app.register(async (scope) => {
        await installWebKit(scope, ASSETS);
        installErrorPage(scope, { portal: (lang) => translator(lang)('cit.title'), home: '/', assetBase: ASSETS });

        scope.get('/', async (request, reply) => {
          const lang = languageOf(request, reply);
          const t = translator(lang);
          return sendPage(
            reply,
            page({
              lang,
              portal: 'LDN',
              home: '/',
              title: 'LDN',
              assetBase: ASSETS,
              path: '/',
              main: html`<h1>LDN</h1><ul>
<li><a href="${CITIZEN_BASE}/">${t('cit.title')}</a> – ${t('cit.intro')}</li>
<li><a href="${OPERATOR_BASE}/">${t('op.title')}</a> – ${t('op.login.intro')}</li>
<li><a href="${CATALOGUE_PATH}">${lang === 'nl' ? 'API-bibliotheek' : 'API catalogue'}</a></li></ul>`,
            }),
          );
        });

        registerCatalogue(scope, {
          assetBase: ASSETS,
          catalogue: async () => {
            const targets = targetsOf();
            const doc = await agreements().catch(() => undefined);
            return buildCatalogue({ parts: targets.filter((t) => t.kind === 'part'), nodes: targets.filter((t) => t.kind === 'node'), agreements: doc, tenants: await knownTenants() });
          },
        });

        registerCitizenPortal(scope, {
          login: citizenLogin,
          redirectUri: o.citizenLogin ? undefined : citizenRedirect,
          sessions: citizenSessions,
          citizenData,
          consent,
          accessLog,
          providers,
          assetBase: ASSETS,
        });
        apps.pages(scope);
        registerOperatorDashboard(scope, {
          sessions: new Sessions<OperatorSession>(store, { cookieName: 'ldn_operator', cookiePath: OPERATOR_BASE, secureCookies, ttlSeconds: 2 * 3600 }),
          trust,
          monitor,
          password,
          certificateWarningDays: settings.certificateWarningDays,
          assetBase: ASSETS,
          // The operator's own participant is never offered for suspension or revocation.
          operatorUra: settings.operatorUra ?? (opTls ? certificateUra(opTls) : undefined),
          // The HDAB's permit API with the operator's certificate (the HDAB decides who the operator is).
          hdab: o.hdab ?? (opClient && ctx.network.has(HDAB_PART) ? httpHdabOperator({ client: opClient, hdabUrl: () => ctx.network.url(HDAB_PART) }) : undefined),
        });
        // Researchers (secondary use): the professional identity provider's login, the HDAB over
        // the portal's own certificate with her verklaring (research/routes.ts says the design).
        registerResearchPortal(scope, {
          login: researchLogin,
          redirectUri: o.researchLogin ? undefined : researchRedirect,
          sessions: new Sessions<ResearchSession>(store, { cookieName: 'ldn_research', cookiePath: RESEARCH_BASE, secureCookies, ttlSeconds: 8 * 3600 }),
          hdab:
            o.hdabResearcher ??
            (ctx.network.has(HDAB_PART)
              ? httpHdabResearcher({ client, hdabUrl: () => ctx.network.url(HDAB_PART) })
              : { permits: failing('the HDAB'), permit: failing('the HDAB'), apply: failing('the HDAB'), query: failing('the HDAB') }),
          assetBase: ASSETS,
        });
      });
      if (!password) ctx.log.warn('portal: sandbox operator login without a password');
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all(tokenProviders.map((p) => p.close()));
    },
  };
}

/** The part as `ldn serve portal` starts it; the lead passes citizenData via createPortalPart. */
export const portalPart: PartDefinition = createPortalPart();
