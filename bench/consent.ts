import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import pg from 'pg';
import { Agent, request } from 'undici';
import { CachedConsentOracle, HttpConsentOracle } from '../src/consent/pdp/oracle.ts';
import { createPdp } from '../src/consent/pdp/evaluate.ts';
import type { PdpInput } from '../src/consent/pdp/types.ts';
import { CONSENT_MIGRATIONS } from '../src/consent/migrations.ts';
import { createConsentPart } from '../src/consent/part.ts';
import { CURRENT_BY_BSN_SQL } from '../src/consent/registry.ts';
import { PartClient } from '../src/kit/http/client.ts';
import { createService } from '../src/kit/http/service.ts';
import { testBsn } from '../src/kit/identifiers/bsn.ts';
import { createLogger } from '../src/kit/log.ts';
import type { TlsIdentity } from '../src/kit/part.ts';
import { migrate } from '../src/kit/store/migrate.ts';
import { openStore } from '../src/kit/store/open.ts';
import { openPgliteStore } from '../src/kit/store/pglite.ts';
import { createTestPki, staticNetwork } from '../src/kit/testing/test-pki.ts';
import { defaultAgreements } from '../src/trust/agreements/default-agreements.ts';
import * as auth from '../src/trust/auth/index.ts';
import { argValue, figure, percentile } from './lib/report.ts';

// Consent figures on PostgreSQL, one JSON line each:
//  1. generation of --citizens (default 1 000 000) citizens with 3 consents each (reused when present);
//  2. closed-question decisions/s over the production path (HTTPS + mutual TLS + a certificate-bound
//     consent:read access token from a small trust token endpoint, verified by the consent part
//     against the trust part's JWKS), as a ratio to a raw indexed SELECT of a citizen's consents
//     through pg; both driven from a separate load process with the same concurrency, in
//     alternating one-second slices (target ratio ≥ 0.3);
//  3. in-process PDP decisions/s with a warm consent cache (target ≥ 20 000/s); the cache is
//     warmed through the same token-protected HTTP path.
// Options: --citizens N, --database-url URL, --concurrency C (32), --seconds S per path (10), --fresh.

const BENCH = 'consent';
const HOLDER = '90000102';
const CONSENTS_PER_CITIZEN = 3;
const CATEGORIES = ['AllergyIntolerance', 'MedicationUse', 'Condition', 'ObservationLaboratory', 'Alert'];
const REQUESTERS = ['90000101', '90000103', '90000104', '90000105'];
/** The scope the consent part requires for the closed question. */
const CLOSED_QUESTION_SCOPE = 'consent:read';

