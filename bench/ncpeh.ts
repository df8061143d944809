import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { PartClient } from '../src/kit/http/client.ts';
import { createLogger } from '../src/kit/log.ts';
import { DE_GROOT } from '../src/sandbox/cast.ts';
import { clinicianVerklaring } from '../src/sandbox/clinician-login.ts';
import { startSandbox } from '../src/sandbox/sandbox.ts';
import { BELGIUM } from '../src/sandbox/second-country.ts';
import { TrustTokenProvider } from '../src/trust/auth/token-provider.ts';
import { argValue, figure, percentile, timed } from './lib/report.ts';

// `npm run bench -- ncpeh [--requests N] [--concurrency C] [--rounds R]`: cross-border patient
// summaries per second (UZ Brussel → NCPeH-BE → NCPeH-NL's gateway → its node's $summary → the
// Dutch holders, transcoded, audited on both sides) against the national summary it builds on,
// measured in the same run: a Dutch internist's own $summary for the same patient at Ziekenhuis
// Veluwe's node (same fan-out, same holders). Rounds are interleaved so a noisy neighbour hits both.
// Figures: the ratio of the rates, and the time the NCPeH adds (p50 of cross-border − p50 of national).

const BENCH = 'ncpeh';
const VELUWE = '90000101';
const VAN_DIJK = '900001012';
const progress = (s: string) => process.stderr.write(`[bench ${BENCH}] ${s}\n`);

export async function run(args: string[]): Promise<void> {
  const requests = argValue(args, '--requests', 16);
  const concurrency = argValue(args, '--concurrency', 4);
  const rounds = argValue(args, '--rounds', 3);
  const dir = mkdtempSync(join(tmpdir(), 'ldn-bench-ncpeh-'));
  progress('starting the sandbox (two countries)');
  const sandbox = await startSandbox({ manifestPath: join(dir, 'sandbox.json'), portBase: 0, overviewDeadlineMs: 20_000, log: createLogger('sandbox', { level: 'silent' }) });
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const cb = sandbox.crossBorder;
    if (!cb) throw new Error('the sandbox started no second country');
    const hospital = new PartClient({ tls: cb.belgium.hospital, maxRetries: 0, defaultDeadlineMs: 120_000 });
    closers.push(() => hospital.close());
    const body = {
      country: 'NL',
      patient: { bsn: DE_GROOT.bsn, family: 'de Groot', given: 'Hendrik', birthDate: DE_GROOT.birthDate },
      professional: BELGIUM.clinician,
      language: 'fr',
    };
    const incomplete = { crossBorder: 0, national: 0 };
    const partial = (b: Bundle) => JSON.stringify(b).includes('summary-incomplete');
    const crossBorder = async () => {
      const r = await hospital.call<Bundle>(`${cb.belgium.ncpeh.url}/cross-border/patient-summary`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      if (r.status !== 200) throw new Error(`cross-border summary: HTTP ${r.status} ${r.text.slice(0, 300)}`);
      if (partial(r.body)) incomplete.crossBorder++;
    };

    // The ceiling: the national $summary the NCPeH's own request rests on, asked by a Dutch clinician.
    const participant = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!;
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(participant.nodeUrl!).origin}/oauth/token` });
    const veluwe = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 120_000 });
    closers.push(() => veluwe.close(), async () => tokens.close?.());
    let verklaring = await clinicianVerklaring(sandbox, VAN_DIJK);
    const national = async () => {
      const r = await veluwe.call<Bundle>(`${participant.nodeUrl}/fhir/Patient/$summary?identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${DE_GROOT.bsn}`)}`, {
        scope: 'ips',
        resource: participant.nodeUrl,
        userAssertion: verklaring,
        headers: { 'dezi-verklaring': verklaring },
      });
      if (r.status !== 200) throw new Error(`national summary: HTTP ${r.status}`);
      if (partial(r.body)) incomplete.national++;
    };

    progress('warm-up');
    await crossBorder();
    await national();
    const rates = { crossBorder: [] as number[], national: [] as number[] };
    const latencies = { crossBorder: [] as number[], national: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      verklaring = await clinicianVerklaring(sandbox, VAN_DIJK);
      const a = await timed(requests, concurrency, crossBorder);
      const n = await timed(requests, concurrency, national);
      rates.crossBorder.push(a.perSecond);
      rates.national.push(n.perSecond);
      latencies.crossBorder.push(...a.latencies);
      latencies.national.push(...n.latencies);
      progress(`round ${round + 1}: cross-border ${a.perSecond.toFixed(2)}/s, national ${n.perSecond.toFixed(2)}/s`);
    }
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
    const cbSorted = sorted(latencies.crossBorder);
    const nSorted = sorted(latencies.national);
    figure(BENCH, 'cross_border_vs_national_summary', sum(rates.crossBorder) / sum(rates.national), {
      cross_border_per_s: Number((sum(rates.crossBorder) / rounds).toFixed(2)),
      national_per_s: Number((sum(rates.national) / rounds).toFixed(2)),
      rounds: rates.crossBorder.map((r, i) => Number((r / rates.national[i]).toFixed(3))),
      requests,
      concurrency,
      incomplete_answers: incomplete,
    });
    figure(BENCH, 'ncpeh_added_ms_p50', percentile(cbSorted, 50) - percentile(nSorted, 50), {
      cross_border_p50: Number(percentile(cbSorted, 50).toFixed(1)),
      national_p50: Number(percentile(nSorted, 50).toFixed(1)),
      cross_border_p95: Number(percentile(cbSorted, 95).toFixed(1)),
      national_p95: Number(percentile(nSorted, 95).toFixed(1)),
    });
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
