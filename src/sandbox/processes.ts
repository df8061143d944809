import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { seedConsentChoices } from '../consent/sandbox-seed.ts';
import { sandboxChoices } from './consent-choices.ts';
import { CONSENT_MIGRATIONS } from '../consent/migrations.ts';
import { viewerClientId } from '../portals/clinician/mount.ts';
import { ehrDataFor } from '../node/ehr-sim/cast-data.ts';
import { PartClient } from '../kit/http/client.ts';
import { DECLARED_SETTINGS } from '../cli/part-settings-registry.ts';
import { kekFile } from '../kit/keys/key-encryption-key.ts';
import { createLogger } from '../kit/log.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { openStore } from '../kit/store/open.ts';
import { getParticipant, holdsQualification, qualify } from '../trust/register/participants.ts';
import { OPERATOR, ORGANIZATIONS, VENDORS } from './cast.ts';
import { PORTAL_CLIENT_ID } from './compose.ts';
import type { SandboxContext } from './context.ts';
import { freePort } from './free-port.ts';
import { type Manifest, writeManifest } from './manifest.ts';
import { SandboxNetwork } from './network.ts';
import { castNodeNames, type EhrSimulator, startEhrSimulator } from './participants.ts';
import { SandboxPki } from './pki.ts';
import { sandboxManifest } from './sandbox-manifest.ts';
import { crossBorderManifest, prepareSecondCountry, type SecondCountryMaterial } from './second-country.ts';
import { admitSecondaryUse, HDAB_PARTICIPANT, type SecondaryUseIdentities, secondaryUseManifest, seedResearchPopulation } from './secondary-use.ts';
import type { SandboxOptions } from './sandbox.ts';
import { publishDirectory, type SeededIdentities, seedTrustStore } from './seed.ts';
import { type SupervisedPart, supervisePart } from './supervisor.ts';

// `ldn sandbox --processes`: the same network as the in-process sandbox, but every central part
// and every node is its own OS process started through `ldn serve <part>` (the production start
// path) and watched by the supervisor, which starts a dead process again and logs it. Each part
// has its own schema (PostgreSQL via --database-url) or its own PGlite directory (--data-dir);
// every part keeps its keys sealed in its own store under one KEK file, so a stopped and started
// sandbox, or a killed and restarted part, keeps every pseudonym, referral and key.
// The EHR simulator stands in for the organisations' own systems and stays in this process.
// NCPeH-NL and the HDAB are parts like the others (`ldn serve ncpeh|hdab`, with the certificates
// of their organisations); the second country (Belgium's contact point) is no part of the Dutch
// network, so it runs under its own sandbox-only command, `ldn sandbox second-country`.

/** Central parts in start order; the trust framework first (every other part checks it). */
const CENTRAL = ['trust', 'directory', 'prs', 'nvi', 'consent', 'transparency', 'identity', 'citizen-identity', 'portal'] as const;
const PART_SYSTEM_NUMBER_BASE = 100;
/** The supervised process of the sandbox's second country (Belgium's contact point). */
export const SECOND_COUNTRY = 'second-country';

