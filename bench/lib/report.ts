// One JSON line per figure; ratios are always against a ceiling measured in the same run.
export function figure(bench: string, name: string, value: number, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ bench, figure: name, value: Number(value.toFixed(4)), ...extra })}\n`);
}

export function argValue(args: string[], flag: string, fallback: number): number {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const n = Number(args[i + 1]);
  if (!Number.isFinite(n)) throw new Error(`${flag} needs a number`);
  return n;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `one` `requests` times, `concurrency` at a time: throughput and every latency (ms). */
export async function timed(requests: number, concurrency: number, one: () => Promise<void>): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const t = performance.now();
        await one();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perSecond: requests / ((performance.now() - started) / 1000), latencies };
}
