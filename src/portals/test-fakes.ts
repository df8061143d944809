import { appendToLog, inclusionProof, transparencyLogMigrations } from '../audit/transparency/log-store.ts';
import { type SignedTreeHead, signTreeHead } from '../audit/transparency/tree-head.ts';
import { createJwsSigner, generateSigningKey } from '../audit/signing.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { DE_GROOT, ORGANIZATIONS } from '../sandbox/cast.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import type { ConsentMode } from '../trust/agreements/types.ts';
import type { Participant, ParticipantStatus } from '../trust/register/participants.ts';
import type { PortalOptions } from './part.ts';
import type { AccessEntry, AccessLogPort, ConsentChoice, ConsentPort, NetworkMonitorPort, TrustOperatorPort } from './ports.ts';
import { CookieJar, deGrootOverview, fakeLogin, HOSTILE } from './test-support.ts';

// In-memory stand-ins for the portal's ports, for the inject tests and the browser tests. The
// access log is a real transparency Merkle log in PGlite with a real signed tree head, so the
// page's proof verification is exercised for real.

const TRANSITIONS: Record<ParticipantStatus, ParticipantStatus[]> = {
  applied: ['admitted', 'revoked'],
  admitted: ['suspended', 'revoked'],
  suspended: ['admitted', 'revoked'],
  revoked: [],
};

export function fakeTrust(): TrustOperatorPort & { participantsByUra: Map<string, Participant>; revoked: string[] } {
  const now = new Date().toISOString();
  const participantsByUra = new Map<string, Participant>(
    ORGANIZATIONS.map((o) => [
      o.ura,
      {
        ura: o.ura,
        name: o.name,
        organizationType: o.type,
        agb: o.agb,
        status: 'admitted',
        statusChangedAt: now,
        qualifications: [{ id: 1, qualification: 'acute-zorg', validFrom: now, validUntil: null }],
        hostedBy: [],
      },
    ]),
  );
  const revoked: string[] = [];
  const get = (ura: string) => {
    const p = participantsByUra.get(ura);
    if (!p) throw new Error(`no participant ${ura}`);
    return p;
  };
  return {
    participantsByUra,
    revoked,
    async participants() {
      return [...participantsByUra.values()];
    },
    async setStatus(ura, status, _reason) {
      const p = get(ura);
      if (!TRANSITIONS[p.status].includes(status)) throw new Error(`participant ${ura} is ${p.status}; it cannot become ${status}`);
      p.status = status;
      return p;
    },
    async qualify(ura, qualification, validUntil) {
      const p = get(ura);
      p.qualifications.push({ id: p.qualifications.length + 1, qualification, validFrom: new Date().toISOString(), validUntil: validUntil ?? null });
      return p;
    },
    async withdrawQualification(ura, qualification) {
      const p = get(ura);
      p.qualifications = p.qualifications.filter((q) => q.qualification !== qualification);
      return p;
    },
    async certificates() {
      const day = 86_400_000;
      return [
        { serial: '0a1b2c', subject: `URA 90000103 (${HOSTILE})`, ura: '90000103', notAfter: new Date(Date.now() + 10 * day).toISOString(), status: 'valid' as const },
        { serial: '0d0e0f', subject: 'URA 90000101', ura: '90000101', notAfter: new Date(Date.now() - day).toISOString(), status: 'expired' as const },
        { serial: '111111', subject: 'URA 90000102', ura: '90000102', notAfter: new Date(Date.now() + 400 * day).toISOString(), status: 'valid' as const },
      ];
    },
    async revokeCertificate(serial) {
      revoked.push(serial);
    },
    async agreements() {
      return defaultAgreements();
    },
  };
}

