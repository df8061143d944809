import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { AuditEvent, Condition, MedicationStatement, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ClosedAnswer, ClosedQuestion } from '../../consent/model.ts';
import { RecordsConsentOracle } from '../../consent/pdp/oracle.ts';
import { type CallResult, PartClient } from '../../kit/http/client.ts';
import { createService, type RunningService } from '../../kit/http/service.ts';
import type { TlsIdentity } from '../../kit/part.ts';
import { openStore } from '../../kit/store/open.ts';
import type { Store } from '../../kit/store/store.ts';
import { createTestPki, staticNetwork } from '../../kit/testing/test-pki.ts';
import { PrsClient } from '../../pseudonyms/client.ts';
import { createPrsPart } from '../../pseudonyms/part.ts';
import { researchPermitGate } from '../../pseudonyms/research-permit.ts';
import { type BulkManifest, EXPORT_SCOPE, HDAB_ORGANIZATION_TYPE, permitVerifier } from '../../secondary-use/contract.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { TrustTokenProvider } from '../../trust/auth/token-provider.ts';
import { ehrSimulatorPlugin } from '../ehr-sim/plugin.ts';
import { generateResearchPopulation, TIA } from '../ehr-sim/research-population.ts';
import { openEhrStore, seedEhr } from '../ehr-sim/store.ts';
import type { NodeEnvironment, ParticipantView } from '../environment.ts';
import { createNodePart } from '../part.ts';
import { type TestHdabKey, testHdabKey } from './test-permits.ts';

// Tests and the benchmark only: one holder node with one GP tenant (its own authorisation server,
// signed tokens, mutual TLS with test certificates), a real PRS (OPRF over mTLS, tokens off), the
// EHR simulator over HTTP with a generated population, and an HDAB client with a stand-in signing
// key. The research opt-out is a fake the caller controls (the consent side is built on branch hdab).
// Everything shares one in-memory PGlite (one schema each), or PostgreSQL with databaseUrl.

export const GP = '90000301';
export const HDAB = '90000950';
export const OTHER = '90000302';
export const HDAB_URL = 'https://hdab.test:9443';

export interface Person {
  patient: Patient;
  tia: boolean;
  statin: boolean;
}

export interface ExportNetwork {
  node: RunningService;
  /** The GP's FHIR-base parent (token audience), https://<node>/org/<GP>. */
  base: string;
  hdab: TestHdabKey;
  hdabClient: PartClient;
  hdabTokens: TrustTokenProvider;
  identities: Record<'node' | 'prs' | 'gp' | 'hdab' | 'other', TlsIdentity>;
  prsClient: PrsClient;
  prsUrl: string;
  participants: Map<string, ParticipantView>;
  /** BSNs whose research opt-out says Deny. */
  objecting: Set<string>;
  asked: ClosedQuestion[];
  onQuestion?: (q: ClosedQuestion) => void;
  audits: AuditEvent[];
  /** Audit events written with a patient (the node's outbox would name her to the transparency log). */
  auditedPatients: Array<{ event: AuditEvent; bsn: string }>;
  /** The population as the GP's EHR holds it: BSN → facts. */
  people: Map<string, Person>;
  ehrStore: Store;
  kickOff(permit: string | undefined, opts?: { type?: string; client?: PartClient; prefer?: string | null }): Promise<CallResult<OperationOutcome>>;
  get<T>(url: string, method?: string): Promise<CallResult<T>>;
  /** Kick-off, poll, download every file; returns the files' text by type. */
  runExport(permit: string): Promise<{ manifest: BulkManifest; files: Map<string, string> }>;
  stop(): Promise<void>;
}

