import { Counter, Histogram, type Registry } from 'prom-client';
import type { OverviewService } from './overview.ts';

// The overview's fan-out per holder, for the operator's Prometheus: how often each holder (by
// URA) was asked, with what outcome, and how long it took. Holders that withheld everything on the
// patient's choice are not in the overview's result (never named), so they are not counted here
// either. One series per holder URA: a node talks to a bounded set of holders in practice; an
// operator who finds the cardinality too high drops the label in the scrape configuration.

export function withFanOutMetrics(service: OverviewService, registry: Registry | undefined): OverviewService {
  if (!registry) return service;
  const calls = new Counter({
    name: 'ldn_overview_holder_calls_total',
    help: 'Holders asked by an overview, by holder URA and outcome',
    labelNames: ['holder', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'ldn_overview_holder_duration_seconds',
    help: 'Time until a holder answered (or the deadline passed) in an overview, by holder URA',
    labelNames: ['holder'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
    registers: [registry],
  });
  return {
    async overview(req) {
      const result = await service.overview(req);
      for (const h of result.holders) {
        calls.inc({ holder: h.ura, status: h.status });
        duration.observe({ holder: h.ura }, h.elapsedMs / 1000);
      }
      return result;
    },
    close: () => service.close(),
  };
}
