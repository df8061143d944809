import { spawn } from 'node:child_process';
import { defaultAgreements } from '../src/trust/agreements/default-agreements.ts';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, request } from 'undici';
import { testBsn } from '../src/kit/identifiers/bsn.ts';
import { SYSTEM } from '../src/kit/identifiers/systems.ts';
import { cpuSince, cpuSnapshot } from './lib/cpu.ts';
import { percentile } from './lib/report.ts';

const benchAgreements = defaultAgreements();

// NVI lookups at 32 concurrent callers through the full HTTP path (mutual TLS, access token,
// PRS-token decryption, unblinding, keyed hash, index) against raw primary-key lookups through
// `pg` on the same table in the same run. The table is bulk-loaded straight into PostgreSQL:
// lookup patients get their real stored pseudonyms (computed here with the PRS seed and the NVI
// index key, no PRS round trips); the remaining rows are filler whose subject hashes are
// pseudorandom 32-byte strings, which is what HMAC outputs look like.
// The NVI runs its per-lookup crypto in a worker-thread pool (--workers auto = cores, N, or off).
// PRS tokens are sealed to the NVI's X25519 key (ECDH-ES+A256KW, design §5); --jwe rsa measures the
// older RSA-OAEP-256 form. --instances 2 also starts two NVI processes (as `ldn serve nvi` would)
// behind HAProxy in TCP passthrough and measures, in interleaved rounds, one instance behind it
// against both: the scaling factor from one to two instances (on this 2-core machine the load
// generator, PostgreSQL and both instances share the same cores, so expect well under 2).
//   npm run bench -- nvi [--rows 10000000] [--patients 2000] [--duration 10] [--concurrency 32]
//                        [--workers auto|N|off] [--jwe x25519|rsa] [--instances 1|2] [--rounds 2]
//                        [--database-url postgres://…] [--keep]
// Run time (2-core machine, local PostgreSQL, measured): ~45 s in total for --rows 1000000 (8 s
// load), ~1 min 45 s for the default 10 000 000 (64 s load); the rest is set-up and measuring.
// --instances 2 adds 2 × rounds × (duration + 1 s) plus two process starts.

const WORKER_FLAG = '--nvi-load-worker';
const MEASURE_START = '#measuring';
const MEASURE_END = '#measured';
const CATEGORIES = ['MedicationUse', 'AllergyIntolerance', 'Condition', 'ObservationLaboratory', 'Alert', 'MedicationRequest', 'Imaging', 'Procedure'];
const EXCHANGE = 'acute-zorg';

interface LoadResult {
  count: number;
  seconds: number;
  non2xx: number;
  latenciesMs: number[];
  /** CPU of the process that generated the load, during the measured loop (ms). */
  loadCpuMs?: number;
}

function arg(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function num(args: string[], flag: string, fallback: number): number {
  const v = arg(args, flag);
  if (v === undefined) return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number`);
  return n;
}

function line(figure: string, value: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench: 'nvi', figure, value: Number(value.toFixed(4)), ...extra })}\n`);
}

/** Closed-loop load: `concurrency` callers, each sending the next request as soon as the last returns. */
async function closedLoop(concurrency: number, durationS: number, one: (i: number) => Promise<boolean>): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let non2xx = 0;
  let next = 0;
  const start = performance.now();
  const end = start + durationS * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const ok = await one(next++);
        latenciesMs.push(performance.now() - t);
        if (!ok) non2xx++;
      }
    }),
  );
  return { count: latenciesMs.length, seconds: (performance.now() - start) / 1000, non2xx, latenciesMs };
}

