import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/kit/log.ts';
import { startSandbox } from '../src/sandbox/sandbox.ts';
import { clinicianVerklaring } from '../src/sandbox/clinician-login.ts';
import { ceilingRate, startCeilingServer } from './lib/fanout-ceiling.ts';
import { HolderProbe } from './lib/holder-probe.ts';
import { benchCast, REQUESTER_URA } from './lib/overview-cast.ts';
import { bundleOutcomes, type OverviewAnswer, OverviewClient, setConsentMode, untilNoRefusals } from './lib/overview-client.ts';
import { argValue, figure, percentile } from './lib/report.ts';

// `npm run bench -- overview`: the data-integration function through the whole sandbox (real
// mTLS, tokens, PRS/NVI localisation, directory, consent, audit), one process.
// Ziekenhuis Veluwe asks; --holders generated organisations (own nodes, or --holders-per-node)
// each hold all --patients patients; every holder's EHR answers each request after --latency ms.
//
// Figures (one JSON line each):
//  - overhead = overview end-to-end time (as the requester's EHR sees it) − the slowest holder's
//    own time. "Own time" is measured at the holder: from its node's HTTPS server receiving the
//    batch call to the response being written — its EHR's latency and its node's work (token
//    check, policy, consent, audit). What is left is what the network adds on the requesting
//    side: localisation, addressing, tokens, TLS, transport, merge, requester audit. Measured on
//    sequential overviews so every holder span belongs to the overview it is subtracted from.
//    Target p95 ≤ 100 ms. Also reported: the stricter overhead that subtracts only the holder's
//    EHR time (so the holder node's own work counts as network overhead).
//  - overviews/s at --clinicians concurrent clinicians, against a ceiling measured in the same
//    run: the same fan-out of --holders mTLS POSTs to a bare node:https server that waits as long
//    as the median slowest holder took (ratio_matched), and one that waits --latency ms (ratio_latency).
//  - with one holder hanging: answer time − the fan-out deadline (target ≤ 100 ms).

const BENCH = 'overview';
/** Veluwe's clinicians whose roles take part in acute care (emergency physician, internist, nurse). */
const CLINICIANS = ['900001011', '900001012', '900001013'];

const progress = (s: string) => process.stderr.write(`[bench overview] ${s}\n`);

function stats(xs: number[]): { p50: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), max: s[s.length - 1] };
}

function complete(r: OverviewAnswer, holders: number): string | undefined {
  if (r.status !== 200) return `HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`;
  const outcomes = bundleOutcomes(r.body);
  if (outcomes.length > 0) return `holders reported: ${outcomes.map((o) => o.issue?.[0]?.diagnostics).join(' | ').slice(0, 300)} (${holders} holders)`;
  return undefined;
}

