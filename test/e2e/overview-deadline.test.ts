import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, OperationOutcome } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import type { RunningService } from '../../src/kit/http/service.ts';
import { newTrace } from '../../src/kit/trace.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { apiOverview, overviewSetup } from './sandbox-helpers.ts';

// The overview deadline covers localisation: a referral index that accepts the request and never
// answers gives the clinician's system a 504 naming it within the deadline, not a 10 s wait.

const VELUWE = '90000101';
const DEADLINE_MS = 2500;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** Makes a running part accept, and never answer, the requests whose path matches. */
function hang(service: RunningService, path: RegExp): { release(): void } {
  const server = service.app.server;
  const original = server.listeners('request') as Listener[];
  const held: ServerResponse[] = [];
  const gate: Listener = (req, res) => {
    if (path.test(req.url ?? '')) {
      held.push(res);
      return;
    }
    for (const l of original) l.call(server, req, res);
  };
  server.removeAllListeners('request');
  server.on('request', gate);
  return {
    release() {
      server.off('request', gate);
      for (const l of original) server.on('request', l);
      for (const res of held) res.destroy();
    },
  };
}

describe('overview: a hanging referral index', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  before(async () => {
    ({ sandbox, verklaring } = await overviewSetup({ overviewDeadlineMs: DEADLINE_MS }));
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('answers 504 naming the referral index within the deadline, and logs the failed access', async () => {
    const nvi = hang(sandbox.central.nvi, /^\/List\b/);
    const trace = newTrace();
    try {
      const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, trace });
      assert.equal(r.status, 504, JSON.stringify(r.body).slice(0, 400));
      const oo = r.body as unknown as OperationOutcome;
      assert.equal(oo.resourceType, 'OperationOutcome');
      assert.equal(oo.issue[0].code, 'timeout');
      assert.match(oo.issue[0].diagnostics ?? '', /referral index/);
      assert.ok(r.ms < DEADLINE_MS + 1000, `answered after ${r.ms} ms`);
    } finally {
      nvi.release();
    }
    const requester = sandbox.nodes.find((n) => n.name === 'veluwe')!.runtime()!;
    const events = (await eventsByTraceId(requester.ctx.store, trace.traceId)) as AuditEvent[];
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, '8');
    assert.ok(!JSON.stringify(events).includes(DE_GROOT.bsn));

    const again = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
    assert.equal(again.status, 200, 'once the referral index answers, so does the overview');
  });
});