export function fakeConsent(mode: ConsentMode = 'opt-out'): ConsentPort & { all: Map<string, ConsentChoice> } {
  const all = new Map<string, ConsentChoice>();
  let n = 0;
  return {
    all,
    mode: async () => mode,
    async list(citizen) {
      return [...all.values()].filter((c) => c.bsn === citizen.bsn);
    },
    async create(citizen, choice) {
      if (choice.bsn !== citizen.bsn) throw new Error('403 a citizen records only their own consents');
      const c: ConsentChoice = { ...choice, id: `c${++n}`, version: 1 };
      all.set(c.id, c);
      return c;
    },
    async update(citizen, id, ifVersion, choice) {
      const prev = all.get(id);
      if (!prev || prev.bsn !== citizen.bsn) throw new Error('404');
      if (prev.version !== ifVersion) throw new Error(`412 Consent/${id} is at version ${prev.version}`);
      const c: ConsentChoice = { ...choice, id, version: prev.version + 1 };
      all.set(id, c);
      return c;
    },
  };
}

export interface FakeAccessLog extends AccessLogPort {
  store: Store;
  close(): Promise<void>;
  /** Makes the log serve a tree head whose root was swapped (a lying log). */
  tamper(): void;
}

export async function fakeAccessLog(entries: AccessEntry[]): Promise<FakeAccessLog> {
  const store = await openIsolatedPgliteStore('portal_tlog');
  await migrate(store, transparencyLogMigrations);
  const { privateJwk } = await generateSigningKey();
  const signer = await createJwsSigner(privateJwk, 'transparency-1');
  // A few unrelated events around the citizen's, so the proofs have real audit paths.
  const items = [
    { eventId: 'other-1', body: '{"other":1}' },
    ...entries.map((e) => ({ eventId: e.eventId, body: JSON.stringify({ id: e.eventId, recorded: e.when }) })),
    { eventId: 'other-2', body: '{"other":2}' },
    { eventId: 'other-3', body: '{"other":3}' },
  ];
  await appendToLog(store, items);
  let head: SignedTreeHead = await signTreeHead(store, signer);
  let tampered = false;
  return {
    store,
    async accesses() {
      // As the real log lists them: each with its leaf index.
      return entries.map((e) => ({ ...e, leafIndex: items.findIndex((i) => i.eventId === e.eventId) }));
    },
    async treeHead() {
      return tampered ? { ...head, rootHash: Buffer.alloc(32, 7).toString('base64') } : head;
    },
    inclusionProof: (entry, treeSize) => {
      const idx = items.findIndex((i) => i.eventId === entry.eventId);
      if (idx < 0) return Promise.reject(new Error('no such event'));
      return inclusionProof(store, idx, treeSize);
    },
    async signingKeys() {
      return [signer.publicJwk];
    },
    tamper() {
      tampered = true;
      head = { ...head };
    },
    close: () => store.close(),
  };
}

export const DE_GROOT_ACCESSES: AccessEntry[] = [
  {
    eventId: 'ev-acute-1',
    when: '2025-02-03T14:05:00Z',
    organizationUra: '90000101',
    organizationName: 'Ziekenhuis Veluwe',
    roleCode: '01.045',
    roleName: 'Spoedeisende hulp arts',
    professionalName: 'A. Bakker',
    exchange: 'acute-zorg',
    dataCategories: ['AllergyIntolerance', 'MedicationUse'],
    emergency: true,
    emergencyReason: 'Bewusteloos binnengebracht',
  },
  {
    eventId: 'ev-bgz-1',
    when: '2025-01-10T09:00:00Z',
    organizationUra: '90000104',
    organizationName: HOSTILE,
    roleCode: '17.000',
    roleName: 'Apotheker',
    exchange: 'medicatieoverdracht',
    dataCategories: ['MedicationUse'],
    emergency: false,
    refused: true,
  },
];

export function fakeMonitor(): NetworkMonitorPort {
  return {
    async health() {
      return [
        { name: 'trust', kind: 'part', url: 'https://127.0.0.1:9001', up: true, latencyMs: 3 },
        { name: 'consent', kind: 'part', url: 'https://127.0.0.1:9002', up: true, latencyMs: 4 },
        { name: 'zuid', kind: 'node', url: 'https://127.0.0.1:9100', up: false, detail: `connection refused ${HOSTILE}` },
      ];
    },
    async exchangeStats() {
      return [
        { exchange: 'acute-zorg', requests: 120, failures: 3 },
        { exchange: 'bgz', requests: 40, failures: 0 },
      ];
    },
  };
}