/** Child-process entry: HTTP load over mTLS so the load generator does not share the server's event loop. */
async function workerMain(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const input = JSON.parse(text) as {
    urls: string[]; accessToken: string; cert: string; key: string; ca: string; concurrency: number; duration: number; warmup: number;
  };
  const agent = new Agent({ connect: { cert: input.cert, key: input.key, ca: input.ca }, connections: input.concurrency });
  const headers = { authorization: `Bearer ${input.accessToken}`, 'x-ldn-exchange': EXCHANGE, accept: 'application/fhir+json' };
  const one = async (i: number) => {
    const r = await request(input.urls[i % input.urls.length], { dispatcher: agent, headers });
    await r.body.text();
    return r.statusCode === 200;
  };
  await closedLoop(input.concurrency, input.warmup, one);
  // Markers around the measured loop let the parent take its own CPU readings over the same span.
  process.stdout.write(`${MEASURE_START}\n`);
  const cpu = process.cpuUsage();
  const result: LoadResult = await closedLoop(input.concurrency, input.duration, one);
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${MEASURE_END}\n`);
  result.loadCpuMs = (used.user + used.system) / 1000;
  await agent.close();
  process.stdout.write(JSON.stringify(result));
}

/** The load worker's result, with this process's and PostgreSQL's CPU over its measured loop. */
function runWorker(payload: unknown): Promise<LoadResult & { serverCpuMs?: number; postgresCpuMs?: number }> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    // The payload (pseudonym tokens) is too large for argv: it goes over stdin.
    const child = spawn(process.execPath, ['--import', 'tsx', file, WORKER_FLAG], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end(JSON.stringify(payload));
    let out = '';
    let from: ReturnType<typeof cpuSnapshot> | undefined;
    let used: ReturnType<typeof cpuSince> | undefined;
    child.stdout.on('data', (d) => {
      out += d;
      if (!from && out.includes(MEASURE_START)) from = cpuSnapshot();
      if (from && !used && out.includes(MEASURE_END)) used = cpuSince(from);
    });
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load worker exited ${code}`));
      const result = JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as LoadResult;
      resolve({ ...result, serverCpuMs: used?.selfMs, postgresCpuMs: used?.postgresMs });
    });
  });
}