export async function startExportNetwork(o: { patients: number; seed: string; databaseUrl?: string; settings?: Record<string, string> }): Promise<ExportNetwork> {
  const pki = await createTestPki();
  const identities = {
    node: await pki.identity('90000900', { name: 'node' }),
    prs: await pki.identity('90000901', { name: 'prs' }),
    gp: await pki.identity(GP),
    hdab: await pki.identity(HDAB, { name: 'HDAB' }),
    other: await pki.identity(OTHER),
  };
  const hdab = await testHdabKey();
  const participants = new Map<string, ParticipantView>([
    [HDAB, { ura: HDAB, name: 'HDAB', type: HDAB_ORGANIZATION_TYPE, status: 'admitted', qualifications: [] }],
    [OTHER, { ura: OTHER, name: 'Huisarts B', type: 'Z3', status: 'admitted', qualifications: [] }],
  ]);
  const stores: Store[] = [];
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    for (const s of stores.reverse()) await s.close().catch(() => {});
  };
  try {
    const ehrStore = await openEhrStore(GP, { databaseUrl: o.databaseUrl });
    stores.push(ehrStore);
    // The GP's EHR with a generated population (some patients with a TIA, most of those on a statin).
    const people = new Map<string, Person>();
    const resources: Resource[] = [];
    for (const chart of generateResearchPopulation({ patients: o.patients, organizations: [{ ura: GP, name: 'Huisarts A', type: 'Z3' }], seed: o.seed })) {
      resources.push(...chart.resources);
      const patient = chart.resources.find((r): r is Patient => r.resourceType === 'Patient');
      if (!patient) continue;
      const tia = chart.resources.some((r) => r.resourceType === 'Condition' && (r as Condition).code?.coding?.some((c) => c.code === TIA.code));
      const statin = chart.resources.some((r) => r.resourceType === 'MedicationStatement' && JSON.stringify((r as MedicationStatement).contained ?? []).includes('"C10AA'));
      people.set(chart.bsn, { patient, tia, statin });
    }
    for (let i = 0; i < resources.length; i += 2000) await seedEhr(ehrStore, GP, resources.slice(i, i + 2000));
    const ehr: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
    await ehr.register(ehrSimulatorPlugin, { prefix: '/ehr', stores: new Map([[GP, ehrStore]]), admin: false });
    await ehr.listen({ host: '127.0.0.1', port: 0 });
    stops.push(() => ehr.close());
    const ehrUrl = `http://127.0.0.1:${(ehr.server.address() as AddressInfo).port}/ehr`;

    const prsStore = await openStore({ schema: 'prs', databaseUrl: o.databaseUrl }, createPrsPart().migrations);
    stores.push(prsStore);
    // The PRS checks each research evaluation's permit (the stand-in HDAB key) and caller (a
    // holder: admitted, localisation qualification, a care type) as in the network.
    const researchPermits = researchPermitGate({
      verify: permitVerifier({ issuer: () => HDAB_URL, jwks: async () => hdab.jwks }),
      participant: async (ura) => {
        const p = ura === GP ? { ura: GP, name: 'Huisarts A', type: 'Z3', status: 'admitted', qualifications: [{ code: 'localization' }] } : participants.get(ura);
        return p ? { ura: p.ura, status: p.status, organizationType: p.type, qualifications: p.qualifications.map((q) => ({ qualification: q.code })) } : null;
      },
    });
    const prs = await createService(createPrsPart({ seed: randomBytes(32), mode: 'off', researchPermits }), { tls: identities.prs, network: staticNetwork({}), store: prsStore });
    stops.push(() => prs.close());
    const prsHttp = new PartClient({ tls: identities.gp });
    stops.push(() => prsHttp.close());
    const prsClient = new PrsClient(prsHttp, prs.url);

    const net = { objecting: new Set<string>(), asked: [] as ClosedQuestion[], audits: [] as AuditEvent[], auditedPatients: [] as Array<{ event: AuditEvent; bsn: string }>, onQuestion: undefined as ((q: ClosedQuestion) => void) | undefined };
    const env: NodeEnvironment = {
      agreements: () => defaultAgreements(),
      participant: async (ura) => participants.get(ura) ?? null,
      localise: async () => [],
      registerReferral: async () => {},
      withdrawReferral: async () => {},
      endpoint: async () => null,
      consent: new RecordsConsentOracle(() => [], () => 'opt-in'),
      verifyVerklaring: async () => {
        throw new Error('no professionals in this network');
      },
      audit: async (event, patient) => {
        net.audits.push(event);
        if (patient) net.auditedPatients.push({ event, bsn: patient.bsn });
      },
      secondaryUse: {
        hdabUrl: () => HDAB_URL,
        hdabJwks: async () => hdab.jwks,
        async researchConsent(_tenant, q): Promise<ClosedAnswer> {
          net.asked.push(q);
          result.onQuestion?.(q);
          return net.objecting.has(q.bsn)
            ? { decision: 'Deny', rule: { kind: 'not-applicable', reason: 'test objection' }, reason: 'objected' }
            : { decision: 'Permit', rule: { kind: 'network-default', mode: 'opt-out' }, reason: 'default' };
        },
        researchPseudonym: (_tenant, bsn, permit) => prsClient.researchPseudonym(bsn, permit),
      },
    };
    const part = createNodePart({
      name: 'bx',
      tenants: [{ ura: GP, name: 'Huisarts A', type: 'Z3', identity: identities.gp, ehrBaseUrl: `${ehrUrl}/${GP}/fhir` }],
      environment: async () => env,
      referralSyncIntervalMs: 0,
    });
    const nodeStore = await openStore({ schema: part.schema, databaseUrl: o.databaseUrl }, part.migrations);
    stores.push(nodeStore);
    const node = await createService(part, { tls: identities.node, network: staticNetwork({}), store: nodeStore, settings: o.settings });
    stops.push(() => node.close());
    const base = `${node.url}/org/${GP}`;
    const hdabTokens = new TrustTokenProvider({ tls: identities.hdab, ura: HDAB, tokenEndpoint: `${node.url}/oauth/token` });
    const hdabClient = new PartClient({ tls: identities.hdab, tokens: hdabTokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
    stops.push(async () => {
      await hdabClient.close();
      await hdabTokens.close?.();
    });

    const kickOff: ExportNetwork['kickOff'] = (permit, opts = {}) =>
      (opts.client ?? hdabClient).call<OperationOutcome>(`${base}/fhir/$export`, {
        method: 'POST',
        scope: EXPORT_SCOPE,
        resource: base,
        headers: { 'content-type': 'application/fhir+json', ...(opts.prefer === null ? {} : { prefer: opts.prefer ?? 'respond-async' }) },
        body: {
          resourceType: 'Parameters',
          parameter: [...(permit ? [{ name: 'permit', valueString: permit }] : []), ...(opts.type ? [{ name: '_type', valueString: opts.type }] : [])],
        },
      });
    const get = <T>(url: string, method = 'GET') => hdabClient.call<T>(url, { method, scope: EXPORT_SCOPE, resource: base });
    const runExport: ExportNetwork['runExport'] = async (permit) => {
      const k = await kickOff(permit);
      if (k.status !== 202) throw new Error(`kick-off: ${k.status} ${k.text.slice(0, 300)}`);
      const statusUrl = k.headers['content-location'];
      let manifest: BulkManifest | undefined;
      for (let i = 0; !manifest && i < 3000; i++) {
        const r = await get<BulkManifest>(statusUrl);
        if (r.status === 200) manifest = r.body;
        else if (r.status !== 202 || !r.headers['x-progress']) throw new Error(`status: ${r.status} ${r.text.slice(0, 300)}`);
        else await new Promise((res) => setTimeout(res, 100));
      }
      if (!manifest) throw new Error('export did not finish');
      const files = new Map<string, string>();
      for (const f of [...manifest.output, ...manifest.error]) {
        const r = await get<string>(f.url);
        if (r.status !== 200 || !/application\/fhir\+ndjson/.test(r.headers['content-type'] ?? '')) throw new Error(`file: ${r.status}`);
        files.set(f.type, (files.get(f.type) ?? '') + r.text);
      }
      return { manifest, files };
    };
    const result: ExportNetwork = {
      node,
      base,
      hdab,
      hdabClient,
      hdabTokens,
      identities,
      prsClient,
      prsUrl: prs.url,
      participants,
      objecting: net.objecting,
      asked: net.asked,
      audits: net.audits,
      auditedPatients: net.auditedPatients,
      people,
      ehrStore,
      kickOff,
      get,
      runExport,
      stop,
    };
    return result;
  } catch (err) {
    await stop();
    throw err;
  }
}
