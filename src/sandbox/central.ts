import type { AddressInfo } from 'node:net';
import type { RunningService } from '../kit/http/service.ts';
import { PartClient } from '../kit/http/client.ts';
import { thumbprintOf } from '../kit/http/peer.ts';
import { pemToDer } from '../kit/pki/certificates.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { createDirectoryPart } from '../directory/part.ts';
import { createPrsPart } from '../pseudonyms/part.ts';
import { createPeerGuard } from '../trust/certificates/peer-guard.ts';
import { createTrustPart } from '../trust/part.ts';
import { OPERATOR, organizationByUra } from './cast.ts';
import { HDAB_PARTICIPANT, RESEARCH_ORGANISATIONS } from './secondary-use.ts';
import { type ComposedPart, type ComposeEnv, composeConsent, composeNvi, composeTransparency } from './compose.ts';
import { type SandboxContext, startPart } from './context.ts';
import { freePort, startLoadBalancer } from './load-balancer.ts';

// The central services, in dependency order. Each is an independent HTTPS service with its
// own certificate and schema; each fetches and verifies the signed agreements itself.

export interface CentralServices {
  trust: RunningService;
  directory: RunningService;
  prs: RunningService;
  nvi: RunningService;
  consent: RunningService;
  transparency: RunningService;
  /** Every instance of each composed part (more than one behind a load balancer). */
  instances: Record<string, RunningService[]>;
  stop(): Promise<void>;
}

export { PORTAL_CLIENT_ID } from './compose.ts';

export async function startCentralServices(
  sb: SandboxContext,
  options: { portalIdentity: TlsIdentity; afterTrust?: (trust: RunningService) => Promise<void> },
): Promise<CentralServices> {
  const clients: PartClient[] = [];
  const stops: Array<() => Promise<void>> = [];

  const trust = await startPart(sb, createTrustPart({ ca: sb.pki.ca, operatorUra: OPERATOR.ura, operatorSystemNumber: '1' }));
  // From here on every part refuses a revoked or suspended participant within the list's age.
  const guardClient = new PartClient({ tls: await sb.partIdentity('peer-guard') });
  clients.push(guardClient);
  sb.peerGuard = createPeerGuard({ trustUrl: trust.url, client: guardClient, maxAgeSeconds: 30 });
  // Admit the participants before anyone else starts: the other parts talk to each other at once.
  await options.afterTrust?.(trust);
  const directory = await startPart(sb, createDirectoryPart());
  const prs = await startPart(sb, createPrsPart());

  // The same start path as `ldn serve <part>` (compose.ts): agreements from the trust part's
  // signed document, refreshed; the sandbox adds only what its cast knows.
  // With several instances (sb.instances) each is composed and started on its own, over the same
  // store and keys, behind HAProxy; the network then knows the part by the balancer's address.
  const instances: Record<string, RunningService[]> = {};
  const composed = async (name: string, compose: (env: ComposeEnv) => Promise<ComposedPart>, extra: Partial<ComposeEnv> = {}) => {
    const identity = await sb.partIdentity(name);
    const count = sb.instances?.[name] ?? 1;
    const lbPort = count > 1 ? await freePort(sb.host) : undefined;
    const publicUrl = lbPort ? `https://${sb.host}:${lbPort}` : undefined;
    const started: RunningService[] = [];
    for (let i = 0; i < count; i++) {
      const c = await compose({ tls: identity, network: sb.network, settings: {}, log: sb.log.child({ part: name }), agreementsRefreshMs: 2000, ...extra });
      stops.push(c.stop);
      started.push(await startPart(sb, c.part, { identity, publicUrl, networkName: count > 1 ? null : name }));
    }
    instances[name] = started;
    if (lbPort && publicUrl) {
      const lb = await startLoadBalancer({
        name,
        dir: sb.workDir,
        host: sb.host,
        port: lbPort,
        backends: started.map((s) => ({ host: sb.host, port: (s.app.server.address() as AddressInfo).port })),
        log: sb.log,
      });
      stops.push(lb.stop);
      sb.network.set(name, publicUrl);
    }
    return started[0];
  };
  const nvi = await composed('nvi', composeNvi);
  const consent = await composed('consent', composeConsent);
  const portalThumbprint = thumbprintOf(pemToDer(options.portalIdentity.cert));
  const transparency = await composed('transparency', composeTransparency, {
    // In the sandbox the cast names the organisations; in production the directory replica does.
    // (the HDAB and research organisations, named in a citizen's "used for research" rows, too).
    organizationName: (ura) => organizationByUra(ura)?.name ?? [HDAB_PARTICIPANT, ...RESEARCH_ORGANISATIONS].find((o) => o.ura === ura)?.name,
    // Only the citizen portal may read a citizen's access log (it proves who the citizen is).
    portalPeer: (peer) => peer.thumbprint === portalThumbprint,
  });

  return {
    trust,
    directory,
    prs,
    nvi,
    consent,
    transparency,
    instances,
    async stop() {
      for (const stop of stops) await stop();
      for (const c of clients) await c.close();
    },
  };
}