export async function run(args: string[]): Promise<void> {
  const rows = num(args, '--rows', 10_000_000);
  const patients = Math.min(num(args, '--patients', 2000), Math.max(1, Math.floor(rows / 3)));
  const duration = num(args, '--duration', 10);
  const concurrency = num(args, '--concurrency', 32);
  const workersArg = arg(args, '--workers') ?? 'auto';
  const cryptoWorkers = workersArg === 'auto' || workersArg === 'off' ? workersArg : num(args, '--workers', 0);
  const databaseUrl = arg(args, '--database-url') ?? process.env.LDN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `nvi_bench_${randomBytes(3).toString('hex')}`;
  const jweForm = arg(args, '--jwe') ?? 'x25519';
  if (jweForm !== 'x25519' && jweForm !== 'rsa') throw new Error('--jwe must be x25519 or rsa');
  const instances = num(args, '--instances', 1);
  if (instances !== 1 && instances !== 2) throw new Error('--instances must be 1 or 2');
  const rounds = Math.max(1, num(args, '--rounds', 2));

  // Imports that pull in the service stack stay inside run(): the load worker needs none of them.
  const { default: cliProgress } = await import('cli-progress');
  const { createService } = await import('../src/kit/http/service.ts');
  const { openStore } = await import('../src/kit/store/open.ts');
  const { openPgliteStore } = await import('../src/kit/store/pglite.ts');
  const { migrate } = await import('../src/kit/store/migrate.ts');
  const { createTestPki, staticNetwork } = await import('../src/kit/testing/test-pki.ts');
  const { PartClient } = await import('../src/kit/http/client.ts');
  const { createPrsPart } = await import('../src/pseudonyms/part.ts');
  const { evaluateForRecipient } = await import('../src/pseudonyms/evaluate.ts');
  const { pseudonymToken } = await import('../src/pseudonyms/holder.ts');
  const { KeyRing } = await import('../src/pseudonyms/keyring.ts');
  const { pseudonymInput } = await import('../src/pseudonyms/input.ts');
  const { deriveOprfKey } = await import('../src/pseudonyms/oprf.ts');
  const { keyLabel } = await import('../src/pseudonyms/keyring.ts');
  const { ristrettoScalarMult } = await import('../src/pseudonyms/sodium.ts');
  const { ristretto255_hasher } = await import('@noble/curves/ed25519.js');
  const { poolSizeFrom } = await import('../src/referral-index/subject-hash-pool.ts');
  const { createNviPart } = await import('../src/referral-index/part.ts');
  const { nviMigrations } = await import('../src/referral-index/migrations.ts');
  const { hashElement, NVI_RECIPIENT_SCOPE } = await import('../src/referral-index/subject-hash.ts');
  const auth = await import('../src/trust/auth/index.ts');
  const { generateRecipientJwk } = await import('../src/pseudonyms/recipient-jwk.ts');
  const { exportJWK, generateKeyPair } = await import('jose');
  // One JWE key for every NVI instance (the setting an operator gives each instance).
  const nviJwk = jweForm === 'rsa' ? await exportJWK((await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true })).privateKey) : generateRecipientJwk();

  const pool = new pg.Pool({ connectionString: databaseUrl, max: concurrency });
  await pool.query('SELECT 1').catch((err) => {
    throw new Error(`the NVI bench needs PostgreSQL at ${databaseUrl}: ${(err as Error).message}`);
  });

  const nviUra = '90000001';
  const recipient = `ura:${nviUra}`;
  const prsSeed = new Uint8Array(randomBytes(32));
  const indexKey = randomBytes(32);
  const nviSettings = { KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'), NVI_INDEX_KEY: indexKey.toString('hex'), NVI_PRS_PRIVATE_JWK: JSON.stringify(nviJwk) };
  const pki = await createTestPki();
  const network = staticNetwork({});
  const services: Array<{ close(): Promise<void> }> = [];

  // Trust AS (tokens) and PRS on an in-memory PGlite; the NVI on PostgreSQL in a throw-away schema.
  const asStore = await openPgliteStore('trust');
  await migrate(asStore, auth.authMigrations);
  const signingKey = await auth.loadOrCreateSigningKey(asStore);
  const trust = await createService(
    {
      name: 'trust', schema: 'trust', migrations: [], publicPaths: auth.AUTHORIZATION_SERVER_PUBLIC_PATHS,
      async register(app, ctx) {
        await auth.registerTokenEndpoint(app, { issuer: () => ctx.baseUrl, signingKey, store: ctx.store, scopesFor: async (_c, requested) => requested.filter((s) => s === 'nvi:read' || s === 'prs:eval') });
      },
    },
    { tls: await pki.identity(nviUra, { name: 'trust' }), network, store: asStore },
  );
  network.set('trust', trust.url);
  const prsStore = await openPgliteStore('prs');
  const prsPart = createPrsPart({ seed: prsSeed });
  await migrate(prsStore, prsPart.migrations);
  const prs = await createService(prsPart, { tls: await pki.identity(nviUra, { name: 'prs' }), network, store: prsStore });
  network.set('prs', prs.url);
  const nviStore = await openStore({ schema, databaseUrl, poolSize: concurrency }, nviMigrations);
  const nviTls = await pki.identity(nviUra, { name: 'nvi' });
  // The caller's trust-register entry (which the NVI checks before honouring the exchange it
  // names, and caches for 30 s): a hospital qualified for acute care, as the register would say.
  const standing = { organizationType: 'V4', qualifications: [{ qualification: EXCHANGE, validFrom: '2020-01-01T00:00:00Z', validUntil: null }] };
  const nvi = await createService(createNviPart({ cryptoWorkers, participant: async () => standing, agreements: async () => benchAgreements }), {
    tls: nviTls, network, store: nviStore, settings: nviSettings,
  });
  services.push(nvi, prs, trust);

  try {
    // 1. Bulk load. Filler first, generated inside PostgreSQL in chunks (SHA-256 of a counter and a salt).
    const filler = Math.max(0, rows - patients * 3);
    const bar = new cliProgress.SingleBar({ format: 'loading referrals [{bar}] {percentage}% {value}/{total} rows, eta {eta}s', hideCursor: true, stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(rows, 0);
    const salt = randomBytes(16);
    const chunk = 100_000;
    const table = `${schema}.referrals`;
    const loadStarted = performance.now();
    // Bulk-load without indexes and build them once afterwards (much faster than 10 M random
    // b-tree inserts). The definitions are read from the catalog, so they stay the migration's own.
    const ddl = (
      await pool.query(
        `SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s', $1::text, conname, pg_get_constraintdef(oid)) AS sql FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u')
         UNION ALL SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)`,
        [table],
      )
    ).rows.map((r: { sql: string }) => r.sql);
    const dropped = (await pool.query(`SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u')`, [table])).rows as Array<{ conname: string }>;
    for (const { conname } of dropped) await pool.query(`ALTER TABLE ${table} DROP CONSTRAINT "${conname}"`);
    const plainIndexes = (
      await pool.query(`SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = indexrelid)`, [table])
    ).rows as Array<{ name: string }>;
    for (const { name } of plainIndexes) await pool.query(`DROP INDEX ${name.includes('.') ? name : `${schema}.${name}`}`);
    for (let from = 0; from < filler; from += chunk) {
      const to = Math.min(filler, from + chunk);
      await pool.query(
        `INSERT INTO ${table} (subject_hash, custodian, category, id, key_version, source_client)
         SELECT sha256($1::bytea || int8send(i)), (90100000 + i % 5000)::text, ($2::text[])[1 + i % ${CATEGORIES.length}], gen_random_uuid(), 1, 'bench-filler'
         FROM generate_series($3::bigint, $4::bigint) AS i`,
        [salt, CATEGORIES, from, to - 1],
      );
      bar.update(to);
    }
    bar.stop();
    process.stderr.write('building indexes …\n');
    for (const sql of ddl) await pool.query(sql);
    bar.start(rows, filler);
    // Then the lookup patients with their real pseudonyms: HMAC(index key, k·HashToGroup(input)).
    const k = deriveOprfKey(prsSeed, keyLabel(recipient, NVI_RECIPIENT_SCOPE, 1)).secretKey;
    const dst = new TextEncoder().encode('HashToGroup-OPRFV1-\x00-ristretto255-SHA512');
    const bsns = Array.from({ length: patients }, (_, i) => testBsn(5_000_000 + i));
    const hashes: Buffer[] = [];
    for (let p = 0; p < patients; p += 500) {
      const batch = bsns.slice(p, p + 500).map((bsn) => {
        const element = ristrettoScalarMult(k, ristretto255_hasher.hashToCurve(pseudonymInput(bsn, recipient, NVI_RECIPIENT_SCOPE), { DST: dst }).toBytes());
        return hashElement(indexKey, element);
      });
      hashes.push(...batch);
      const values: unknown[] = [];
      const tuples: string[] = [];
      batch.forEach((h, i) => {
        for (let c = 0; c < 3; c++) {
          const n = values.length;
          values.push(h, `9000010${1 + ((p + i + c) % 6)}`, CATEGORIES[(p + i + c * 3) % CATEGORIES.length]);
          tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, gen_random_uuid(), 1, 'bench-patient')`);
        }
      });
      await pool.query(`INSERT INTO ${table} (subject_hash, custodian, category, id, key_version, source_client) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`, values);
      bar.update(filler + Math.min(patients, p + 500) * 3);
    }
    bar.stop();
    await pool.query(`ANALYZE ${table}`);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const [{ n }] = (await pool.query(`SELECT count(*)::bigint AS n FROM ${table}`)).rows as Array<{ n: string }>;

    // 2. Pseudonym tokens as holders would send them (in-process PRS evaluation; valid for 5 minutes).
    const prsClientTls = await pki.identity('90000101');
    const prsKeyring = new KeyRing({ seed: prsSeed, versions: [1] });
    const nviKey = await (await import('../src/pseudonyms/recipient-keys.ts')).recipientKeyLookup(prsStore)(recipient, NVI_RECIPIENT_SCOPE);
    if (!nviKey) throw new Error('the NVI did not register its key at the PRS');
    const tokenCount = Math.min(patients, 1000);
    const urls: string[] = [];
    for (let i = 0; i < tokenCount; i++) {
      const token = await pseudonymToken(bsns[i], recipient, NVI_RECIPIENT_SCOPE, (req) => evaluateForRecipient(req, { keyring: prsKeyring, recipientKey: async () => nviKey }));
      urls.push(`${nvi.url}/List?subject:identifier=${encodeURIComponent(`${SYSTEM.nviIdentifier}|${token}`)}`);
    }

    // 3. Full HTTP path from a separate process.
    const tokens = new auth.TrustTokenProvider({ tls: prsClientTls, ura: '90000101', tokenEndpoint: `${trust.url}/oauth/token` });
    const accessToken = await tokens.token(nvi.url, 'nvi:read');
    await tokens.close();
    const sanity = new PartClient({ tls: prsClientTls, maxRetries: 0 });
    const probe = await sanity.call<{ total?: number }>(urls[0], { headers: { authorization: `Bearer ${accessToken}`, 'x-ldn-exchange': EXCHANGE } });
    await sanity.close();
    if (probe.status !== 200 || !probe.body.total) throw new Error(`sanity lookup failed: ${probe.status} ${probe.text.slice(0, 200)}`);
    const http = await runWorker({ urls, accessToken, cert: prsClientTls.cert, key: prsClientTls.key, ca: prsClientTls.ca, concurrency, duration, warmup: 2 });
    if (http.non2xx > 0) throw new Error(`${http.non2xx} lookups were not 200`);

    // 4. Raw primary-key lookups through pg on the same table, same concurrency.
    const allowed = CATEGORIES.slice(0, 6);
    const raw = async () =>
      closedLoop(concurrency, duration, async (i) => {
        await pool.query(`SELECT id, custodian, category, source_client, created FROM ${table} WHERE subject_hash = $1 AND category = ANY($2::text[])`, [hashes[i % tokenCount], allowed]);
        return true;
      });
    await closedLoop(concurrency, 2, async (i) => {
      await pool.query(`SELECT 1 FROM ${table} WHERE subject_hash = $1`, [hashes[i % tokenCount]]);
      return true;
    });
    const rawCpu = cpuSnapshot();
    const rawResult = await raw();
    const rawUsed = cpuSince(rawCpu);

    const sortedHttp = [...http.latenciesMs].sort((a, b) => a - b);
    const sortedRaw = [...rawResult.latenciesMs].sort((a, b) => a - b);
    const httpRate = http.count / http.seconds;
    const rawRate = rawResult.count / rawResult.seconds;
    line('rows', Number(n), { patientsWithRealPseudonyms: patients, loadSeconds: Math.round(loadSeconds) });
    line('http_lookups_per_s', httpRate, { unit: 'req/s', concurrency, cryptoWorkers: poolSizeFrom(cryptoWorkers), cores: availableParallelism(), jwe: jweForm === 'rsa' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW X25519' });
    line('raw_pk_lookups_per_s', rawRate, { unit: 'query/s', concurrency });
    line('lookups_per_s_ratio', httpRate / rawRate, { ceiling: 'raw pg primary-key lookups, same table, same run', target: 0.3 });
    // CPU per lookup (ms): the NVI's process (this one: the NVI and its crypto threads; the PRS and
    // trust parts sit idle), PostgreSQL, and the load generator; raw: this process's pg client and PostgreSQL.
    const perLookup = (ms: number | undefined, count: number) => (ms === undefined ? Number.NaN : ms / count);
    line('http_cpu_ms_per_lookup', perLookup(http.serverCpuMs, http.count), {
      unit: 'ms', postgres: Number(perLookup(http.postgresCpuMs, http.count).toFixed(4)), loadGenerator: Number(perLookup(http.loadCpuMs, http.count).toFixed(4)),
    });
    line('raw_cpu_ms_per_lookup', perLookup(rawUsed.selfMs, rawResult.count), { unit: 'ms', postgres: Number(perLookup(rawUsed.postgresMs, rawResult.count).toFixed(4)) });
    line('http_p50_ms', percentile(sortedHttp, 50), { unit: 'ms' });
    line('http_p99_ms', percentile(sortedHttp, 99), { unit: 'ms', target: 50 });
    line('raw_p50_ms', percentile(sortedRaw, 50), { unit: 'ms' });
    line('raw_p99_ms', percentile(sortedRaw, 99), { unit: 'ms' });

    // 5. Several instances behind HAProxy (TCP passthrough): one of them, then both, interleaved.
    if (instances > 1) {
      const { freePort, haproxyAvailable, HAPROXY, startHaproxy } = await import('./lib/haproxy.ts');
      const { spawnNviInstance } = await import('./lib/nvi-instance.ts');
      if (!haproxyAvailable()) {
        process.stderr.write(`!! SKIPPED --instances ${instances}: no haproxy at ${HAPROXY} (apt-get install haproxy, or set LDN_HAPROXY)\n`);
        return;
      }
      const lbPort = await freePort();
      const lbUrl = `https://127.0.0.1:${lbPort}`;
      const started = await Promise.all(
        Array.from({ length: instances }, () =>
          spawnNviInstance({
            tls: nviTls, trustUrl: trust.url, prsUrl: prs.url, publicUrl: lbUrl, databaseUrl, schema,
            poolSize: concurrency, cryptoWorkers, settings: nviSettings, standing,
          }),
        ),
      );
      services.unshift(...started.map((i) => ({ close: i.stop })));
      const lbTokens = new auth.TrustTokenProvider({ tls: prsClientTls, ura: '90000101', tokenEndpoint: `${trust.url}/oauth/token` });
      const lbToken = await lbTokens.token(lbUrl, 'nvi:read');
      await lbTokens.close();
      const lbUrls = urls.map((u) => lbUrl + u.slice(nvi.url.length));
      const byCount = new Map<number, LoadResult[]>([[1, []], [instances, []]]);
      for (let r = 0; r < rounds; r++) {
        for (const n of [1, instances]) {
          const lb = await startHaproxy(lbPort, started.slice(0, n).map((i) => ({ host: '127.0.0.1', port: i.port })));
          try {
            const res = await runWorker({ urls: lbUrls, accessToken: lbToken, cert: prsClientTls.cert, key: prsClientTls.key, ca: prsClientTls.ca, concurrency, duration, warmup: 1 });
            if (res.non2xx > 0) throw new Error(`${res.non2xx} lookups through HAProxy to ${n} instance(s) were not 200`);
            byCount.get(n)?.push(res);
          } finally {
            await lb.stop();
          }
        }
      }
      const rate = (rs: LoadResult[]) => rs.reduce((a, x) => a + x.count, 0) / rs.reduce((a, x) => a + x.seconds, 0);
      const lat = (rs: LoadResult[]) => rs.flatMap((x) => x.latenciesMs).sort((a, b) => a - b);
      const one = byCount.get(1) ?? [];
      const many = byCount.get(instances) ?? [];
      line('lb_1_instance_lookups_per_s', rate(one), { unit: 'req/s', via: 'haproxy tcp passthrough', rounds, p50_ms: percentile(lat(one), 50), p99_ms: percentile(lat(one), 99) });
      line(`lb_${instances}_instances_lookups_per_s`, rate(many), { unit: 'req/s', via: 'haproxy tcp passthrough', rounds, p50_ms: percentile(lat(many), 50), p99_ms: percentile(lat(many), 99) });
      line(`scaling_1_to_${instances}_instances`, rate(many) / rate(one), { ceiling: 'one instance behind the same load balancer, same run, interleaved rounds', ideal: instances, cores: availableParallelism() });
      line(`lb_${instances}_instances_vs_raw_ratio`, rate(many) / rawRate, { ceiling: 'raw pg primary-key lookups, same table, same run' });
    }
  } finally {
    for (const s of services) await s.close().catch(() => {});
    await nviStore.close().catch(() => {});
    await prsStore.close().catch(() => {});
    await asStore.close().catch(() => {});
    if (!args.includes('--keep')) await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await pool.end();
  }
}

if (process.argv.includes(WORKER_FLAG)) await workerMain();