export interface ProcessSandbox {
  manifest: Manifest;
  manifestPath: string;
  identities: { operator: TlsIdentity; participants: Map<string, TlsIdentity>; vendors: Map<string, TlsIdentity> };
  /** Supervised processes by name: parts by part name (ncpeh, hdab too), nodes as `node:<name>`, Belgium as SECOND_COUNTRY. */
  processes: Map<string, SupervisedPart>;
  network: SandboxNetwork;
  ehr: EhrSimulator;
  /** Belgium's contact point and the certificates of its hospital and pharmacy (absent when the cast has no NCPeH). */
  crossBorder?: { belgium: { ncpeh: { url: string }; ca: string; hospital: TlsIdentity; pharmacy: TlsIdentity } };
  /** Resolves when the named process answers /health/ready again (after a restart). */
  waitReady(name: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface ProcessSandboxOptions extends SandboxOptions {
  /** Where the parts' own output goes (default: this terminal). */
  childOutput?: 'inherit' | 'ignore';
}

export async function startProcessSandbox(options: ProcessSandboxOptions): Promise<ProcessSandbox> {
  const log = options.log ?? createLogger('sandbox');
  const progress = options.progress ?? (() => {});
  const host = options.host ?? '127.0.0.1';
  const manifestPath = resolve(options.manifestPath);
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (!options.databaseUrl && !dataDir) {
    throw new Error('--processes needs --database-url (one schema per part) or --data-dir (one PGlite directory per part): processes cannot share an in-memory store');
  }
  if (options.instances && Object.values(options.instances).some((n) => n > 1)) throw new Error('--processes runs one instance per part');
  const workDir = dirname(manifestPath);
  const pkiDir = dataDir ? join(dataDir, 'pki') : join(workDir, 'sandbox-pki');
  if (!dataDir) rmSync(pkiDir, { recursive: true, force: true }); // as in-process: certificates per run, keys in the stores
  const pki = await SandboxPki.open(pkiDir);
  const kekPath = join(dataDir ?? workDir, dataDir ? 'key-encryption-key' : 'sandbox-key-encryption-key');
  kekFile(kekPath); // created once, read by every part through LDN_SETTING_KEY_ENCRYPTION_KEY_FILE
  const storeOf = (name: string) => (options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir: join(dataDir!, 'pg', name) });
  const storageEnv = (name: string): Record<string, string> => {
    const s = storeOf(name);
    if (s.dataDir) mkdirSync(s.dataDir, { recursive: true });
    return s.databaseUrl ? { DATABASE_URL: s.databaseUrl } : { LDN_DATA_DIR: s.dataDir! };
  };

  const cast = options.cast ?? {
    organizations: ORGANIZATIONS,
    vendors: VENDORS,
    ehrData: (ura: string, reference: string) => ehrDataFor(ura, { reference }),
  };
  const nodeNames = castNodeNames({ cast } as SandboxContext);
  let nextPort = options.portBase ?? 0;
  const port = async () => (nextPort === 0 ? freePort(host) : nextPort++);
  const network = new SandboxNetwork();
  const ports = new Map<string, number>();
  const ncpehOrg = cast.organizations.find((o) => o.type === 'NCP');
  // NCPeH-NL and the HDAB are in every part's network view (nodes find their signing keys there).
  const otherParts = [...(ncpehOrg ? ['ncpeh'] : []), 'hdab'];
  for (const name of [...CENTRAL, ...otherParts, ...nodeNames.map((n) => `node:${n}`)]) {
    const p = await port();
    ports.set(name, p);
    network.set(name, `https://${host}:${p}`);
  }
  const sb: SandboxContext = {
    cast,
    pki,
    network,
    log,
    host,
    databaseUrl: options.databaseUrl,
    pgDir: dataDir ? join(dataDir, 'pg', 'ehr-sim') : undefined,
    dataDir,
    workDir,
    services: [],
    nextPort: () => (nextPort === 0 ? 0 : nextPort++),
    partIdentity: () => Promise.reject(new Error('parts issue their certificates up front in --processes')),
  };
  if (sb.pgDir) mkdirSync(sb.pgDir, { recursive: true });

  progress('network CA, certificates, and the trust framework\'s register');
  const partFiles = new Map<string, { cert: string; key: string }>();
  for (const [i, name] of CENTRAL.entries()) {
    const f = await pki.issue(`part-${name}`, {
      commonName: `LDN ${name}`,
      uzi: { ura: OPERATOR.ura, systemNumber: String(PART_SYSTEM_NUMBER_BASE + i), agb: '00000000' },
    });
    partFiles.set(name, { cert: f.cert, key: f.key });
  }
  const operator = await pki.issue('operator', { commonName: OPERATOR.name, uzi: { ura: OPERATOR.ura, systemNumber: '1', agb: '00000000' } });
  // The operator's bootstrap, before anyone can call the trust part: its own register and the
  // consent registry's seeded choices are filled on their own stores (as the in-process sandbox does).
  const { trustPart } = await import('../trust/part.ts');
  const trustStore = await openStore({ schema: 'trust', ...storeOf('trust') }, trustPart.migrations);
  let ids: SeededIdentities;
  let secondary: SecondaryUseIdentities;
  try {
    ids = await seedTrustStore(sb, trustStore);
    secondary = await admitSecondaryUse(sb, trustStore);
    if (!holdsQualification(await getParticipant(trustStore, OPERATOR.ura), 'localization')) await qualify(trustStore, OPERATOR.ura, { qualification: 'localization' }, 'sandbox');
  } finally {
    await trustStore.close();
  }
  if (options.seedConsents !== false) {
    const consentStore = await openStore({ schema: 'consent', ...storeOf('consent') }, CONSENT_MIGRATIONS);
    try {
      await seedConsentChoices(consentStore, sandboxChoices());
    } finally {
      await consentStore.close();
    }
  }

  const processes = new Map<string, SupervisedPart>();
  const ehrHolder: { ehr?: EhrSimulator } = {};
  const readyClient = new PartClient({ tls: operator.identity, maxRetries: 0 });
  // Belgium's contact point answers only on Belgium's trust anchor.
  const secondCountry: { material?: SecondCountryMaterial; url?: string; client?: PartClient } = {};
  // Children run in their own process groups: if this process ends without stop(), end them too.
  const orphanGuard = () => {
    for (const s of processes.values()) {
      try {
        if (s.pid) process.kill(s.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', orphanGuard);
  const stop = async () => {
    process.off('exit', orphanGuard);
    // Nodes first (they call the central parts), then the parts in reverse start order.
    for (const name of [...processes.keys()].reverse()) await processes.get(name)!.stop().catch((err) => log.warn({ err, part: name }, 'stop failed'));
    processes.clear();
    await ehrHolder.ehr?.stop();
    await readyClient.close();
    await secondCountry.client?.close();
  };
  const waitReady = async (name: string, timeoutMs = 120_000) => {
    const url = `${name === SECOND_COUNTRY ? secondCountry.url : network.url(name)}/health/ready`;
    const client = name === SECOND_COUNTRY ? secondCountry.client! : readyClient;
    const until = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < until) {
      try {
        const r = await client.call(url, { deadlineMs: 3000, retries: 0 });
        if (r.status === 200) return;
        last = `${r.status} ${r.text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${name} did not become ready within ${timeoutMs} ms: ${last}`);
  };

  // The manifest names each process's current pid; a restart rewrites it.
  let manifest: Manifest | undefined;
  const recordPid = () => {
    if (!manifest) return;
    for (const [name, s] of Object.entries(manifest.services)) s.pid = processes.get(name)?.pid;
    for (const n of manifest.nodes) n.pid = processes.get(`node:${n.name}`)?.pid;
    for (const p of manifest.participants) p.nodePid = processes.get(`node:${p.node}`)?.pid;
    if (manifest.crossBorder) manifest.crossBorder.belgium.pid = processes.get(SECOND_COUNTRY)?.pid;
    writeManifest(manifestPath, manifest);
  };
  const common: Record<string, string> = {
    LDN_TLS_CA: pki.caFile,
    LDN_HOST: host,
    LDN_NETWORK: JSON.stringify(Object.fromEntries(network.entries().filter(([n]) => !n.startsWith('node:')))),
    LDN_SETTING_KEY_ENCRYPTION_KEY_FILE: kekPath,
    LDN_LOG_LEVEL: process.env.LDN_LOG_LEVEL ?? 'warn',
  };
  const spawnPart = (name: string, part: string, tls: { cert: string; key: string }, settings: Record<string, string>) => {
    const env: Record<string, string> = { ...common, ...storageEnv(name.replace(':', '-')), LDN_TLS_CERT: tls.cert, LDN_TLS_KEY: tls.key, LDN_PORT: String(ports.get(name)) };
    // The operator's URA only to the parts that take it (the others would warn of an unknown setting).
    if (DECLARED_SETTINGS[part]?.some((d) => d.name === 'operator_ura')) env.LDN_SETTING_OPERATOR_URA = OPERATOR.ura;
    for (const [k, v] of Object.entries(settings)) env[`LDN_SETTING_${k.toUpperCase()}`] = v;
    const s = supervisePart({ part, label: name.replace(':', '-'), env, log, output: options.childOutput ?? 'inherit', ownProcessGroup: true, onStart: () => setImmediate(recordPid) });
    processes.set(name, s);
    return s;
  };

  try {
    const nodeUrl = (n: string) => network.url(`node:${n}`);
    progress('trust framework (its own process)');
    spawnPart('trust', 'trust', partFiles.get('trust')!, { ca_cert_file: pki.caFile, ca_key_file: join(pki.dir, 'ca-key.pem'), operator_system_number: '1' });
    await waitReady('trust');
    progress('central services, identity providers and portal (one process each)');
    const agreements = { agreements_refresh_ms: '2000' };
    const login = (clients: object[]) => ({ directory: 'cast', require_password: 'false', clients: JSON.stringify(clients) });
    const central: Record<string, Record<string, string>> = {
      directory: {},
      prs: {},
      nvi: agreements,
      consent: agreements,
      transparency: { ...agreements, transparency_portal_ura: OPERATOR.ura },
      identity: login(
        nodeNames.map((n) => ({
          client_id: viewerClientId(n),
          client_name: `Zorgverlenersviewer ${cast.organizations.filter((o) => o.node === n).map((o) => o.name).join(', ')}`,
          redirect_uris: [`${nodeUrl(n)}/viewer/callback`],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        })),
      ),
      'citizen-identity': login([
        {
          client_id: PORTAL_CLIENT_ID,
          client_name: 'Mijn Gezondheidsoverzicht',
          redirect_uris: [`${network.url('portal')}/citizen/callback`],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ]),
      portal: {
        sandbox: 'true',
        citizen_client_id: PORTAL_CLIENT_ID,
        nodes: JSON.stringify(Object.fromEntries(nodeNames.map((n) => [n, nodeUrl(n)]))),
        operator_cert_file: operator.cert,
        operator_key_file: operator.key,
      },
    };
    for (const [name, settings] of Object.entries(central)) spawnPart(name, name, partFiles.get(name)!, settings);
    // The HDAB with the certificate of its own participant type, so holders know the caller is the HDAB.
    spawnPart('hdab', 'hdab', secondary.files.get(HDAB_PARTICIPANT.ura)!, {
      operator_ura: OPERATOR.ura,
      operator_system_number: '1',
      ...(dataDir ? { workspace_dir: join(dataDir, 'hdab-workspaces') } : {}),
    });
    for (const name of [...Object.keys(central), 'hdab']) await waitReady(name);

    progress('EHR simulator and participant nodes (one process each)');
    const ehr = await startEhrSimulator(sb);
    ehrHolder.ehr = ehr;
    if (options.researchPopulation) await seedResearchPopulation(ehr.stores, cast.organizations, options.researchPopulation);
    for (const n of nodeNames) {
      const orgs = cast.organizations.filter((o) => o.node === n);
      const tenantsFile = join(pki.dir, `tenants-${n}.json`);
      writeFileSync(
        tenantsFile,
        JSON.stringify(
          orgs.map((o) => ({ ura: o.ura, name: o.name, type: o.type, certFile: ids.files.get(`org-${o.ura}`)!.cert, keyFile: ids.files.get(`org-${o.ura}`)!.key, ehrBaseUrl: `${ehr.url}/${o.ura}/fhir` })),
        ),
      );
      // A vendor's node presents the vendor's certificate; a single organisation's node its own.
      const vendor = cast.vendors.find((v) => orgs.length > 1 && orgs.every((o) => v.hosts.includes(o.ura)));
      const tls = vendor ? ids.files.get(`vendor-${vendor.kvk}`)! : ids.files.get(`org-${orgs[0].ura}`)!;
      spawnPart(`node:${n}`, 'node', tls, {
        tenants: tenantsFile,
        node_name: n,
        overview_deadline_ms: String(options.overviewDeadlineMs ?? 3000),
        referral_sync_ms: '2000',
        viewer: 'true',
      });
    }
    for (const n of nodeNames) await waitReady(`node:${n}`);

    progress('publishing the directory (nodes register their referrals within seconds)');
    await publishDirectory(sb, ids, Object.fromEntries(nodeNames.map((n) => [n, nodeUrl(n)])));

    if (ncpehOrg) {
      progress("NCPeH-NL and the sandbox's second country, Belgium (one process each)");
      const material = await prepareSecondCountry({ pki, host, ncpehUra: ncpehOrg.ura, gatewayPort: await port(), belgiumGatewayPort: await port() });
      secondCountry.material = material;
      spawnPart('ncpeh', 'ncpeh', ids.files.get(`org-${ncpehOrg.ura}`)!, { ...material.ncpehSettings, node_tenant_url: `${nodeUrl(ncpehOrg.node)}/org/${ncpehOrg.ura}` });
      const bePort = await port();
      secondCountry.url = `https://${host}:${bePort}`;
      secondCountry.client = new PartClient({ tls: material.belgium.hospital, maxRetries: 0 });
      const label = `${SECOND_COUNTRY}-be`;
      processes.set(
        SECOND_COUNTRY,
        supervisePart({
          part: SECOND_COUNTRY,
          args: ['sandbox', 'second-country', material.belgiumConfig],
          label,
          env: { ...storageEnv(label), LDN_HOST: host, LDN_PORT: String(bePort), LDN_SETTING_KEY_ENCRYPTION_KEY_FILE: kekPath, LDN_LOG_LEVEL: common.LDN_LOG_LEVEL },
          log,
          output: options.childOutput ?? 'inherit',
          ownProcessGroup: true,
          onStart: () => setImmediate(recordPid),
        }),
      );
      await waitReady('ncpeh');
      await waitReady(SECOND_COUNTRY);
    }

    manifest = sandboxManifest({
      cast,
      pki,
      operator,
      files: ids.files,
      storage: options.databaseUrl ? 'postgres (one schema per part, one process per part)' : `pglite:${join(dataDir!, 'pg')}/<part> (one process per part)`,
      services: Object.fromEntries(network.entries().filter(([n]) => !n.startsWith('node:'))),
      nodes: nodeNames.map((n) => ({ name: n, url: nodeUrl(n) })),
      ehrUrl: ehr.url,
      portalUrl: network.url('portal'),
      crossBorder: secondCountry.material ? crossBorderManifest(secondCountry.material, { ncpehNl: network.url('ncpeh'), belgium: secondCountry.url! }) : undefined,
      secondaryUse: secondaryUseManifest(secondary, { url: network.url('hdab') }),
    });
    recordPid();
    log.info({ event: 'sandbox.ready', processes: processes.size }, 'sandbox ready (one process per part)');
    const material = secondCountry.material;
    const crossBorder = material ? { belgium: { ncpeh: { url: secondCountry.url! }, ca: material.belgium.ca, hospital: material.belgium.hospital, pharmacy: material.belgium.pharmacy } } : undefined;
    return { manifest, manifestPath, identities: { operator: operator.identity, participants: ids.participants, vendors: ids.vendors }, processes, network, ehr, crossBorder, waitReady, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
