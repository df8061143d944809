import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { EhrFaultRegistry } from '../node/ehr-sim/faults.ts';
import { ehrSimulatorPlugin } from '../node/ehr-sim/plugin.ts';
import { openEhrStore, seedEhr } from '../node/ehr-sim/store.ts';
import type { NodeTenant } from '../node/environment.ts';
import type { ArchiveConnection } from '../node/imaging/archive-client.ts';
import { createNetworkEnvironment } from '../node/network-environment.ts';
import { createNodePart, type NodeRuntime } from '../node/part.ts';
import { mountClinicianViewer, VIEWER_BASE } from '../portals/clinician/mount.ts';
import { applyServerLimits, fastifyLimitOptions } from '../kit/http/server-limits.ts';
import type { RunningService } from '../kit/http/service.ts';
import type { TlsIdentity } from '../kit/part.ts';
import type { Store } from '../kit/store/store.ts';
import { type SandboxContext, startPart } from './context.ts';

// The participants' side of the sandbox: one EHR simulator (plain HTTP on loopback, standing in
// for each organisation's own record system) and one LDN node per cast node, each serving its
// organisations at /org/<URA> with their own certificates.

export interface EhrSimulator {
  url: string;
  faults: EhrFaultRegistry;
  stores: Map<string, Store>;
  stop(): Promise<void>;
}

export async function startEhrSimulator(sb: SandboxContext): Promise<EhrSimulator> {
  const stores = new Map<string, Store>();
  // Histories are dated relative to today, so "current medication" is current in the demo.
  const reference = `${new Date().toISOString().slice(0, 10)}T09:00:00Z`;
  for (const org of sb.cast.organizations) {
    const store = await openEhrStore(org.ura, { databaseUrl: sb.databaseUrl, dataDir: sb.pgDir });
    stores.set(org.ura, store);
    const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM ehr_resources');
    if (Number(n) === 0) await seedEhr(store, org.ura, sb.cast.ehrData(org.ura, reference));
  }
  const faults = new EhrFaultRegistry();
  const app = Fastify({ logger: false, forceCloseConnections: true, ...fastifyLimitOptions() });
  // The simulator posts its Subscription notifications to the nodes over https: it trusts the network CA.
  await app.register(ehrSimulatorPlugin, { prefix: '/ehr', stores, faults, notificationCa: readFileSync(sb.pki.caFile, 'utf8') });
  await app.listen({ host: '127.0.0.1', port: sb.nextPort() });
  applyServerLimits(app.server);
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/ehr`;
  sb.log.info({ url }, 'EHR simulator listening');
  return {
    url,
    faults,
    stores,
    async stop() {
      await app.close();
      for (const s of stores.values()) await s.close();
    },
  };
}

export interface RunningNode {
  name: string;
  url: string;
  service: RunningService;
  runtime(): NodeRuntime | undefined;
}

/** Node names in the cast, in a stable order. */
export function castNodeNames(sb: SandboxContext): string[] {
  return [...new Set(sb.cast.organizations.map((o) => o.node))];
}

export async function startNodes(
  sb: SandboxContext,
  input: {
    ehrUrl: string;
    participants: Map<string, TlsIdentity>;
    vendors: Map<string, TlsIdentity>;
    overviewDeadlineMs?: number;
    archives?: Map<string, ArchiveConnection>;
  },
): Promise<RunningNode[]> {
  const nodes: RunningNode[] = [];
  for (const name of castNodeNames(sb)) {
    const orgs = sb.cast.organizations.filter((o) => o.node === name);
    const tenants: NodeTenant[] = orgs.map((o) => ({
      ura: o.ura,
      name: o.name,
      type: o.type,
      identity: input.participants.get(o.ura)!,
      ehrBaseUrl: `${input.ehrUrl}/${o.ura}/fhir`,
      ...(input.archives?.has(o.ura) ? { archive: input.archives.get(o.ura) } : {}),
    }));
    // A vendor's node presents the vendor's certificate; a single organisation's node its own.
    const vendor = sb.cast.vendors.find((v) => orgs.every((o) => v.hosts.includes(o.ura)) && orgs.length > 1);
    const identity = vendor ? input.vendors.get(vendor.kvk)! : tenants[0].identity;
    const part = createNodePart({
      name,
      tenants,
      environment: (ctx) => createNetworkEnvironment(ctx, { nodeName: name, tenants }),
      overviewDeadlineMs: input.overviewDeadlineMs ?? 3000,
      referralSyncIntervalMs: 2000,
      // The clinician viewer, from the portals: the node itself never imports them.
      extensions: [mountClinicianViewer],
      extraPublicPaths: [VIEWER_BASE],
    });
    const service = await startPart(sb, part, { identity, networkName: null });
    sb.network.set(`node:${name}`, service.url);
    nodes.push({ name, url: service.url, service, runtime: () => part.runtime() });
  }
  return nodes;
}
