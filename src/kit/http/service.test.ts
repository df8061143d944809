import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { badRequest } from '../fhir/outcome.ts';
import { strictParams } from '../fhir/search.ts';
import type { PartDefinition, TlsIdentity } from '../part.ts';
import { openIsolatedPgliteStore } from '../store/pglite.ts';
import { captureLog } from '../testing/capture-log.ts';
import { createTestPki, staticNetwork } from '../testing/test-pki.ts';
import { PartClient } from './client.ts';
import { createService, type RunningService } from './service.ts';

// End to end over real mutual TLS: who gets in, and how every kind of bad input is answered.

const echoPart: PartDefinition = {
  name: 'echo',
  schema: 'echo',
  migrations: [{ id: '001', sql: 'CREATE TABLE notes (id serial PRIMARY KEY, body jsonb NOT NULL);' }],
  publicPaths: ['/public'],
  capability: { description: 'test part', resources: [{ type: 'Basic', interactions: ['create', 'search-type'] }] },
  async register(app, ctx) {
    app.get('/public', async () => ({ ok: true }));
    app.get('/Basic/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    app.get('/whoami', async (req) => ({ ura: req.peer?.ura, thumbprint: req.peer?.thumbprint }));
    app.get('/Basic', async (req) => {
      strictParams(req.query as Record<string, string>, ['code']);
      return { resourceType: 'Bundle', type: 'searchset', entry: [] };
    });
    app.post('/Basic', async (req, reply) => {
      const body = req.body as { resourceType?: string };
      if (body?.resourceType !== 'Basic') throw badRequest(`expected Basic, got ${body?.resourceType}`);
      await ctx.store.query('INSERT INTO notes (body) VALUES ($1)', [JSON.stringify(body)]);
      return reply.code(201).send(body);
    });
    app.get('/boom', async () => {
      throw new Error('secret internal detail');
    });
  },
};

describe('service factory over mutual TLS', () => {
  let svc: RunningService;
  let pki: Awaited<ReturnType<typeof createTestPki>>;
  let good: TlsIdentity;
  const logged = captureLog('echo');
  /** The refusal lines logged since `from`. */
  const refusals = (from: number) => logged.lines.slice(from).filter((l) => l.event === 'peer.refused');
  const clients: PartClient[] = [];
  const client = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0 });
    clients.push(c);
    return c;
  };

  before(async () => {
    pki = await createTestPki();
    const serverId = await pki.identity('90000999', { name: 'echo' });
    good = await pki.identity('90000101');
    svc = await createService(echoPart, {
      tls: serverId,
      network: staticNetwork({}),
      store: await openIsolatedPgliteStore('echo'),
      bodyLimit: 10_000,
      log: logged.log,
    });
    const { migrate } = await import('../store/migrate.ts');
    await migrate(svc.store, echoPart.migrations);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await svc.close();
    await svc.store.close();
  });

  it('admits a participant certificate and tells the handler who it is', async () => {
    const r = await client(good).call<{ ura: string; thumbprint: string }>(`${svc.url}/whoami`);
    assert.equal(r.status, 200);
    assert.equal(r.body.ura, '90000101');
    assert.match(r.body.thumbprint, /^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a call without a client certificate with a 401 OperationOutcome', async () => {
    const bare = new PartClient({ tls: { cert: '', key: '', ca: pki.ca.certPem }, maxRetries: 0 });
    clients.push(bare);
    const from = logged.lines.length;
    const r = await bare.call<{ resourceType: string }>(`${svc.url}/whoami?patient=999911120`);
    assert.equal(r.status, 401);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    const [line, ...more] = refusals(from);
    assert.equal(more.length, 0, 'one line per refusal');
    assert.equal(line.level, 40); // warn
    assert.equal(line.status, 401);
    assert.equal(line.reason, 'no client certificate presented');
    assert.equal(line.path, '/whoami');
    assert.equal(line.thumbprint, undefined);
  });

  it('logs a refusal without echoing a BSN from the path', async () => {
    const bare = new PartClient({ tls: { cert: '', key: '', ca: pki.ca.certPem }, maxRetries: 0 });
    clients.push(bare);
    const from = logged.raw.length;
    assert.equal((await bare.call(`${svc.url}/Basic/999911120`)).status, 401);
    assert.equal(refusals(from).length, 1);
    assert.equal(refusals(from)[0].path, '/Basic/*********');
    for (const line of logged.raw.slice(from)) assert.doesNotMatch(line, /999911120/);
  });

  it('refuses a certificate from another CA', async () => {
    const foreign = await pki.foreign('90000101');
    const from = logged.lines.length;
    const r = await client({ ...foreign, ca: pki.ca.certPem }).call(`${svc.url}/whoami`);
    assert.equal(r.status, 401);
    const [line] = refusals(from);
    assert.equal(line.status, 401);
    assert.match(String(line.reason), /^UNABLE_TO_(VERIFY|GET)_/);
    assert.match(String(line.thumbprint), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(line.claimedUra, '90000101'); // unverified, so named as a claim
    assert.equal(line.ura, undefined);
  });

  it('refuses an expired certificate', async () => {
    const expired = await pki.identity('90000101', {
      notBefore: new Date(Date.now() - 10 * 86400_000),
      notAfter: new Date(Date.now() - 86400_000),
    });
    const from = logged.lines.length;
    const r = await client(expired).call<{ issue: Array<{ diagnostics: string }> }>(`${svc.url}/whoami`);
    assert.equal(r.status, 401);
    assert.match(r.body.issue[0].diagnostics, /EXPIRED/i);
    const [line] = refusals(from);
    assert.match(String(line.reason), /EXPIRED/i);
    assert.equal(line.claimedUra, '90000101');
  });

  it('serves public paths and /metadata without a certificate', async () => {
    const bare = new PartClient({ tls: { cert: '', key: '', ca: pki.ca.certPem }, maxRetries: 0 });
    clients.push(bare);
    assert.equal((await bare.call(`${svc.url}/public`)).status, 200);
    const meta = await bare.call<{ resourceType: string; fhirVersion: string }>(`${svc.url}/metadata`);
    assert.equal(meta.body.resourceType, 'CapabilityStatement');
    assert.equal(meta.body.fhirVersion, '4.0.1');
  });

  it('answers malformed JSON with 400', async () => {
    const r = await client(good).call<{ resourceType: string }>(`${svc.url}/Basic`, { method: 'POST', body: '{"resourceType": ' });
    assert.equal(r.status, 400);
    assert.equal(r.body.resourceType, 'OperationOutcome');
  });

  it('answers a wrong content type with 415', async () => {
    const r = await client(good).call(`${svc.url}/Basic`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.status, 415);
  });

  it('answers an oversized body with 413 and keeps serving', async () => {
    const big = { resourceType: 'Basic', text: 'x'.repeat(20_000) };
    const r = await client(good).call(`${svc.url}/Basic`, { method: 'POST', body: big });
    assert.equal(r.status, 413);
    assert.equal((await client(good).call(`${svc.url}/whoami`)).status, 200);
  });

  it('answers an unknown search parameter with 400 naming it', async () => {
    const r = await client(good).call<{ issue: Array<{ diagnostics: string }> }>(`${svc.url}/Basic?colour=red`);
    assert.equal(r.status, 400);
    assert.match(r.body.issue[0].diagnostics, /colour/);
  });

  it('answers a repeated paging parameter with 400', async () => {
    const r = await client(good).call<{ issue: Array<{ diagnostics: string }> }>(`${svc.url}/Basic?_count=1&_count=2`);
    assert.equal(r.status, 400);
    assert.match(r.body.issue[0].diagnostics, /_count may appear only once/);
  });

  it('answers an unknown endpoint with 404 and an internal error with an opaque 500', async () => {
    assert.equal((await client(good).call(`${svc.url}/Nothing`)).status, 404);
    const r = await client(good).call<{ issue: Array<{ diagnostics: string }> }>(`${svc.url}/boom`);
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body.issue[0].diagnostics, /secret/);
  });

  it('answers an undecodable URL with a 400 OperationOutcome', async () => {
    const r = await client(good).call<{ resourceType: string; issue: Array<{ code: string }> }>(`${svc.url}/Basic/%E0%A4%A`);
    assert.equal(r.status, 400);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.equal(r.body.issue[0].code, 'invalid');
    assert.match(r.headers['content-type'], /application\/fhir\+json/);
  });

  it('answers an over-long path segment with a 414 OperationOutcome', async () => {
    const r = await client(good).call<{ resourceType: string; issue: Array<{ code: string }> }>(`${svc.url}/Basic/${'a'.repeat(101)}`);
    assert.equal(r.status, 414);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.equal(r.body.issue[0].code, 'too-long');
    assert.equal((await client(good).call(`${svc.url}/Basic/${'a'.repeat(100)}`)).status, 200);
  });

  it('propagates the trace id it was given', async () => {
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const r = await client(good).call(`${svc.url}/whoami`, { headers: { traceparent: tp } });
    assert.match(r.headers.traceresponse, /^00-0af7651916cd43dd8448eb211c80319c-/);
  });

  it('refuses a peer the guard rejects with 403', async () => {
    const guardLog = captureLog('guarded');
    const guarded = await createService(
      { ...echoPart, name: 'guarded', migrations: [] },
      {
        tls: await pki.identity('90000998'),
        network: staticNetwork({}),
        store: svc.store,
        log: guardLog.log,
        peerGuard: async (peer) => (peer.ura === '90000101' ? 'suspended' : null),
      },
    );
    try {
      const r = await client(good).call(`${guarded.url}/whoami`);
      assert.equal(r.status, 403);
      const lines = guardLog.lines.filter((l) => l.event === 'peer.refused');
      assert.equal(lines.length, 1);
      assert.equal(lines[0].status, 403);
      assert.equal(lines[0].reason, 'suspended');
      assert.equal(lines[0].ura, '90000101');
      assert.match(String(lines[0].thumbprint), /^[A-Za-z0-9_-]{43}$/);
    } finally {
      await guarded.app.close();
    }
  });
});
