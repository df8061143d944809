import { isRevoked } from '../kit/http/certificate-status.ts';
import { readFileSync } from 'node:fs';
import { PartClient } from '../kit/http/client.ts';
import type { PartDefinition, Peer } from '../kit/part.ts';
import { type CertificateAuthority, loadCa } from '../kit/pki/certificates.ts';
import { forbidden, HttpError } from '../kit/fhir/outcome.ts';
import { AUTHORIZATION_SERVER_PUBLIC_PATHS, authMigrations, loadOrCreateSigningKey, registerTokenEndpoint } from './auth/index.ts';
import { invalidScope } from './auth/oauth-error.ts';
import { registerTrustRoutes } from './http/routes.ts';
import { citizenAppMigrations } from './apps/register.ts';
import { registerCitizenAppRoutes } from './apps/routes.ts';
import { registerMigrations } from './register/migrations.ts';
import { getParticipant } from './register/participants.ts';
import { createRuntime, type TrustRuntime } from './runtime.ts';
import { decideScopes } from './scopes.ts';
import { trustOpenApi } from './openapi.ts';
import { verklaringVerifier } from './verklaring.ts';
import { trustSettingsOf } from './serve-settings.ts';
import { doors } from '../kit/http/rate-limits.ts';

// The trust framework part: participant register, network CA (certificate lifecycle and the
// signed status list), the signed agreements document, and the authorisation server for the
// central parts. Settings (LDN_SETTING_*): operator_ura (default 90000001),
// operator_system_number (optional), ca_cert_file + ca_key_file (the network CA; without them
// this instance signs no CSRs), identity_issuer / identity_jwks (Dezi verklaring check).

export interface TrustPartOptions {
  /** The network CA (the sandbox passes its own); otherwise read from the settings files. */
  ca?: CertificateAuthority;
  operatorUra?: string;
  operatorSystemNumber?: string;
}

export const TRUST_PUBLIC_PATHS = [...AUTHORIZATION_SERVER_PUBLIC_PATHS, '/agreements', '/status-list'];
export { DEFAULT_OPERATOR_URA } from '../kit/common-settings.ts';

/** Whether this certificate may act for this URA now: admitted, not revoked, own URA or hosted by its vendor. */
async function admit(rt: TrustRuntime, peer: Peer, ura: string): Promise<string | null> {
  const list = await rt.statusList();
  if (isRevoked(list, peer.thumbprint)) return 'certificate revoked';
  if (peer.ura) {
    if (peer.ura !== ura) return `certificate is issued to ${peer.ura}, not ${ura}`;
  } else if (peer.kvk) {
    if (list.vendors[peer.kvk] !== 'admitted') return `vendor ${peer.kvk} is ${list.vendors[peer.kvk] ?? 'not admitted'}`;
    const hosts = await rt.store.query('SELECT 1 FROM vendor_hosts WHERE kvk = $1 AND ura = $2', [peer.kvk, ura]);
    if (!hosts.length) return `vendor ${peer.kvk} does not host ${ura}`;
  } else return 'certificate names no participant';
  const status = list.participants[ura];
  return status === 'admitted' ? null : `participant ${ura} is ${status ?? 'not admitted'}`;
}

/** Paths served without the register check: public reads, and the token endpoint. */
function openToAll(method: string, url: string): boolean {
  const path = url.split('?')[0];
  if (path === TOKEN_PATH) return true;
  return (method === 'GET' || method === 'HEAD') && (TRUST_PUBLIC_PATHS.includes(path) || SERVICE_PATHS.includes(path));
}
const TOKEN_PATH = '/oauth/token';
/** The kit's own capability and health endpoints. */
const SERVICE_PATHS = ['/metadata', '/health', '/health/live', '/health/ready', '/openapi.json'];

