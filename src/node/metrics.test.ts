import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ExchangeMetrics } from './metrics.ts';

describe('exchange metrics', () => {
  it('counts per exchange and forgets what left the 15-minute window', () => {
    const m = new ExchangeMetrics();
    const t0 = Date.UTC(2026, 0, 1, 12, 0);
    m.record('acute-zorg', 'ok', t0);
    m.record('acute-zorg', 'failed', t0);
    m.record('bgz', 'refused', t0 + 60_000);
    assert.deepEqual(m.snapshot(t0 + 120_000).exchanges, [
      { exchange: 'acute-zorg', requests: 2, refused: 0, failures: 1 },
      { exchange: 'bgz', requests: 1, refused: 1, failures: 0 },
    ]);
    assert.deepEqual(m.snapshot(t0 + 16 * 60_000).exchanges, []);
  });

  it('never counts more failures than requests (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b'), fc.constantFrom('ok', 'refused', 'failed'), fc.nat(30 * 60_000))), (events) => {
        const m = new ExchangeMetrics();
        for (const [x, o, dt] of [...events].sort((p, q) => p[2] - q[2])) m.record(x, o as 'ok', dt);
        for (const e of m.snapshot(30 * 60_000).exchanges) assert.ok(e.failures + e.refused <= e.requests);
      }),
    );
  });
});
