import type { RunningService } from '../kit/http/service.ts';
import { PartClient } from '../kit/http/client.ts';
import { thumbprintOf } from '../kit/http/peer.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { createTransparencyPart } from '../audit/transparency/part.ts';
import { citizenTokenAuth } from '../consent/citizen-auth.ts';
import { createConsentPart } from '../consent/part.ts';
import { createDirectoryPart } from '../directory/part.ts';
import { createPrsPart } from '../pseudonyms/part.ts';
import { createNviPart } from '../referral-index/part.ts';
import { type AgreementsSource, startAgreementsSource } from '../trust/agreements/source.ts';
import { remoteJwks } from '../trust/auth/remote-jwks.ts';
import { createPeerGuard } from '../trust/certificates/peer-guard.ts';
import { createTrustPart } from '../trust/part.ts';
import { OPERATOR, organizationByUra } from './cast.ts';
import { type SandboxContext, startPart } from './context.ts';

// The central services, in dependency order. Each is an independent HTTPS service with its
// own certificate and schema; each fetches and verifies the signed agreements itself.

export interface CentralServices {
  trust: RunningService;
  directory: RunningService;
  prs: RunningService;
  nvi: RunningService;
  consent: RunningService;
  transparency: RunningService;
  stop(): Promise<void>;
}

/** The citizen provider's audience for tokens the portal forwards (its OIDC client id). */
export const PORTAL_CLIENT_ID = 'portal';

export async function startCentralServices(
  sb: SandboxContext,
  options: { portalIdentity: TlsIdentity; afterTrust?: (trust: RunningService) => Promise<void> },
): Promise<CentralServices> {
  const sources: AgreementsSource[] = [];
  const clients: PartClient[] = [];
  const agreementsFor = async (identity: TlsIdentity): Promise<AgreementsSource> => {
    const client = new PartClient({ tls: identity });
    clients.push(client);
    const source = await startAgreementsSource({ trustUrl: () => sb.network.url('trust'), client, refreshMs: 2000, log: sb.log });
    sources.push(source);
    return source;
  };

  const trust = await startPart(sb, createTrustPart({ ca: sb.pki.ca, operatorUra: OPERATOR.ura, operatorSystemNumber: '1' }));
  // From here on every part refuses a revoked or suspended participant within the list's age.
  const guardClient = new PartClient({ tls: await sb.partIdentity('peer-guard') });
  clients.push(guardClient);
  sb.peerGuard = createPeerGuard({ trustUrl: trust.url, client: guardClient, maxAgeSeconds: 30 });
  // Admit the participants before anyone else starts: the other parts talk to each other at once.
  await options.afterTrust?.(trust);
  const directory = await startPart(sb, createDirectoryPart());
  const prs = await startPart(sb, createPrsPart());

  const nviIdentity = await sb.partIdentity('nvi');
  const nviAgreements = await agreementsFor(nviIdentity);
  const nvi = await startPart(sb, createNviPart({ agreements: async () => nviAgreements.current() }), { identity: nviIdentity });

  const consentIdentity = await sb.partIdentity('consent');
  const consentAgreements = await agreementsFor(consentIdentity);
  const jwksClient = new PartClient({ tls: consentIdentity });
  clients.push(jwksClient);
  let citizenAuth: ReturnType<typeof citizenTokenAuth> | undefined;
  const consent = await startPart(
    sb,
    createConsentPart({
      agreements: () => consentAgreements.current(),
      // The citizen provider starts last (its clients' URLs must be known); resolve it on first use.
      citizenAuth: (request) => {
        citizenAuth ??= citizenTokenAuth({
          issuer: sb.network.url('citizen-identity'),
          jwks: remoteJwks(`${sb.network.url('citizen-identity')}/jwks`, jwksClient),
          audience: PORTAL_CLIENT_ID,
          bsnClaim: 'sub',
        });
        return citizenAuth(request);
      },
    }),
    { identity: consentIdentity },
  );

  const portalThumbprint = thumbprintOf(pemToDer(options.portalIdentity.cert));
  const transparencyIdentity = await sb.partIdentity('transparency');
  const transparencyAgreements = await agreementsFor(transparencyIdentity);
  const transparency = await startPart(
    sb,
    // In the sandbox the cast names the organisations; in production the directory replica does.
    createTransparencyPart({
      agreements: () => transparencyAgreements.current(),
      organizationName: (ura) => organizationByUra(ura)?.name,
      // Only the citizen portal may read a citizen's access log (it proves who the citizen is).
      portalPeer: (peer) => peer.thumbprint === portalThumbprint,
    }),
    { identity: transparencyIdentity },
  );

  return {
    trust,
    directory,
    prs,
    nvi,
    consent,
    transparency,
    async stop() {
      for (const s of sources) s.stop();
      for (const c of clients) await c.close();
    },
  };
}
