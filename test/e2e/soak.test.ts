import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { EhrFaults } from '../../src/node/ehr-sim/faults.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { bundleOutcomes, OverviewClient } from '../../bench/lib/overview-client.ts';
import { clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Soak: many overviews while the holders' faults cycle (hanging, 500s, malformed JSON, data
// about the wrong patient, intermittent errors), several in flight at once. After every cycle
// the JS heap is measured after a full GC and the open sockets and timers are counted; once
// the faults stop and hung calls have drained, neither may have grown beyond a loose bound.
// LDN_SOAK_OVERVIEWS sets the count (default 180, under a minute on a loaded 2-core machine;
// the issue's figure is 10 000). No timings are asserted.

const VELUWE = '90000101';
const LEIDEN = '90000102';
const GP = '90000103';
const PHARMACY = '90000104';
const BAKKER = '900001011';
// Long enough that localisation (PRS + NVI) under six overviews in flight on a loaded two-core
// machine is not itself a fault; the hang phase still waits for it.
const DEADLINE_MS = 2500;
const OVERVIEWS = Number(process.env.LDN_SOAK_OVERVIEWS ?? 180);
const IN_FLIGHT = 6;
const PHASE = 10;
const MiB = 1024 * 1024;

/** One cycle of fault phases, PHASE overviews each. */
const PHASES: Array<{ name: string; faults: Array<[string, EhrFaults]> }> = [
  { name: 'none', faults: [] },
  { name: 'hang', faults: [[LEIDEN, { hang: true }]] },
  { name: '500s', faults: [[GP, { errorStatus: 500 }]] },
  { name: 'malformed', faults: [[PHARMACY, { malformedJson: true }]] },
  { name: 'wrong patient', faults: [[GP, { wrongPatient: true }]] },
  { name: 'intermittent', faults: [[LEIDEN, { errorRate: 0.5 }], [PHARMACY, { latencyMs: 30 }]] },
];
const CYCLE = PHASES.length * PHASE;

/** A 504 because the referral index did not answer in time (not a holder fault). */
function isLocalisationTimeout(r: { status: number; body: unknown }): boolean {
  const issue = (r.body as { issue?: Array<{ code?: string; diagnostics?: string }> }).issue?.[0];
  return r.status === 504 && issue?.code === 'timeout' && /referral index/.test(issue.diagnostics ?? '');
}

/** A full GC, if this V8 lets us have one (exposed at run time; no --expose-gc needed). */
function fullGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

interface Sample {
  at: number;
  heapMiB: number;
  rssMiB: number;
  sockets: number;
  timers: number;
}

async function sample(at: number, gc: (() => void) | undefined): Promise<Sample> {
  if (gc) {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
  }
  const m = process.memoryUsage();
  const resources = process.getActiveResourcesInfo();
  return {
    at,
    heapMiB: Number((m.heapUsed / MiB).toFixed(1)),
    rssMiB: Number((m.rss / MiB).toFixed(1)),
    sockets: resources.filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length,
    timers: resources.filter((r) => r === 'Timeout').length,
  };
}

describe(`soak: ${OVERVIEWS} overviews with cycling holder faults`, { timeout: 60 * 60_000 }, () => {
  let sandbox: Sandbox;
  let client: OverviewClient;
  let verklaring: string;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: DEADLINE_MS });
    client = new OverviewClient(sandbox, VELUWE, { connections: IN_FLIGHT * 2 });
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
  });
  after(async () => {
    sandbox?.ehr.faults.clear();
    await client?.close();
    await sandbox?.stop();
  });

  it('never fails, never mixes patients, and leaks neither memory nor sockets', async () => {
    const gc = fullGc();
    if (!gc) console.warn('soak: no full GC available; comparing heapUsed without it');
    const others = CITIZENS.filter((c) => c.bsn !== DE_GROOT.bsn).map((c) => c.bsn);
    const samples: Sample[] = [];
    const counts = { overviews: 0, withOutcomes: 0, localisationTimeouts: 0 };
    let phase = -1;
    let next = 0;

    const setPhase = (p: number) => {
      if (p === phase) return;
      phase = p;
      sandbox.ehr.faults.clear();
      for (const [ura, f] of PHASES[p % PHASES.length].faults) sandbox.ehr.faults.set(ura, f);
    };
    // Workers take the next overview number; the fault phase follows the numbers handed out,
    // and samples are taken between cycles with nothing in flight.
    const runBlock = async (from: number, to: number) => {
      next = from;
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (next < to) {
            const i = next++;
            setPhase(Math.floor(i / PHASE));
            let r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
            // The holders' faults are what is soaked. Localisation (PRS + NVI, not faulted here)
            // missing the deadline is load on a shared machine: asked again, counted, and bounded.
            for (let retry = 0; retry < 2 && isLocalisationTimeout(r); retry++) {
              counts.localisationTimeouts++;
              r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
            }
            assert.equal(r.status, 200, `overview ${i} (${PHASES[Math.floor(i / PHASE) % PHASES.length].name}): ${JSON.stringify(r.body).slice(0, 300)}`);
            assert.equal((r.body as { resourceType?: string }).resourceType, 'Bundle');
            const text = JSON.stringify(r.body);
            for (const bsn of others) assert.ok(!text.includes(bsn), `overview ${i} carries another patient's BSN`);
            counts.overviews++;
            if (bundleOutcomes(r.body).length > 0) counts.withOutcomes++;
            if (process.env.LDN_SOAK_DEBUG) console.log(i, PHASES[Math.floor(i / PHASE) % PHASES.length].name, r.ms.toFixed(0), bundleOutcomes(r.body).map((o) => o.issue[0].diagnostics).join(' | '));
          }
        }),
      );
    };

    // Warm-up: one full cycle fills every pool and cache; the baseline is taken after it.
    const warm = Math.min(CYCLE, OVERVIEWS);
    await runBlock(0, warm);
    samples.push(await sample(warm, gc));
    for (let from = warm; from < OVERVIEWS; from += CYCLE) {
      const to = Math.min(OVERVIEWS, from + CYCLE);
      await runBlock(from, to);
      samples.push(await sample(to, gc));
    }
    // Faults off; hung calls give up at the holder's EHR timeout; then the final sample.
    sandbox.ehr.faults.clear();
    const r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
    assert.deepEqual(bundleOutcomes(r.body), [], 'a clean overview once the faults stop');
    await new Promise((res) => setTimeout(res, 6000));
    const final = await sample(OVERVIEWS, gc);
    samples.push(final);

    const baseline = samples[0];
    const peak = samples.reduce((m, s) => ({ heapMiB: Math.max(m.heapMiB, s.heapMiB), sockets: Math.max(m.sockets, s.sockets), timers: Math.max(m.timers, s.timers) }), {
      heapMiB: 0,
      sockets: 0,
      timers: 0,
    });
    console.log(
      JSON.stringify({
        soak: 'overview',
        overviews: counts.overviews,
        withOutcomes: counts.withOutcomes,
        localisationTimeouts: counts.localisationTimeouts,
        gc: Boolean(gc),
        baseline,
        final,
        growthHeapMiB: Number((final.heapMiB - baseline.heapMiB).toFixed(1)),
        samples,
      }),
    );
    assert.ok(counts.withOutcomes > 0, 'the faults did show in the overviews');
    // A referral index that times out often is a fault of its own, not load.
    assert.ok(counts.localisationTimeouts <= Math.max(3, OVERVIEWS * 0.05), `${counts.localisationTimeouts} localisation timeouts`);
    // Loose bounds: a leak of one socket, timer or a few KiB per overview would cross them
    // within a few hundred overviews; pools, caches and the stores' own growth stay well inside.
    const heapBound = gc ? 48 : 96;
    assert.ok(final.heapMiB - baseline.heapMiB < heapBound, `heap grew ${baseline.heapMiB} → ${final.heapMiB} MiB`);
    // Keep-alive pools fill up to their caps (EHR connector 16 per organisation, parts' clients);
    // a leak grows past them run after run, a full pool does not.
    assert.ok(final.sockets <= baseline.sockets + 96, `sockets ${baseline.sockets} → ${final.sockets}`);
    assert.ok(peak.sockets <= baseline.sockets + 160, `sockets peaked at ${peak.sockets} (baseline ${baseline.sockets})`);
    assert.ok(final.timers <= baseline.timers + 48, `timers ${baseline.timers} → ${final.timers}`);
  });
});