function stringArg(args: string[], flag: string, fallback: string): string {
  const i = args.indexOf(flag);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

/** N distinct valid BSNs, the same in every process (testBsn skips seeds onto the next one). */
function citizenBsns(n: number): string[] {
  const out: string[] = [];
  for (let seed = 0; out.length < n; seed++) {
    const bsn = testBsn(seed);
    if (out[out.length - 1] !== bsn) out.push(bsn);
  }
  return out;
}

/** Small deterministic PRNG so every run builds the same registry. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const lit = (xs: string[]) => `{${xs.join(',')}}`;

async function generate(databaseUrl: string, schema: string, citizens: number, fresh: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    if (fresh) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const have = await admin
      .query(`SELECT citizens FROM ${schema}.bench_meta`)
      .then((r) => Number(r.rows[0]?.citizens ?? -1))
      .catch(() => -1);
    if (have === citizens) {
      process.stderr.write(`reusing ${schema} (${citizens} citizens)\n`);
      return;
    }
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await admin.end();
  }
  const store = await openStore({ schema, databaseUrl, poolSize: 4 }, CONSENT_MIGRATIONS);
  const started = Date.now();
  try {
    await store.exec('DROP INDEX consent_current_bsn');
    const bsns = citizenBsns(citizens);
    const rnd = prng(42);
    const bar = new cliProgress.SingleBar({ format: 'consents {bar} {percentage}% {value}/{total} citizens {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(citizens, 0);
    const BATCH = 10_000;
    for (let from = 0; from < citizens; from += BATCH) {
      const cols: string[][] = [[], [], [], [], [], [], []];
      const push = (id: string, bsn: string, provision: string, reqUras: string[], reqTypes: string[], cats: string[]) => {
        cols[0].push(id);
        cols[1].push(bsn);
        cols[2].push(provision);
        cols[3].push(lit(reqUras));
        cols[4].push(lit(reqTypes));
        cols[5].push(lit(cats));
      };
      for (let i = from; i < Math.min(citizens, from + BATCH); i++) {
        const bsn = bsns[i];
        const r = rnd();
        // A general choice, an objection for one data category, and a choice about one provider.
        if (r < 0.6) push(`c${i}a`, bsn, 'permit', [], [], []);
        else if (r < 0.7) push(`c${i}a`, bsn, 'deny', [], [], []);
        else push(`c${i}a`, bsn, 'permit', [], ['V4'], []);
        push(`c${i}b`, bsn, 'deny', [], [], [CATEGORIES[Math.floor(rnd() * CATEGORIES.length)]]);
        push(`c${i}c`, bsn, rnd() < 0.5 ? 'permit' : 'deny', [REQUESTERS[Math.floor(rnd() * REQUESTERS.length)]], [], []);
      }
      await store.query(
        `INSERT INTO consent_current (id, version, bsn, status, provision, requester_uras, requester_types, data_categories)
         SELECT id, 1, bsn, 'active', provision, ru::text[], rt::text[], dc::text[]
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, bsn, provision, ru, rt, dc)`,
        cols.slice(0, 6),
      );
      bar.update(Math.min(citizens, from + BATCH));
    }
    bar.stop();
    process.stderr.write('indexing and writing the version history …\n');
    await store.exec('CREATE INDEX consent_current_bsn ON consent_current (bsn)');
    await store.exec(`INSERT INTO consent_history (id, version, bsn, resource, recorded_by_kind)
      SELECT id, version, bsn, jsonb_build_object('resourceType', 'Consent', 'id', id, 'status', status,
        'provision', jsonb_build_object('type', provision)), 'citizen' FROM consent_current`);
    await store.exec('ANALYZE consent_current');
    await store.exec(`CREATE TABLE bench_meta (citizens int NOT NULL); INSERT INTO bench_meta VALUES (${citizens})`);
  } finally {
    await store.close();
  }
  figure(BENCH, 'generate-seconds', (Date.now() - started) / 1000, { citizens, consents: citizens * CONSENTS_PER_CITIZEN });
}

interface WorkerArgs {
  url: string;
  databaseUrl: string;
  schema: string;
  citizens: number;
  concurrency: number;
  seconds: number;
  tls: TlsIdentity;
  /** consent:read access token bound to `tls` (valid ≤ 5 minutes: fetched just before the run). */
  accessToken: string;
}

interface WorkerResult {
  perSecond: number;
  count: number;
  errors: number;
  p50ms: number;
  p99ms: number;
}

