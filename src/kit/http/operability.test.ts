import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { PartDefinition, TlsIdentity } from '../part.ts';
import { openPostgresStore } from '../store/postgres.ts';
import { migrate } from '../store/migrate.ts';
import type { Store } from '../store/store.ts';
import { postgresReachable, TEST_DATABASE_URL } from '../testing/backends.ts';
import { createTestPki, staticNetwork } from '../testing/test-pki.ts';
import { PartClient } from './client.ts';
import { outboxDepthGauge } from './operability.ts';
import { createService, type RunningService } from './service.ts';

// Readiness follows the database: a part whose PostgreSQL refuses connections says 503 on
// /health/ready (and its requests get 503, not 500) while /health/live stays 200; it is ready
// again once the database answers. /metrics serves Prometheus text labelled with part and instance.

/** A TCP relay to PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore. */
class CuttableRelay {
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }
  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

const notesPart: PartDefinition = {
  name: 'notes',
  schema: 'notes',
  migrations: [],
  async register(app, ctx) {
    outboxDepthGauge(ctx.metrics, ctx.store, 'notes', 'SELECT count(*) AS n FROM notes');
    app.get('/count', async () => ({ n: Number((await ctx.store.query<{ n: string }>('SELECT count(*) AS n FROM notes'))[0].n) }));
  },
};

const usable = await postgresReachable();

describe('readiness and metrics', { skip: usable ? false : 'PostgreSQL unreachable: SKIPPED', timeout: 120_000 }, () => {
  const target = new URL(TEST_DATABASE_URL);
  const relay = new CuttableRelay({ host: target.hostname, port: Number(target.port || 5432) });
  const schema = `kit_ready_${randomBytes(4).toString('hex')}`;
  let store: Store;
  let svc: RunningService;
  let client: PartClient;
  let id: TlsIdentity;

  before(async () => {
    await relay.open();
    const viaRelay = new URL(TEST_DATABASE_URL);
    viaRelay.host = `127.0.0.1:${relay.port}`;
    store = await openPostgresStore(schema, viaRelay.href, 2);
    await migrate(store, [{ id: '001', sql: 'CREATE TABLE notes (id serial PRIMARY KEY);' }]);
    const pki = await createTestPki();
    id = await pki.identity('90000101');
    svc = await createService(notesPart, { tls: await pki.identity('90000999', { name: 'notes' }), network: staticNetwork({}), store });
    client = new PartClient({ tls: id, maxRetries: 0, defaultDeadlineMs: 15_000 });
  });
  after(async () => {
    await client?.close();
    await svc?.close();
    await store?.close().catch(() => {});
    await relay.cut(); // the relay's listening server would keep the test process alive
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  });

  it('is live and ready while the database answers', async () => {
    assert.equal((await client.call(`${svc.url}/health/live`)).status, 200);
    const ready = await client.call<{ status: string; part: string; instance: string }>(`${svc.url}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.part, 'notes');
    assert.ok(ready.body.instance);
    assert.equal((await client.call(`${svc.url}/count`)).status, 200);
  });

  it('serves Prometheus metrics to a network peer, labelled with part and instance', async () => {
    const r = await client.call(`${svc.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /text\/plain/);
    assert.match(r.text, /ldn_http_requests_total\{[^}]*route="\/count"[^}]*status="200"[^}]*part="notes"/);
    assert.match(r.text, /ldn_http_request_duration_seconds_bucket/);
    assert.match(r.text, /ldn_db_pool_connections\{state="total"/);
    assert.match(r.text, /instance="/);
    assert.match(r.text, /ldn_outbox_depth\{outbox="notes"[^}]*\} 0/);
    await store.query('INSERT INTO notes DEFAULT VALUES');
    assert.match((await client.call(`${svc.url}/metrics`)).text, /ldn_outbox_depth\{outbox="notes"[^}]*\} 1/);
  });

  it('turns 503 while the database refuses connections, requests get 503 (not 500), and is ready again after', async () => {
    await relay.cut();
    const ready = await client.call<{ resourceType: string; issue: Array<{ code: string; diagnostics: string }> }>(`${svc.url}/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.resourceType, 'OperationOutcome');
    assert.match(ready.body.issue[0].diagnostics, /database/);
    assert.equal((await client.call(`${svc.url}/health`)).status, 503);
    assert.equal((await client.call(`${svc.url}/health/live`)).status, 200, 'the process itself is alive');
    const count = await client.call<{ resourceType: string }>(`${svc.url}/count`);
    assert.equal(count.status, 503);
    assert.equal(count.body.resourceType, 'OperationOutcome');
    await relay.open();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await client.call(`${svc.url}/health/ready`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, 200);
  });
});
