import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../kit/part.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork } from '../kit/testing/test-pki.ts';
import { type TokenMode, tokenGuard } from './token-guard.ts';

// Deny on error: a part whose network has no trust part cannot verify access tokens, so its
// protected routes refuse (503) instead of falling back to mutual TLS alone. Only an explicit
// 'off' opens them, and an unknown mode stops the part from starting.

function guardedPart(mode?: string): PartDefinition {
  return {
    name: 'guarded',
    schema: 'guarded',
    migrations: [],
    capability: { description: 'token guard test part', resources: [] },
    async register(app, ctx) {
      const scope = tokenGuard(app, { ...ctx, settings: mode === undefined ? {} : { TOKENS: mode } });
      app.get('/data', { preHandler: scope('test:read') }, async () => ({ ok: true }));
    },
  };
}

describe('tokenGuard without a trust part', () => {
  let pki: Awaited<ReturnType<typeof createTestPki>>;
  let caller: TlsIdentity;
  const running: RunningService[] = [];
  const client = () => new PartClient({ tls: caller, maxRetries: 0 });
  const start = async (mode?: string) => {
    const svc = await createService(guardedPart(mode), { tls: await pki.identity('90000999', { name: 'guarded' }), network: staticNetwork({}), store: await openIsolatedPgliteStore('guarded') });
    running.push(svc);
    return svc;
  };
  before(async () => {
    pki = await createTestPki();
    caller = await pki.identity('90000101');
  });
  after(async () => {
    for (const s of running) await s.close();
  });

  it('refuses protected calls by default (503 OperationOutcome), never mTLS-only', async () => {
    const svc = await start();
    const c = client();
    const r = await c.call<{ resourceType?: string }>(`${svc.url}/data`);
    await c.close();
    assert.equal(r.status, 503);
    assert.equal(r.body.resourceType, 'OperationOutcome');
  });

  it("opens them only when told 'off'", async () => {
    const svc = await start('off' satisfies TokenMode);
    const c = client();
    const r = await c.call<{ ok?: boolean }>(`${svc.url}/data`);
    await c.close();
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true);
  });

  it('will not start with an unknown mode', async () => {
    await assert.rejects(start('auto'), /LDN_SETTING_TOKENS\) must be one of required, off \(got "auto"\)/);
  });
});