export async function run(args: string[]): Promise<void> {
  const patients = argValue(args, '--patients', 100);
  const holders = argValue(args, '--holders', 8);
  const requests = argValue(args, '--requests', 40);
  const latencyMs = argValue(args, '--latency', 50);
  const clinicians = argValue(args, '--clinicians', 8);
  const deadlineMs = argValue(args, '--deadline', 3000);
  const hangRequests = argValue(args, '--hang-requests', 5);
  const holdersPerNode = argValue(args, '--holders-per-node', 1);

  const world = benchCast({ holders, patients, holdersPerNode });
  const dir = mkdtempSync(join(tmpdir(), 'ldn-bench-overview-'));
  progress(`starting the sandbox: ${holders} holders on ${Math.ceil(holders / holdersPerNode)} nodes, ${patients} patients`);
  const t0 = performance.now();
  const sandbox = await startSandbox({
    manifestPath: join(dir, 'sandbox.json'),
    portBase: 0,
    cast: world.cast,
    seedConsents: false,
    overviewDeadlineMs: deadlineMs,
    log: createLogger('sandbox', { level: process.env.LDN_LOG_LEVEL ?? 'silent' }),
    progress: (s) => progress(`  ${s}`),
  });
  progress(`sandbox up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const requesterNode = world.cast.organizations.find((o) => o.ura === REQUESTER_URA)!.node;
  const probe = new HolderProbe(sandbox, requesterNode);
  const client = new OverviewClient(sandbox, REQUESTER_URA, { connections: clinicians * 2 });
  try {
    const verklaringen = await Promise.all(CLINICIANS.map((d) => clinicianVerklaring(sandbox, d)));
    // Generated patients have no recorded consent: the network runs opt-out for this benchmark.
    await setConsentMode(sandbox, 'opt-out');
    await untilNoRefusals(() => client.overview({ verklaring: verklaringen[0], bsn: world.patients[0] }));
    for (const h of world.holders) sandbox.ehr.faults.set(h.ura, { latencyMs });
    // Warm-up: every clinician's tokens at every holder, every connection pool.
    for (const [i, verklaring] of verklaringen.entries()) {
      const r = await client.overview({ verklaring, bsn: world.patients[i % world.patients.length] });
      const problem = complete(r, holders);
      if (problem) throw new Error(`warm-up overview incomplete: ${problem}`);
    }

    progress(`latency: ${requests} sequential overviews`);
    const e2e: number[] = [];
    const overhead: number[] = [];
    const strictOverhead: number[] = [];
    const slowestHolder: number[] = [];
    const before: number[] = [];
    const after: number[] = [];
    const calls: Record<string, { n: number; ms: number }> = {};
    let ehrCalls = 0;
    let responseBytes = 0;
    for (let i = 0; i < requests; i++) {
      probe.reset();
      const t0 = performance.now();
      const r = await client.overview({ verklaring: verklaringen[0], bsn: world.patients[i % world.patients.length] });
      const t = probe.take(t0, performance.now());
      const problem = complete(r, holders);
      if (problem) throw new Error(`overview ${i} incomplete: ${problem}`);
      if (t.holders !== holders) throw new Error(`expected ${holders} holder calls, saw ${t.holders}`);
      e2e.push(r.ms);
      slowestHolder.push(t.slowestNodeMs);
      overhead.push(r.ms - t.slowestNodeMs);
      strictOverhead.push(r.ms - t.slowestEhrMs);
      ehrCalls += t.ehrCallsPerHolder;
      responseBytes += t.meanResponseBytes;
      before.push(t.beforeFanOutMs);
      after.push(t.afterFanOutMs);
      for (const [k, v] of Object.entries(t.criticalCalls)) {
        const c = calls[k] ?? { n: 0, ms: 0 };
        c.n += v.n;
        c.ms += v.ms;
        calls[k] = c;
      }
    }
    const o = stats(overhead);
    const common = { holders, patients, latency_ms: latencyMs, requests };
    figure(BENCH, 'overhead_p50_ms', o.p50, { ...common, what: 'end-to-end − slowest holder node time' });
    figure(BENCH, 'overhead_p95_ms', o.p95, { ...common, target: '<= 100', max: Number(o.max.toFixed(1)) });
    const so = stats(strictOverhead);
    figure(BENCH, 'overhead_incl_holder_node_p50_ms', so.p50, { ...common, what: 'end-to-end − slowest holder EHR time' });
    figure(BENCH, 'overhead_incl_holder_node_p95_ms', so.p95, common);
    const e = stats(e2e);
    const sh = stats(slowestHolder);
    figure(BENCH, 'end_to_end_p50_ms', e.p50, { ...common, p95: Number(e.p95.toFixed(1)) });
    // Where the overhead goes: the requester's critical path before the first holder call
    // arrives and after the last holder answer leaves, with the calls made in those windows.
    const perOverview = Object.fromEntries(
      Object.entries(calls)
        .sort((a, b) => b[1].ms - a[1].ms)
        .map(([k, v]) => [k, { calls: Number((v.n / requests).toFixed(2)), ms: Number((v.ms / requests).toFixed(1)) }]),
    );
    const b = stats(before);
    const a = stats(after);
    figure(BENCH, 'before_fanout_p50_ms', b.p50, { ...common, p95: Number(b.p95.toFixed(1)), calls_per_overview: perOverview });
    figure(BENCH, 'after_fanout_p50_ms', a.p50, { ...common, p95: Number(a.p95.toFixed(1)) });
    figure(BENCH, 'slowest_holder_p50_ms', sh.p50, { ...common, ehr_calls_per_holder: Number((ehrCalls / requests).toFixed(1)), p95: Number(sh.p95.toFixed(1)) });

    const total = Math.max(requests, clinicians * 4);
    progress(`throughput: ${total} overviews by ${clinicians} concurrent clinicians`);
    let next = 0;
    let failed = 0;
    let firstProblem: string | undefined;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clinicians }, async (_, w) => {
        const verklaring = verklaringen[w % verklaringen.length];
        while (next < total) {
          const i = next++;
          const r = await client.overview({ verklaring, bsn: world.patients[i % world.patients.length] });
          const problem = complete(r, holders);
          if (problem) {
            failed++;
            firstProblem ??= problem;
          }
        }
      }),
    );
    const rate = total / ((performance.now() - started) / 1000);
    if (firstProblem) progress(`${failed} incomplete overviews, e.g. ${firstProblem}`);
    progress('ceiling: bare node:https fan-out');
    const holderIdentity = sandbox.identities.participants.get(world.holders[0].ura)!;
    const requesterIdentity = sandbox.identities.participants.get(REQUESTER_URA)!;
    const ceiling = async (waitMs: number) => {
      const server = await startCeilingServer(holderIdentity, { latencyMs: waitMs, responseBytes: responseBytes / requests });
      try {
        return await ceilingRate(server.url, requesterIdentity, { holders, concurrency: clinicians, total });
      } finally {
        await server.close();
      }
    };
    const matched = await ceiling(sh.p50);
    const literal = await ceiling(latencyMs);
    figure(BENCH, 'overviews_per_s', rate, {
      ...common,
      clinicians,
      total,
      incomplete: failed,
      ceiling_matched_per_s: Number(matched.toFixed(2)),
      ratio_matched: Number((rate / matched).toFixed(3)),
      ceiling_latency_per_s: Number(literal.toFixed(2)),
      ratio_latency: Number((rate / literal).toFixed(3)),
    });

    progress(`hanging holder: ${hangRequests} overviews with ${world.holders[0].name} hanging (deadline ${deadlineMs} ms)`);
    sandbox.ehr.faults.set(world.holders[0].ura, { hang: true });
    const late: number[] = [];
    for (let i = 0; i < hangRequests; i++) {
      const r = await client.overview({ verklaring: verklaringen[0], bsn: world.patients[i % world.patients.length] });
      if (r.status !== 200) throw new Error(`overview with a hanging holder: HTTP ${r.status}`);
      const named = bundleOutcomes(r.body).some((x) => x.issue?.[0]?.code === 'timeout' && (x.issue[0].diagnostics ?? '').includes(world.holders[0].name));
      if (!named) throw new Error(`the hanging holder is not named: ${JSON.stringify(bundleOutcomes(r.body)).slice(0, 400)}`);
      late.push(r.ms - deadlineMs);
    }
    const h = stats(late);
    figure(BENCH, 'hang_answer_minus_deadline_p50_ms', h.p50, { ...common, deadline_ms: deadlineMs, samples: hangRequests });
    figure(BENCH, 'hang_answer_minus_deadline_max_ms', h.max, { ...common, deadline_ms: deadlineMs, target: '<= 100' });
  } finally {
    sandbox.ehr.faults.clear();
    probe.close();
    await client.close();
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