/** Drives `task` with `concurrency` callers for `ms`; returns completed calls, errors and sampled latencies. */
async function drive(task: () => Promise<void>, concurrency: number, ms: number, latencies: number[]): Promise<{ count: number; errors: number; seconds: number }> {
  let count = 0;
  let errors = 0;
  const until = Date.now() + ms;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        const t0 = process.hrtime.bigint();
        try {
          await task();
        } catch {
          errors += 1;
        }
        count += 1;
        if (count % 10 === 0) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  return { count, errors, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/**
 * The load process: drives the raw SELECT and the HTTP endpoint with the same concurrency, in
 * alternating one-second slices, so drifting load on a shared machine hits both alike.
 */
async function worker(a: WorkerArgs): Promise<Record<'sql' | 'http', WorkerResult>> {
  const bsns = citizenBsns(a.citizens);
  const rnd = prng(7);
  const pick = () => bsns[Math.floor(rnd() * bsns.length)];
  const agent = new Agent({ connect: { cert: a.tls.cert, key: a.tls.key, ca: a.tls.ca }, connections: a.concurrency });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${a.accessToken}` };
  const pool = new pg.Pool({ connectionString: a.databaseUrl, max: a.concurrency, options: `-c search_path=${a.schema}` });
  const url = `${a.url}/$closed-question`;
  let n = 0;
  const tasks = {
    http: async () => {
      n += 1;
      const body = JSON.stringify({
        bsn: pick(), holderUra: HOLDER, holderType: 'V4', requesterUra: REQUESTERS[n % REQUESTERS.length], requesterType: 'V4',
        requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002', exchange: 'acute-zorg',
        dataCategory: CATEGORIES[n % CATEGORIES.length],
      });
      const res = await request(url, { method: 'POST', body, headers, dispatcher: agent });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    },
    sql: async () => {
      await pool.query(CURRENT_BY_BSN_SQL, [pick()]);
    },
  };
  const totals = { sql: { count: 0, errors: 0, seconds: 0, lat: [] as number[] }, http: { count: 0, errors: 0, seconds: 0, lat: [] as number[] } };
  // Warm-up: connections, plans, caches.
  for (const t of Object.values(tasks)) await drive(t, a.concurrency, 500, []);
  const slices = Math.max(1, Math.round(a.seconds));
  for (let i = 0; i < slices; i++) {
    for (const mode of ['sql', 'http'] as const) {
      const r = await drive(tasks[mode], a.concurrency, 1000, totals[mode].lat);
      totals[mode].count += r.count;
      totals[mode].errors += r.errors;
      totals[mode].seconds += r.seconds;
    }
  }
  await agent.close();
  await pool.end();
  const result = (t: typeof totals.sql): WorkerResult => {
    t.lat.sort((x, y) => x - y);
    return { perSecond: t.count / t.seconds, count: t.count, errors: t.errors, p50ms: percentile(t.lat, 50), p99ms: percentile(t.lat, 99) };
  };
  return { sql: result(totals.sql), http: result(totals.http) };
}

function runWorker(a: WorkerArgs): Promise<Record<'sql' | 'http', WorkerResult>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LDN_CONSENT_BENCH_WORKER: JSON.stringify(a) },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load worker exited ${code}`))));
  });
}

async function pdpFigure(consentUrl: string, client: PartClient, citizens: number): Promise<void> {
  const doc = defaultAgreements();
  const oracle = new CachedConsentOracle(new HttpConsentOracle(client, () => consentUrl), { ttlMs: 10 * 60_000 });
  const pdp = createPdp({ agreements: () => doc, consent: oracle });
  const patients = citizenBsns(Math.min(citizens, 1000));
  const inputs: PdpInput[] = patients.map((bsn, i) => ({
    subject: { scope: 'acute-zorg', organization_ura: REQUESTERS[i % REQUESTERS.length], organization_facility_type: 'V4', user_id: '900001011', user_role: '01.045', client_qualifications: ['acute-zorg'] },
    request: { method: 'GET', path: '/fhir/AllergyIntolerance', query_params: { patient: `Patient/${i}` } },
    context: { data_holder_organization_id: HOLDER, data_holder_facility_type: 'V4', patient_bsn: bsn, purpose_of_use: 'TREAT', exchange: 'acute-zorg' },
  }));
  for (const input of inputs) await pdp.evaluate(input); // warm the cache
  let allowed = 0;
  const N = 200_000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if ((await pdp.evaluate(inputs[i % inputs.length])).allow) allowed += 1;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  figure(BENCH, 'pdp-decisions-per-second-warm-cache', N / seconds, { target: 20_000, patients: inputs.length, allowedShare: Number((allowed / N).toFixed(3)) });
}

