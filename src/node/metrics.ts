import { Counter, type Registry } from 'prom-client';

// Exchange volumes a node reports to the operator: per exchange, how many requests it served as
// holder and made as requester, and how many failed, over the last 15 minutes (per-minute
// buckets, so the window slides without keeping every request).

const WINDOW_MINUTES = 15;

export type MetricOutcome = 'ok' | 'refused' | 'failed';

interface Bucket {
  minute: number;
  counts: Map<string, { requests: number; refused: number; failures: number }>;
}

export interface ExchangeFigures {
  exchange: string;
  requests: number;
  refused: number;
  failures: number;
}

export class ExchangeMetrics {
  private buckets: Bucket[] = [];

  record(exchange: string, outcome: MetricOutcome, now = Date.now()): void {
    const minute = Math.floor(now / 60_000);
    let bucket = this.buckets.at(-1);
    if (!bucket || bucket.minute !== minute) {
      bucket = { minute, counts: new Map() };
      this.buckets.push(bucket);
      this.buckets = this.buckets.filter((b) => b.minute > minute - WINDOW_MINUTES);
    }
    const c = bucket.counts.get(exchange) ?? { requests: 0, refused: 0, failures: 0 };
    c.requests++;
    if (outcome === 'refused') c.refused++;
    if (outcome === 'failed') c.failures++;
    bucket.counts.set(exchange, c);
  }

  snapshot(now = Date.now()): { windowMinutes: number; exchanges: ExchangeFigures[] } {
    const since = Math.floor(now / 60_000) - WINDOW_MINUTES;
    const total = new Map<string, ExchangeFigures>();
    for (const b of this.buckets) {
      if (b.minute <= since) continue;
      for (const [exchange, c] of b.counts) {
        const t = total.get(exchange) ?? { exchange, requests: 0, refused: 0, failures: 0 };
        t.requests += c.requests;
        t.refused += c.refused;
        t.failures += c.failures;
        total.set(exchange, t);
      }
    }
    return { windowMinutes: WINDOW_MINUTES, exchanges: [...total.values()].sort((a, b) => a.exchange.localeCompare(b.exchange)) };
  }
}

// Accesses whose data was already stored (a citizen's measurement, a dispensation from abroad)
// but whose audit event could not be written: an alarm for the operator's Prometheus. One
// counter per registry (prom-client refuses a second metric of the same name in one registry).
const auditMissingCounters = new WeakMap<Registry, Counter>();

/** The `ldn_node_audit_missing_total` counter of `registry`; undefined without one. */
export function auditMissingCounter(registry: Registry | undefined): Counter | undefined {
  if (!registry) return undefined;
  let counter = auditMissingCounters.get(registry);
  if (!counter) {
    counter = new Counter({ name: 'ldn_node_audit_missing_total', help: 'Stored writes whose audit event could not be written (alarm)', registers: [registry] });
    auditMissingCounters.set(registry, counter);
  }
  return counter;
}
