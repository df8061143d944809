import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { RunningService } from '../kit/http/service.ts';
import { kekFile } from '../kit/keys/key-encryption-key.ts';
import { createLogger } from '../kit/log.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { createCitizenIdentityPart, createIdentityPart } from '../identity/part.ts';
import { viewerClientId } from '../portals/clinician/mount.ts';
import { createPortalPart, RESEARCH_CLIENT_ID } from '../portals/part.ts';
import { getParticipant, holdsQualification, qualify } from '../trust/register/participants.ts';
import { OPERATOR, ORGANIZATIONS, VENDORS } from './cast.ts';
import { type CentralServices, PORTAL_CLIENT_ID, startCentralServices } from './central.ts';
import { type SandboxCast, type SandboxContext, startPart } from './context.ts';
import { CAST_SEED, ehrDataFor } from '../node/ehr-sim/cast-data.ts';
import { castImagingStudies } from '../node/ehr-sim/imaging.ts';
import { type CastArchives, startCastArchives } from './archives/cast-archives.ts';
import { type Manifest, writeManifest } from './manifest.ts';
import { sandboxManifest } from './sandbox-manifest.ts';
import { SandboxNetwork } from './network.ts';
import { type EhrSimulator, type RunningNode, startEhrSimulator, startNodes } from './participants.ts';
import { castCitizenDirectory, castProfessionalDirectory } from './people.ts';
import { SandboxPki } from './pki.ts';
import { type SecondCountry, startSecondCountry } from './second-country.ts';
import { publishDirectory, seedConsents, seedTrustFramework } from './seed.ts';
import { admitSecondaryUse, researchPopulationCitizens, type SecondaryUseIdentities, secondaryUseManifest, seedResearchPopulation, startHdab } from './secondary-use.ts';

// The whole network on one machine: every central part on its own localhost port with its own
// certificate and schema (one shared embedded PGlite, or PostgreSQL), an EHR simulator, the
// cast's nodes, the identity providers and the portal; then the cast is admitted, publishes
// itself in the directory and registers its referrals; a manifest describes it all.

export interface SandboxOptions {
  manifestPath: string;
  /** Keep stores and keys here; omitted = in memory, certificates under .ldn/sandbox-pki. */
  dataDir?: string;
  databaseUrl?: string;
  host?: string;
  /** First port; parts take consecutive ports. 0 = any free ports (tests). */
  portBase?: number;
  /** Fan-out deadline of the overview (ms). */
  overviewDeadlineMs?: number;
  log?: Logger;
  /** Who takes part (default: the cast of design §6). */
  cast?: SandboxCast;
  /** Seed the cast's consent choices (default true). */
  seedConsents?: boolean;
  /** Progress lines for people waiting at a terminal. */
  progress?: (step: string) => void;
  /** Start the hospitals' image archives (Orthanc; default true, skipped loudly when absent). */
  imaging?: boolean;
  /** Patients of the EHR simulator's research population added to the cast's holders (secondary use); default none. */
  researchPopulation?: number;
  /** Instances of the NVI and the consent registry behind HAProxy, e.g. { nvi: 2, consent: 2 }. */
  instances?: Record<string, number>;
}

export interface Sandbox {
  manifest: Manifest;
  manifestPath: string;
  network: SandboxNetwork;
  identities: { operator: TlsIdentity; participants: Map<string, TlsIdentity>; vendors: Map<string, TlsIdentity> };
  services: RunningService[];
  central: CentralServices;
  nodes: RunningNode[];
  ehr: EhrSimulator;
  archives: CastArchives;
  /** NCPeH-NL and the second country (Belgium); absent when the cast has no contact point. */
  crossBorder?: SecondCountry;
  /** The health-data access body (secondary use, EHDS). */
  hdab: Awaited<ReturnType<typeof startHdab>>;
  stop(): Promise<void>;
}

