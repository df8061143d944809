import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { createService, type RunningService } from '../kit/http/service.ts';
import { roleName } from '../kit/identifiers/roles.ts';
import { createLogger } from '../kit/log.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { CITIZENS, CLINICIANS, OPERATOR, ORGANIZATIONS, VENDORS } from './cast.ts';
import { type Manifest, writeManifest } from './manifest.ts';
import { SandboxNetwork } from './network.ts';
import { SandboxPki } from './pki.ts';
import { CENTRAL_PARTS } from './registry.ts';

// The whole network on one machine: every central part on its own localhost port with its own
// certificate and schema (one shared embedded PGlite, or PostgreSQL), the cast's participants
// with their certificates, and a manifest describing it all.

export interface SandboxOptions {
  manifestPath: string;
  /** Keep stores and keys here; omitted = in memory, certificates under .ldn/sandbox-pki. */
  dataDir?: string;
  databaseUrl?: string;
  host?: string;
  /** First port; parts take consecutive ports. 0 = any free ports (tests). */
  portBase?: number;
  log?: Logger;
}

export interface SandboxIdentities {
  operator: TlsIdentity;
  parts: Map<string, TlsIdentity>;
  participants: Map<string, TlsIdentity>;
  vendors: Map<string, TlsIdentity>;
}

export interface Sandbox {
  manifest: Manifest;
  manifestPath: string;
  network: SandboxNetwork;
  identities: SandboxIdentities;
  services: RunningService[];
  stop(): Promise<void>;
}

const PART_SYSTEM_NUMBER_BASE = 100;

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const log = options.log ?? createLogger('sandbox');
  const started = Date.now();
  const manifestPath = resolve(options.manifestPath);
  const pkiDir = options.dataDir ? join(resolve(options.dataDir), 'pki') : join(resolve('.ldn'), 'sandbox-pki');
  if (!options.dataDir) rmSync(pkiDir, { recursive: true, force: true }); // in-memory runs start fresh
  const pgDir = options.dataDir && !options.databaseUrl ? join(resolve(options.dataDir), 'pg') : undefined;
  if (pgDir) mkdirSync(pgDir, { recursive: true });
  const pki = await SandboxPki.open(pkiDir);
  const network = new SandboxNetwork();

  const operator = await pki.issue('operator', {
    commonName: OPERATOR.name,
    uzi: { ura: OPERATOR.ura, systemNumber: '1', agb: '00000000' },
  });
  const identities: SandboxIdentities = { operator: operator.identity, parts: new Map(), participants: new Map(), vendors: new Map() };

  const participants = [];
  for (const org of ORGANIZATIONS) {
    const files = await pki.issue(`org-${org.ura}`, {
      commonName: org.name,
      uzi: { ura: org.ura, systemNumber: '1', agb: org.agb },
    });
    identities.participants.set(org.ura, files.identity);
    participants.push({ ...org, cert: files.cert, key: files.key });
  }
  const vendors = [];
  for (const v of VENDORS) {
    const files = await pki.issue(`vendor-${v.kvk}`, { commonName: v.name, kvk: v.kvk });
    identities.vendors.set(v.kvk, files.identity);
    vendors.push({ ...v, cert: files.cert, key: files.key });
  }

  const services: RunningService[] = [];
  let port = options.portBase ?? 0;
  const stop = async () => {
    for (const s of [...services].reverse()) await s.close().catch((err) => log.warn({ err, part: s.name }, 'stop failed'));
    services.length = 0;
  };
  try {
    for (const [i, entry] of CENTRAL_PARTS.entries()) {
      const part = await entry.load();
      const files = await pki.issue(`part-${part.name}`, {
        commonName: `LDN ${part.name}`,
        uzi: { ura: OPERATOR.ura, systemNumber: String(PART_SYSTEM_NUMBER_BASE + i), agb: '00000000' },
      });
      identities.parts.set(part.name, files.identity);
      const svc = await createService(part, {
        tls: files.identity,
        network,
        host: options.host ?? '127.0.0.1',
        port: port === 0 ? 0 : port++,
        databaseUrl: options.databaseUrl,
        dataDir: pgDir,
        log: log.child({ part: part.name }),
      });
      services.push(svc);
      network.set(part.name, svc.url);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const manifest: Manifest = {
    version: 1,
    startedAt: new Date().toISOString(),
    pid: process.pid,
    storage: options.databaseUrl ? 'postgres' : pgDir ? `pglite:${pgDir}` : 'pglite:memory',
    ca: { cert: pki.caFile },
    services: Object.fromEntries(network.entries().map(([name, url]) => [name, { url }])),
    participants,
    vendors,
    operator: { ura: OPERATOR.ura, name: OPERATOR.name, cert: operator.cert, key: operator.key },
    users: {
      clinicians: CLINICIANS.map((c) => ({
        deziNumber: c.deziNumber,
        name: [c.initials, c.prefix, c.surname].filter(Boolean).join(' '),
        roleCode: c.roleCode,
        roleName: roleName(c.roleCode),
        ura: c.ura,
      })),
      citizens: CITIZENS.map((c) => ({
        bsn: c.bsn,
        name: [c.given, c.prefix, c.family].filter(Boolean).join(' '),
        birthDate: c.birthDate,
      })),
    },
  };
  writeManifest(manifestPath, manifest);
  log.info({ ms: Date.now() - started, parts: services.length }, 'sandbox ready');
  return { manifest, manifestPath, network, identities, services, stop };
}