export function createTrustPart(options: TrustPartOptions = {}): PartDefinition {
  let client: PartClient | null = null;
  let runtime: TrustRuntime | undefined;
  return {
    name: 'trust',
    schema: 'trust',
    migrations: [...registerMigrations, ...authMigrations, ...citizenAppMigrations],
    publicPaths: TRUST_PUBLIC_PATHS,
    rateLimits: [
      ...doors('token', ['POST /oauth/token']),
      ...doors('operator', [
        'POST /participants',
        'POST /participants/:ura/status',
        'POST /participants/:ura/qualifications',
        'POST /participants/:ura/qualifications/:qualification/withdraw',
        'POST /vendors',
        'POST /vendors/:kvk/status',
        'POST /certificates',
        'POST /certificates/:serial/revoke',
        'POST /agreements',
        'POST /agreements/network',
      ]),
    ],
    openApi: async (baseUrl) => trustOpenApi(baseUrl, Object.fromEntries((await runtime?.agreements())?.scopes.map((d) => [d.scope, d.description]) ?? [])),
    async register(app, ctx) {
      const s = trustSettingsOf(ctx.settings);
      const ca = options.ca ?? (s.caCertFile && s.caKeyFile ? await loadCa(readFileSync(s.caCertFile, 'utf8'), readFileSync(s.caKeyFile, 'utf8')) : null);
      const rt = createRuntime({
        store: ctx.store,
        ca,
        operatorUra: options.operatorUra ?? s.operatorUra,
        operatorSystemNumber: options.operatorSystemNumber ?? s.operatorSystemNumber,
        tokenKey: await loadOrCreateSigningKey(ctx.store, 'access-token', ctx.keys),
        documentKey: await loadOrCreateSigningKey(ctx.store, 'documents', ctx.keys),
        issuer: () => ctx.baseUrl,
      });
      await rt.agreements(); // publishes the default document on first start
      runtime = rt;
      client = new PartClient({ tls: ctx.tls });

      // The register is this part's own peer guard: a revoked certificate or a suspended or
      // revoked participant is refused here at once (memo of one second). The operator's status
      // is not checked (it is never locked out), but a revoked operator certificate is refused.
      // Only reads of the public documents and the token endpoint (which admits callers itself)
      // pass unchecked; POST /agreements and /agreements/network are operator writes.
      app.addHook('onRequest', async (request) => {
        if (openToAll(request.method, request.url)) return;
        if (!request.peer) throw new HttpError(401, 'security', 'a network client certificate is required');
        const reason = await rt.refusal(request.peer);
        if (reason) {
          request.log.warn({ event: 'peer.refused', ura: request.peer.ura, kvk: request.peer.kvk, reason }, 'participant refused');
          throw forbidden(`participant refused: ${reason}`);
        }
      });

      await registerTokenEndpoint(app, {
        issuer: () => ctx.baseUrl,
        signingKey: rt.tokenKey,
        publishedKeys: [rt.documentKey],
        store: ctx.store,
        admit: (peer, ura) => admit(rt, peer, ura),
        scopesFor: async (c, requested, grant) => {
          const decision = decideScopes(await rt.agreements(), await getParticipant(ctx.store, c.ura), requested, { ...grant, network: ctx.network });
          if (decision.refused.length) throw invalidScope(decision.refused.map((r) => `${r.scope}: ${r.reason}`).join('; '));
          return decision.allowed;
        },
        verifyUserAssertion: verklaringVerifier({ network: ctx.network, client: () => client!, issuer: s.identityIssuer, jwks: s.identityJwks }),
        // Every scope the agreements define (decideScopes says which a caller may hold).
        scopesSupported: async () => (await rt.agreements()).scopes.map((d) => d.scope),
      });
      registerTrustRoutes(app, rt);
      registerCitizenAppRoutes(app, rt);
    },
    async stop() {
      await client?.close();
    },
  };
}

/** The trust part as `ldn serve trust` runs it (CA from the settings files). */
export const trustPart: PartDefinition = createTrustPart();

export { seedTrust, type SeedOptions, type SeedResult } from './seed.ts';
