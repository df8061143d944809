import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { check, closeAgents, send, type World, worldOf } from './negative/harness.ts';
import { fuzzHandlers } from './negative/handler-fuzz.ts';
import { MATRIX } from './negative/tables.ts';
import { citizenPortalLogin, startTestSandbox } from './sandbox-helpers.ts';

// The negative matrix (issue 15): every table of hostile requests (test/e2e/negative/<part>.ts)
// against one real sandbox. Each case asserts its status and the OperationOutcome body. Then
// fuzzing of the handlers over HTTPS on the same sandbox (LDN_FUZZ_RUNS; `npm run fuzz`: 10 000).

export const MIN_CASES = 150;

describe('negative matrix', { timeout: 900_000 }, () => {
  let sandbox: Sandbox;
  let world: World;

  before(async () => {
    sandbox = await startTestSandbox();
    world = await worldOf(sandbox, async () => (await citizenPortalLogin(sandbox, DE_GROOT.bsn)).browser);
  });
  after(async () => {
    await world?.close();
    await closeAgents();
    await sandbox?.stop();
  });

  it(`holds at least ${MIN_CASES} cases`, () => {
    const total = Object.values(MATRIX).reduce((n, cases) => n + cases.length, 0);
    assert.ok(total >= MIN_CASES, `${total} cases`);
    const names = Object.values(MATRIX).flatMap((cases) => cases.map((c) => c.name));
    assert.equal(new Set(names).size, names.length, 'case names are unique');
  });

  for (const [part, cases] of Object.entries(MATRIX)) {
    describe(part, () => {
      for (const c of cases) it(c.name, async () => check(c, await send(world, c)));
    });
  }

  // Last: random requests may change state (a caller's own referrals, its recipient key).
  it('fuzzing the handlers: no 5xx, every error a JSON body (or a login page)', async () => {
    const runs = Number(process.env.LDN_FUZZ_RUNS ?? 150);
    assert.equal(await fuzzHandlers(world, runs), runs);
  });

  // After everything else: it uses up this address's operator-login allowance for a minute.
  it('rate limits a real door: the operator login answers 429 with Retry-After as an OperationOutcome', async () => {
    const attempt = { name: 'operator login attempt', target: 'portal', method: 'POST', path: '/operator/login', as: 'none' as const, raw: 'password=wrong', contentType: 'application/x-www-form-urlencoded', expect: 303 };
    let last = await send(world, attempt);
    for (let i = 0; i < 80 && last.status !== 429; i++) last = await send(world, attempt);
    check({ ...attempt, expect: 429, code: 'throttled' }, last);
    assert.ok(Number(last.headers['retry-after']) >= 1, JSON.stringify(last.headers));
  });
});
