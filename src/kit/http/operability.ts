import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { KitError } from '../errors.ts';
import type { Store } from '../store/store.ts';

// What an operator needs from every part and node: liveness (the process answers), readiness
// (its database answers and the parts it cannot work without are reachable; 503 otherwise, so a
// load balancer takes it out), and Prometheus metrics (prom-client, one registry per service so
// the sandbox's many services in one process do not mix their figures).

/** This process's instance name: LDN_INSTANCE, else host:pid. Every log line carries it. */
export function instanceName(): string {
  return process.env.LDN_INSTANCE ?? `${hostname()}:${process.pid}`;
}

/** A named check a part cannot work without: resolves null when fine, else why not. */
export type ReadinessCheck = { name: string; check: () => Promise<string | null> };

const CHECK_TIMEOUT_MS = 2_000;

async function withTimeout(check: () => Promise<string | null>): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${CHECK_TIMEOUT_MS} ms`), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().catch((err: Error) => err.message || String(err)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function storeCheck(store: Store): ReadinessCheck {
  return { name: 'database', check: async () => ((await store.query('SELECT 1 AS ok')).length === 1 ? null : 'no answer') };
}

export interface ServiceMetrics {
  registry: Registry;
  refusals: Counter<'status' | 'reason'>;
}

/** The per-request metrics and /metrics; parts add their own through `registry`. */
export function installMetrics(app: FastifyInstance, labels: { part: string; instance: string }, store: Store): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'ldn_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'] as const, registers: [registry] });
  const latency = new Histogram({
    name: 'ldn_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const refusals = new Counter({ name: 'ldn_http_refusals_total', help: 'Requests refused (4xx)', labelNames: ['status', 'reason'] as const, registers: [registry] });
  const stats = store.stats?.bind(store);
  if (stats) {
    new Gauge({
      name: 'ldn_db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const s = stats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
  }
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    // The route's pattern, never the URL itself: a URL may carry an identifier.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    requests.inc({ method: request.method, route, status: String(status) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (status === 401 || status === 403 || status === 429) refusals.inc({ status: String(status), reason: 'refused' });
  });
  return { registry, refusals };
}

/** A gauge of rows still waiting in an outbox (counted when scraped; a failed count is left out). */
export function outboxDepthGauge(registry: Registry | undefined, store: Store, outbox: string, waitingSql: string): void {
  if (!registry) return;
  new Gauge({
    name: 'ldn_outbox_depth',
    help: 'Rows waiting in an outbox',
    labelNames: ['outbox'] as const,
    registers: [registry],
    async collect() {
      const rows = await store.query<{ n: string }>(waitingSql).catch(() => undefined);
      if (rows) this.set({ outbox }, Number(rows[0].n));
    },
  });
}

/** Prometheus text of a registry (a part that serves /metrics itself hands Prometheus scrapers this). */
export async function sendMetrics(reply: FastifyReply, registry: Registry): Promise<FastifyReply> {
  return reply.type(registry.contentType).send(await registry.metrics());
}

/** GET /metrics (any network peer, mutual TLS), unless the part serves /metrics itself. */
export function serveMetrics(app: FastifyInstance, registry: Registry): void {
  if (app.hasRoute({ method: 'GET', url: '/metrics' })) return;
  app.get('/metrics', async (_request, reply) => sendMetrics(reply, registry));
}

/** /health/live, /health/ready and /health (= ready, with the part's name). */
export function installHealth(app: FastifyInstance, part: string, checks: () => ReadinessCheck[], closing: () => boolean): void {
  app.get('/health/live', async () => ({ status: 'live', part, instance: instanceName() }));
  const ready = async (_request: FastifyRequest, reply: FastifyReply) => {
    if (closing()) return notReady(reply, ['shutting down']);
    const results = await Promise.all(checks().map(async (c) => ({ name: c.name, problem: await withTimeout(c.check) })));
    const failed = results.filter((r) => r.problem);
    if (failed.length) return notReady(reply, failed.map((f) => `${f.name}: ${f.problem}`));
    return { status: 'ok', part, instance: instanceName() };
  };
  app.get('/health/ready', ready);
  app.get('/health', ready);
}

function notReady(reply: FastifyReply, problems: string[]): FastifyReply {
  const err = new KitError('ERR_KIT_NOT_READY', `not ready: ${problems.join('; ')}`);
  return reply.code(503).header('retry-after', '5').type('application/fhir+json').send(err.outcome);
}
