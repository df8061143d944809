import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { FanOutLimiter, mapBounded } from './fan-out-limit.ts';

// One requester's share of the node's fan-out is bounded; other requesters are not held up.

describe('fan-out limits per requester', () => {
  it('refuses a requester her fifth concurrent overview with 429 and Retry-After, others go on', async () => {
    const limiter = new FanOutLimiter({ overviews: 4, holders: 2 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = Array.from({ length: 4 }, () => limiter.run('A/1', () => gate));
    await assert.rejects(limiter.run('A/1', async () => 'x'), (err: unknown) => {
      assert.ok(err instanceof HttpError);
      assert.equal(err.status, 429);
      assert.equal(err.headers['retry-after'], '1');
      assert.equal(err.outcome.issue[0].code, 'throttled');
      return true;
    });
    assert.equal(await limiter.run('B/2', async () => 'other requester'), 'other requester');
    release();
    await Promise.all(running);
    assert.equal(limiter.running('A/1'), 0);
    assert.equal(await limiter.run('A/1', async () => 'again'), 'again');
  });

  it('frees the slot when the overview fails', async () => {
    const limiter = new FanOutLimiter({ overviews: 1, holders: 1 });
    await assert.rejects(limiter.run('A/1', async () => Promise.reject(new Error('boom'))));
    assert.equal(await limiter.run('A/1', async () => 'ok'), 'ok');
  });

  it('keeps at most `width` holder calls in flight, results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [10, 20, 30, 40, 50, 60, 70]);
    assert.equal(most, 3);
    assert.deepEqual(await mapBounded([], 3, async (n: number) => n), []);
  });
});
