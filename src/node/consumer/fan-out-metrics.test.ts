import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { withFanOutMetrics } from './fan-out-metrics.ts';
import type { OverviewRequest, OverviewService } from './overview.ts';

// The per-holder fan-out figures come from what the overview reports about each holder it asked.

const service = (holders: Array<{ ura: string; status: string; elapsedMs: number }>, fail = false): OverviewService => ({
  async overview() {
    if (fail) throw new Error('the referral index could not be asked');
    return { bundle: { resourceType: 'Bundle', type: 'collection' }, holders: holders.map((h) => ({ ...h, name: `org ${h.ura}` })) };
  },
  close: async () => {},
});

describe('overview fan-out metrics', () => {
  it('counts calls per holder URA and outcome and observes each holder\'s time', async () => {
    const registry = new Registry();
    const wrapped = withFanOutMetrics(
      service([
        { ura: '90000102', status: 'ok', elapsedMs: 120 },
        { ura: '90000103', status: 'timeout', elapsedMs: 3000 },
      ]),
      registry,
    );
    await wrapped.overview({} as OverviewRequest);
    await wrapped.overview({} as OverviewRequest);
    const text = await registry.metrics();
    assert.match(text, /ldn_overview_holder_calls_total\{holder="90000102",status="ok"\} 2/);
    assert.match(text, /ldn_overview_holder_calls_total\{holder="90000103",status="timeout"\} 2/);
    assert.match(text, /ldn_overview_holder_duration_seconds_count\{holder="90000103"\} 2/);
    assert.match(text, /ldn_overview_holder_duration_seconds_bucket\{le="0.25",holder="90000102"\} 2/);
    assert.match(text, /ldn_overview_holder_duration_seconds_bucket\{le="2",holder="90000103"\} 0/);
  });

  it('records nothing for an overview that failed before any holder was asked, and passes the error on', async () => {
    const registry = new Registry();
    const wrapped = withFanOutMetrics(service([], true), registry);
    await assert.rejects(wrapped.overview({} as OverviewRequest), /referral index/);
    assert.doesNotMatch(await registry.metrics(), /ldn_overview_holder_calls_total\{/);
  });
});