/** A trust authorisation server reduced to its token endpoint and JWKS (in-memory store). */
async function startTrust(tls: TlsIdentity, network: ReturnType<typeof staticNetwork>) {
  const asStore = await openPgliteStore('trust');
  await migrate(asStore, auth.authMigrations);
  const signingKey = await auth.loadOrCreateSigningKey(asStore);
  const svc = await createService(
    {
      name: 'trust',
      schema: 'trust',
      migrations: [],
      publicPaths: auth.AUTHORIZATION_SERVER_PUBLIC_PATHS,
      async register(app, ctx) {
        await auth.registerTokenEndpoint(app, {
          issuer: () => ctx.baseUrl,
          signingKey,
          store: ctx.store,
          scopesFor: async (_client, requested) => requested.filter((s) => s === CLOSED_QUESTION_SCOPE),
        });
      },
    },
    { tls, network, store: asStore, log: createLogger('trust', { level: 'warn' }) },
  );
  const close = async () => {
    await svc.close();
    await asStore.close();
  };
  return { url: svc.url, close };
}

/** One closed question over `client`; fails the bench unless the path answers as it should. */
async function probe(url: string, client: PartClient, authorization: string | undefined, expected: number): Promise<void> {
  const res = await client.call(`${url}/$closed-question`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: { bsn: citizenBsns(1)[0], holderUra: HOLDER, holderType: 'V4', requesterUra: REQUESTERS[0], requesterType: 'V4', requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002' },
  });
  if (res.status !== expected) throw new Error(`probe ${authorization ? 'with' : 'without'} token: expected ${expected}, got ${res.status} ${res.text.slice(0, 200)}`);
}

export async function run(args: string[]): Promise<void> {
  const citizens = argValue(args, '--citizens', 1_000_000);
  const concurrency = argValue(args, '--concurrency', 32);
  const seconds = argValue(args, '--seconds', 10);
  const databaseUrl = stringArg(args, '--database-url', process.env.LDN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  const schema = `bench_consent_${citizens}`;
  await generate(databaseUrl, schema, citizens, args.includes('--fresh'));

  const pki = await createTestPki();
  const network = staticNetwork({});
  const trust = await startTrust(await pki.identity('90000001', { name: 'trust' }), network);
  network.set('trust', trust.url);
  const store = await openStore({ schema, databaseUrl, poolSize: concurrency }, CONSENT_MIGRATIONS);
  const doc = defaultAgreements();
  // tokens: default ('auto') = verify access tokens of the network's trust part, as in production.
  const svc = await createService(createConsentPart({ agreements: () => doc }), {
    tls: await pki.identity('90000002', { name: 'consent' }),
    network,
    store,
    log: createLogger('consent', { level: 'warn' }),
  });
  const holderTls = await pki.identity(HOLDER, { name: 'holder' });
  const tokens = new auth.TrustTokenProvider({ tls: holderTls, ura: HOLDER, tokenEndpoint: `${trust.url}/oauth/token` });
  const client = new PartClient({ tls: holderTls, maxRetries: 0, tokens });
  try {
    const accessToken = await tokens.token(svc.url, CLOSED_QUESTION_SCOPE);
    await probe(svc.url, client, undefined, 401);
    await probe(svc.url, client, `Bearer ${accessToken}`, 200);
    const common = { url: svc.url, databaseUrl, schema, citizens, concurrency, seconds, tls: holderTls, accessToken };
    const { sql, http } = await runWorker(common);
    if (http.errors > 0 || sql.errors > 0) throw new Error(`${http.errors} closed questions and ${sql.errors} selects failed`);
    figure(BENCH, 'raw-select-per-second', sql.perSecond, { concurrency, p50ms: sql.p50ms, p99ms: sql.p99ms, errors: sql.errors });
    figure(BENCH, 'closed-question-http-per-second', http.perSecond, {
      concurrency, p50ms: http.p50ms, p99ms: http.p99ms, errors: http.errors, citizens, consents: citizens * CONSENTS_PER_CITIZEN, path: 'mTLS + access token',
    });
    figure(BENCH, 'closed-question-http-to-raw-select-ratio', http.perSecond / sql.perSecond, { target: 0.3 });
    await pdpFigure(svc.url, client, citizens);
  } finally {
    await client.close();
    await tokens.close();
    await svc.close();
    await store.close();
    await trust.close();
  }
}

if (process.env.LDN_CONSENT_BENCH_WORKER) {
  const result = await worker(JSON.parse(process.env.LDN_CONSENT_BENCH_WORKER) as WorkerArgs);
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}
