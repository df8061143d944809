import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '../../kit/store/store.ts';
import { ORGANIZATIONS } from '../../sandbox/cast.ts';
import { ehrDataFor } from './cast-data.ts';
import { EhrFaultRegistry } from './faults.ts';
import { ehrSimulatorPlugin } from './plugin.ts';
import { openEhrStore, seedEhr } from './store.ts';

// `ldn serve ehr-sim`: the sandbox's EHR simulator on its own, for a node run with `ldn serve node`
// (its tenants' ehrBaseUrl = <this URL>/ehr/<URA>/fhir). Plain HTTP, no authentication, like the
// sandbox's: it stands in for a vendor's EHR on the node's own host, so it listens on loopback
// unless told otherwise. Stores are seeded once, when empty.

export interface EhrSimServeOptions {
  host: string;
  port: number;
  databaseUrl?: string;
  dataDir?: string;
  settings: Record<string, string | undefined>;
  log: Logger;
}

export interface RunningEhrSim {
  url: string;
  close(): Promise<void>;
}

export function simulatedUras(setting: string | undefined): string[] {
  if (!setting) return ORGANIZATIONS.map((o) => o.ura);
  const uras = setting.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = uras.filter((u) => !ORGANIZATIONS.some((o) => o.ura === u));
  if (unknown.length) throw new Error(`setting organizations: not a cast organisation: ${unknown.join(', ')} (known: ${ORGANIZATIONS.map((o) => o.ura).join(', ')})`);
  return uras;
}

export async function serveEhrSim(o: EhrSimServeOptions): Promise<RunningEhrSim> {
  const uras = simulatedUras(o.settings.organizations);
  const reference = `${new Date().toISOString().slice(0, 10)}T09:00:00Z`;
  const stores = new Map<string, Store>();
  try {
    for (const ura of uras) {
      const store = await openEhrStore(ura, { databaseUrl: o.databaseUrl, dataDir: o.dataDir });
      stores.set(ura, store);
      const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM ehr_resources');
      if (Number(n) === 0) await seedEhr(store, ura, ehrDataFor(ura, { reference, seed: o.settings.seed }));
    }
  } catch (err) {
    for (const s of stores.values()) await s.close().catch(() => {});
    throw err;
  }
  const app = Fastify({ logger: false, forceCloseConnections: true });
  const admin = o.settings.faults_admin === 'true' || o.settings.faults_admin === '1';
  await app.register(ehrSimulatorPlugin, { prefix: '/ehr', stores, faults: new EhrFaultRegistry(), admin });
  await app.listen({ host: o.host, port: o.port });
  const url = `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${(app.server.address() as AddressInfo).port}/ehr`;
  o.log.info({ url, organizations: uras }, 'EHR simulator listening');
  return {
    url,
    async close() {
      await app.close();
      for (const s of stores.values()) await s.close();
    },
  };
}