export const CITIZEN_CLAIMS = { name: 'Hendrik de Groot', acr: 'http://eidas.europa.eu/LoA/substantial' };

/** Everything the portal part needs, faked; `close` ends the PGlite access log. */
export async function fakePortalOptions(bsn: string, callbackUrl?: () => string): Promise<{ options: PortalOptions; trust: ReturnType<typeof fakeTrust>; consent: ReturnType<typeof fakeConsent>; accessLog: FakeAccessLog }> {
  const trust = fakeTrust();
  const consent = fakeConsent();
  const accessLog = await fakeAccessLog(DE_GROOT_ACCESSES);
  return {
    trust,
    consent,
    accessLog,
    options: {
      citizenLogin: fakeLogin(CITIZEN_CLAIMS, bsn, callbackUrl),
      citizenData: async () => deGrootOverview(),
      consent,
      accessLog,
      providers: async () => ORGANIZATIONS.map((o) => ({ ura: o.ura, name: o.name, type: o.type })),
      trust,
      monitor: fakeMonitor(),
      secureCookies: false,
    },
  };
}

/** Mounts a part on a plain (HTTP) Fastify app with a minimal context, for inject and browser tests. */
export async function mountForTest(
  part: import('../kit/part.ts').PartDefinition,
  options: { settings?: Record<string, string>; store: Store },
): Promise<import('fastify').FastifyInstance> {
  const { default: Fastify } = await import('fastify');
  const { createLogger } = await import('../kit/log.ts');
  const app = Fastify();
  await part.register(app, {
    name: part.name,
    baseUrl: 'http://127.0.0.1',
    store: options.store,
    log: createLogger(part.name),
    tls: { cert: '', key: '', ca: '' },
    network: { has: () => false, url: (p: string) => { throw new Error(`no ${p} in this test network`); } },
    settings: options.settings ?? {},
    keys: (await import('../kit/keys/part-keys.ts')).partKeys(options.store, { kek: (await import('../kit/keys/key-encryption-key.ts')).ephemeralKek() }),
  });
  await app.ready();
  return app;
}

export interface PortalTestApp {
  app: import('fastify').FastifyInstance;
  store: Store;
  fakes: Awaited<ReturnType<typeof fakePortalOptions>>;
  /** Logs De Groot in through the faked DigiD (the portal's real PKCE flow), optionally after choosing a language. */
  citizen(lang?: 'en'): Promise<CookieJar>;
  close(): Promise<void>;
}

/** The portal part on its own PGlite store with every port faked (`options` replace fakes), for inject tests. */
export async function portalForTest(o: { options?: Partial<PortalOptions>; settings?: Record<string, string> } = {}): Promise<PortalTestApp> {
  const { createPortalPart, PORTAL_MIGRATIONS } = await import('./part.ts');
  const store = await openIsolatedPgliteStore('portal');
  await migrate(store, PORTAL_MIGRATIONS);
  const fakes = await fakePortalOptions(DE_GROOT.bsn);
  const app = await mountForTest(createPortalPart({ ...fakes.options, ...o.options }), { store, settings: o.settings ?? {} });
  return {
    app,
    store,
    fakes,
    async citizen(lang) {
      const jar = new CookieJar();
      if (lang) jar.take(await app.inject({ url: `/?lang=${lang}` }));
      const start = await app.inject({ url: '/citizen/login', headers: { cookie: jar.header() } });
      jar.take(start);
      const state = new URL(String(start.headers.location)).searchParams.get('state');
      const back = await app.inject({ url: `/citizen/callback?code=good-code&state=${state}`, headers: { cookie: jar.header() } });
      if (back.headers.location !== '/citizen/data') throw new Error(`the citizen login ended at ${back.headers.location} (${back.statusCode})`);
      jar.take(back);
      return jar;
    },
    async close() {
      await app.close();
      await fakes.accessLog.close();
      await store.close();
    },
  };
}