const PART_SYSTEM_NUMBER_BASE = 100;

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? createLogger('sandbox');
  const progress = options.progress ?? (() => {});
  const started = Date.now();
  const manifestPath = resolve(options.manifestPath);
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  // Without a data directory the certificates live next to the manifest (each run its own).
  const pkiDir = dataDir ? join(dataDir, 'pki') : join(dirname(manifestPath), 'sandbox-pki');
  if (!dataDir) rmSync(pkiDir, { recursive: true, force: true }); // in-memory runs start fresh
  const pgDir = dataDir && !options.databaseUrl ? join(dataDir, 'pg') : undefined;
  if (pgDir) mkdirSync(pgDir, { recursive: true });

  progress('network CA and bootstrap certificates');
  const pki = await SandboxPki.open(pkiDir);
  const network = new SandboxNetwork();
  let port = options.portBase ?? 0;
  let partCount = 0;
  const services: RunningService[] = [];
  const cast: SandboxCast = options.cast ?? {
    organizations: ORGANIZATIONS,
    vendors: VENDORS,
    ehrData: (ura, reference) => ehrDataFor(ura, { reference }),
    imaging: (ura, reference) => castImagingStudies(ura, CAST_SEED, reference),
  };
  const sb: SandboxContext = {
    cast,
    pki,
    network,
    log,
    host: options.host ?? '127.0.0.1',
    databaseUrl: options.databaseUrl,
    pgDir,
    dataDir,
    instances: options.instances,
    workDir: dirname(manifestPath),
    // Stores that outlive the run keep their keys, sealed under a KEK file kept beside them
    // (the data directory, or next to the manifest for a PostgreSQL sandbox without one).
    keyEncryptionKey:
      dataDir || options.databaseUrl ? kekFile(join(dataDir ?? dirname(manifestPath), dataDir ? 'key-encryption-key' : 'sandbox-key-encryption-key')) : undefined,
    services,
    nextPort: () => (port === 0 ? 0 : port++),
    async partIdentity(name) {
      const files = await pki.issue(`part-${name}`, {
        commonName: `LDN ${name}`,
        uzi: { ura: OPERATOR.ura, systemNumber: String(PART_SYSTEM_NUMBER_BASE + partCount++), agb: '00000000' },
      });
      return files.identity;
    },
  };
  const operator = await pki.issue('operator', { commonName: OPERATOR.name, uzi: { ura: OPERATOR.ura, systemNumber: '1', agb: '00000000' } });

  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of [...services].reverse()) await s.close().catch((err) => log.warn({ err, part: s.name }, 'stop failed'));
    services.length = 0;
    for (const f of stops.reverse()) await f().catch((err) => log.warn({ err }, 'stop failed'));
    stops.length = 0;
  };

  try {
    progress('trust framework: admitting the cast and issuing their certificates');
    let seeded: Awaited<ReturnType<typeof seedTrustFramework>> | undefined;
    let secondary: SecondaryUseIdentities | undefined;
    const portalIdentity = await sb.partIdentity('portal');
    const central = await startCentralServices(sb, {
      portalIdentity,
      afterTrust: async (trust) => {
        seeded = await seedTrustFramework(sb, trust);
        secondary = await admitSecondaryUse(sb, trust.store);
        // The operator's citizen portal names citizens to the transparency part by PRS token (prs:eval).
        if (!holdsQualification(await getParticipant(trust.store, OPERATOR.ura), 'localization')) await qualify(trust.store, OPERATOR.ura, { qualification: 'localization' }, 'sandbox');
        // No part may act on a status list from before the cast was admitted. The trust part keeps
        // its signed list for a second, so wait that out before the guard fetches it again.
        await new Promise((r) => setTimeout(r, 1100));
        await sb.peerGuard?.refresh();
        progress('central services (directory, PRS, NVI, consent, transparency)');
      },
    });
    stops.push(() => central.stop());
    if (!seeded) throw new Error('the trust framework was not seeded');
    const ids = seeded;
    if (options.seedConsents !== false) await seedConsents(central.consent);
    progress('health-data access body (secondary use)');
    const hdab = await startHdab(sb, secondary!, portalIdentity);

    progress('EHR simulator and participant nodes');
    const ehr = await startEhrSimulator(sb);
    stops.push(() => ehr.stop());
    if (options.researchPopulation) await seedResearchPopulation(ehr.stores, cast.organizations, options.researchPopulation);
    progress('image archives (Orthanc) with the cast\'s studies');
    const archives = await startCastArchives(sb, { enabled: options.imaging });
    stops.push(() => archives.stop());
    if (archives.unavailable && options.imaging !== false) progress(`!! no image archives: ${archives.unavailable}`);
    const nodes = await startNodes(sb, {
      ehrUrl: ehr.url,
      participants: ids.participants,
      vendors: ids.vendors,
      overviewDeadlineMs: options.overviewDeadlineMs,
      archives: archives.connections,
    });

    progress('identity providers and portal');
    const portal = await startPart(
      sb,
      createPortalPart({ operatorTls: operator.identity }),
      { identity: portalIdentity, settings: { sandbox: 'true', citizen_client_id: PORTAL_CLIENT_ID, nodes: JSON.stringify(Object.fromEntries(nodes.map((n) => [n.name, n.url]))) } },
    );
    await startPart(
      sb,
      createIdentityPart({
        // The sandbox login page: pick a cast clinician, no password.
        directory: castProfessionalDirectory(),
        requirePassword: false,
        operatorUra: OPERATOR.ura,
        clients: [
          ...nodes.map((n) => ({
            client_id: viewerClientId(n.name),
            // The name the login page shows: the viewer of the organisations the node serves.
            client_name: `Zorgverlenersviewer ${ORGANIZATIONS.filter((o) => o.node === n.name).map((o) => o.name).join(', ')}`,
            redirect_uris: [`${n.url}/viewer/callback`],
            token_endpoint_auth_method: 'none' as const,
            grant_types: ['authorization_code'],
            response_types: ['code'],
          })),
          // The portal's research environment (researchers of admitted research organisations).
          {
            client_id: RESEARCH_CLIENT_ID,
            client_name: 'Onderzoeksomgeving (HDAB)',
            redirect_uris: [`${portal.url}/research/callback`],
            token_endpoint_auth_method: 'none' as const,
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
      }),
    );
    await startPart(
      sb,
      createCitizenIdentityPart({
        directory: castCitizenDirectory(options.researchPopulation ? researchPopulationCitizens(options.researchPopulation) : []),
        requirePassword: false,
        clients: [
          {
            client_id: PORTAL_CLIENT_ID,
            client_name: 'Mijn Gezondheidsoverzicht',
            redirect_uris: [`${portal.url}/citizen/callback`],
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
      }),
    );

    progress('publishing the directory and registering referrals');
    await publishDirectory(sb, ids, Object.fromEntries(nodes.map((n) => [n.name, n.url])));
    for (const n of nodes) {
      const rt = n.runtime();
      await (rt?.env as { replica?: { syncNow(): Promise<unknown> } } | undefined)?.replica?.syncNow();
      await rt?.referralSync?.runOnce();
    }

    const nodeOf = new Map(nodes.map((n) => [n.name, n.url]));
    // Cross-border care: NCPeH-NL (on its own node as the organisation NCPeH Nederland) and Belgium.
    const ncpehOrg = cast.organizations.find((o) => o.type === 'NCP');
    let crossBorder: SecondCountry | undefined;
    if (ncpehOrg) {
      progress('NCPeH-NL and a second country (Belgium)');
      crossBorder = await startSecondCountry(sb, {
        ncpehIdentity: ids.participants.get(ncpehOrg.ura)!,
        ncpehUra: ncpehOrg.ura,
        ncpehNodeUrl: `${nodeOf.get(ncpehOrg.node)}/org/${ncpehOrg.ura}`,
      });
      stops.push(() => crossBorder!.stop());
    }
    const manifest = sandboxManifest({
      cast,
      pki,
      operator,
      files: ids.files,
      storage: options.databaseUrl ? 'postgres' : pgDir ? `pglite:${pgDir}` : 'pglite:memory',
      services: Object.fromEntries(network.entries().filter(([n]) => !n.startsWith('node:'))),
      nodes: nodes.map((n) => ({ name: n.name, url: n.url })),
      ehrUrl: ehr.url,
      portalUrl: portal.url,
      crossBorder: crossBorder?.manifest,
      secondaryUse: secondaryUseManifest(secondary!, hdab.service),
    });
    writeManifest(manifestPath, manifest);
    log.info({ ms: Date.now() - started, services: services.length }, 'sandbox ready');
    return {
      manifest,
      manifestPath,
      network,
      identities: { operator: operator.identity, participants: ids.participants, vendors: ids.vendors },
      services,
      central,
      nodes,
      ehr,
      archives,
      crossBorder,
      hdab,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
