import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OperationOutcome } from '@medplum/fhirtypes';
import fc from 'fast-check';
import type { PartDefinition, TlsIdentity } from '../part.ts';
import { migrate } from '../store/migrate.ts';
import { openIsolatedPgliteStore } from '../store/pglite.ts';
import { captureLog } from '../testing/capture-log.ts';
import { createTestPki, staticNetwork } from '../testing/test-pki.ts';
import { PartClient } from './client.ts';
import { jsonProblem, MAX_JSON_DEPTH } from './edge.ts';
import { createService, type RunningService } from './service.ts';
import { SERVER_LIMITS } from './server-limits.ts';

// The kit's edge, over real mutual TLS on PGlite: NUL bytes and deep nesting are refused before
// a handler (and PostgreSQL) sees them, oversized headers get an OperationOutcome, a door's
// rate limit answers 429 with Retry-After, slow clients meet the server timeouts, and request
// logging does what the flag says.

const notesPart: PartDefinition = {
  name: 'notes',
  schema: 'notes',
  migrations: [{ id: '001', sql: 'CREATE TABLE notes (id serial PRIMARY KEY, name text NOT NULL, body jsonb NOT NULL);' }],
  rateLimits: [{ method: 'POST', url: '/login', max: 3 }],
  async register(app, ctx) {
    // Deliberately naive handlers: they pass caller input straight to PostgreSQL, as the
    // handlers that used to answer 500 did. Only the edge stands between them and a NUL.
    app.get<{ Params: { name: string } }>('/notes/:name', async (req) => {
      const rows = await ctx.store.query('SELECT id FROM notes WHERE name = $1', [req.params.name]);
      return { resourceType: 'Bundle', type: 'searchset', total: rows.length };
    });
    app.get<{ Querystring: { name?: string } }>('/notes', async (req) => {
      const rows = await ctx.store.query('SELECT id FROM notes WHERE name = $1', [req.query.name ?? '']);
      return { resourceType: 'Bundle', type: 'searchset', total: rows.length };
    });
    app.post<{ Body: { name: string } }>('/notes', async (req, reply) => {
      await ctx.store.query('INSERT INTO notes (name, body) VALUES ($1, $2)', [String(req.body.name), JSON.stringify(req.body)]);
      return reply.code(201).send(req.body);
    });
    app.post('/login', async () => ({ ok: true }));
  },
};

const isOutcome = (body: unknown) => (body as OperationOutcome)?.resourceType === 'OperationOutcome';

describe('kit edge: NUL, depth, header size, rate limits, timeouts, request logs', () => {
  let svc: RunningService;
  let good: TlsIdentity;
  let client: PartClient;
  const logged = captureLog('notes');

  before(async () => {
    const pki = await createTestPki();
    const store = await openIsolatedPgliteStore('notes');
    await migrate(store, notesPart.migrations);
    svc = await createService(notesPart, {
      tls: await pki.identity('90000999', { name: 'notes' }),
      network: staticNetwork({}),
      store,
      log: logged.log,
      logRequests: true,
    });
    good = await pki.identity('90000101');
    client = new PartClient({ tls: good, maxRetries: 0 });
  });
  after(async () => {
    await client?.close();
    await svc?.close();
    await svc?.store.close();
  });

  const count = async () => Number((await svc.store.query<{ n: string }>('SELECT count(*) AS n FROM notes'))[0].n);

  for (const [name, path] of [
    ['a NUL in a path segment', '/notes/%00'],
    ['a NUL inside a path segment', '/notes/abc%00def'],
    ['a NUL in a search value', '/notes?name=a%00b'],
    ['a NUL in a parameter name', '/notes?na%00me=x'],
  ]) {
    it(`refuses ${name} with 400 OperationOutcome (no 500 from PostgreSQL)`, async () => {
      const r = await client.call(`${svc.url}${path}`);
      assert.equal(r.status, 400, r.text);
      assert.ok(isOutcome(r.body), r.text);
      assert.match(r.text, /NUL/);
    });
  }

  it('refuses \\u0000 in a JSON string or key, writing nothing', async () => {
    const before = await count();
    for (const body of [{ name: 'a\u0000b' }, { name: 'ok', nested: [{ deep: 'x\u0000' }] }, { name: 'ok', ['k\u0000']: 1 }]) {
      const r = await client.call(`${svc.url}/notes`, { method: 'POST', body });
      assert.equal(r.status, 400, r.text);
      assert.ok(isOutcome(r.body));
    }
    assert.equal(await count(), before);
    const ok = await client.call(`${svc.url}/notes`, { method: 'POST', body: { name: 'fine' } });
    assert.equal(ok.status, 201);
  });

  it('refuses a body nested deeper than the limit', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < MAX_JSON_DEPTH + 5; i++) deep = { d: deep };
    const r = await client.call(`${svc.url}/notes`, { method: 'POST', body: { name: 'deep', deep } });
    assert.equal(r.status, 400, r.text);
    assert.ok(isOutcome(r.body));
  });

  it('answers oversized headers with 431 and an OperationOutcome', async () => {
    const r = await client.call(`${svc.url}/notes?name=x`, { headers: { 'x-padding': 'a'.repeat(SERVER_LIMITS.maxHeaderSize + 100) } });
    assert.equal(r.status, 431, r.text);
    assert.ok(isOutcome(r.body), r.text);
  });

  it('limits a door per client certificate: 429, Retry-After, OperationOutcome', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<PartClient['call']>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await client.call(`${svc.url}/login`, { method: 'POST', body: {} });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.ok(Number(last!.headers['retry-after']) >= 1, JSON.stringify(last!.headers));
    assert.ok(isOutcome(last!.body), last!.text);
    assert.equal((last!.body as OperationOutcome).issue[0].code, 'throttled');
    // Another door of the same part is not limited.
    for (let i = 0; i < 5; i++) assert.equal((await client.call(`${svc.url}/notes?name=x`)).status, 200);
  });

  it('sets the header, request and idle timeouts on the listening server', () => {
    const server = svc.app.server;
    assert.equal(server.headersTimeout, SERVER_LIMITS.headersTimeoutMs);
    assert.equal(server.requestTimeout, SERVER_LIMITS.requestTimeoutMs);
    assert.equal(server.keepAliveTimeout, SERVER_LIMITS.keepAliveTimeoutMs);
    assert.equal(server.timeout, SERVER_LIMITS.connectionTimeoutMs);
  });

  it('logs one line per request when asked to, with BSN-like digits scrubbed', async () => {
    const from = logged.lines.length;
    await client.call(`${svc.url}/notes/123456782`);
    const lines = logged.raw.slice(from).join('\n');
    assert.match(lines, /request completed/);
    assert.match(lines, /\/notes\/\*{9}/);
    assert.doesNotMatch(lines, /123456782/);
  });
});

describe('jsonProblem (property)', () => {
  it('finds every NUL anywhere in a JSON value and passes NUL-free values', () => {
    const runs = Number(process.env.LDN_FUZZ_RUNS ?? 300);
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const text = JSON.stringify(value) ?? '';
        assert.equal(jsonProblem(value) !== undefined, text.includes('\\u0000'));
      }),
      { numRuns: runs },
    );
  });
});
