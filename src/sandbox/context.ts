import type { Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { settingsFromEnvironment } from '../kit/config.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { KeyEncryptionKey } from '../kit/keys/key-encryption-key.ts';
import type { PartDefinition, Peer, TlsIdentity } from '../kit/part.ts';
import type { CastStudy } from '../node/ehr-sim/imaging.ts';
import type { CastOrganization, CastVendor } from './cast.ts';
import type { SandboxNetwork } from './network.ts';
import type { SandboxPki } from './pki.ts';

// What the sandbox's start-up steps share: where things listen, the PKI, the running services.

/** Who takes part: the cast by default; benchmarks bring their own generated population. */
export interface SandboxCast {
  organizations: CastOrganization[];
  vendors: CastVendor[];
  /** The EHR contents of one organisation, dated relative to `reference`. */
  ehrData(ura: string, reference: string): Resource[];
  /** The studies in one organisation's image archive (absent: no archives). */
  imaging?(ura: string, reference: string): CastStudy[];
}

export interface SandboxContext {
  cast: SandboxCast;
  pki: SandboxPki;
  network: SandboxNetwork;
  log: Logger;
  host: string;
  databaseUrl?: string;
  /** Shared PGlite data directory (persistent sandbox). */
  pgDir?: string;
  /** Directory for keys parts keep besides their store. */
  dataDir?: string;
  /** Seals the keys every part keeps in its store (undefined: memory only, each part a random one). */
  keyEncryptionKey?: KeyEncryptionKey;
  /** Instances per central part (nvi, consent) behind a load balancer; default one each. */
  instances?: Record<string, number>;
  /** Where the sandbox writes its own working files (load balancer configuration). */
  workDir: string;
  services: RunningService[];
  nextPort(): number;
  /** Issues (or reuses) a bootstrap certificate for a central part, named by the operator's URA. */
  partIdentity(name: string): Promise<TlsIdentity>;
  /** Refuses revoked or suspended participants (the trust framework's signed status list). */
  peerGuard?: ((peer: Peer) => Promise<string | null>) & { refresh(): Promise<void> };
}

/** Starts one part on its own port with its own certificate, and records it in the network. */
export async function startPart(
  sb: SandboxContext,
  part: PartDefinition,
  options: { identity?: TlsIdentity; settings?: Record<string, string>; networkName?: string | null; publicUrl?: string } = {},
): Promise<RunningService> {
  const identity = options.identity ?? (await sb.partIdentity(part.name));
  const svc = await createService(part, {
    tls: identity,
    network: sb.network,
    host: sb.host,
    port: sb.nextPort(),
    publicUrl: options.publicUrl,
    databaseUrl: sb.databaseUrl,
    dataDir: sb.pgDir,
    filesDir: sb.dataDir ? `${sb.dataDir}/files/${options.networkName ?? part.name}` : undefined,
    // As under `ldn serve`, LDN_SETTING_<NAME> in the environment sets a part's setting (load tests,
    // e2e tests); what the sandbox passes in code comes first.
    settings: { ...settingsFromEnvironment(process.env), ...options.settings },
    keyEncryptionKey: sb.keyEncryptionKey,
    // Every part but the trust framework itself checks callers against the status list.
    peerGuard: part.name === 'trust' ? undefined : sb.peerGuard,
    log: sb.log.child({ part: options.networkName ?? part.name }),
  });
  sb.services.push(svc);
  if (options.networkName !== null) sb.network.set(options.networkName ?? part.name, svc.url);
  return svc;
}
