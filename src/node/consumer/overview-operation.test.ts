import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { newTrace } from '../../kit/trace.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import type { OverviewRequest, OverviewService } from './overview.ts';
import { createOverviewOperation, type OverviewAsk, type OverviewCaller } from './overview-operation.ts';
import { environment, tenant } from './test-overview-env.ts';

// One overview operation for every caller (the $overview route, $summary, the node's viewer): the
// ask is parsed once (a bad BSN or break-the-glass reason is a 400 naming nobody, so not audited),
// authorised once against the agreements (a refusal is audited), and only then served.

const doctor: OverviewCaller = { tenant, user: { deziNumber: '900001011', roleCode: '01.045', name: 'A. Bakker', ura: tenant.ura }, verklaring: 'v' };
const ask = (overrides: Partial<OverviewAsk> = {}): OverviewAsk => ({ bsn: DE_GROOT.bsn, exchange: 'acute-zorg', trace: newTrace(), ...overrides });

function operation() {
  const { env, events } = environment({});
  const served: OverviewRequest[] = [];
  const overview: OverviewService = {
    overview: async (req) => {
      served.push(req);
      return { bundle: { resourceType: 'Bundle', type: 'collection' }, holders: [] };
    },
    close: async () => {},
  };
  return { op: createOverviewOperation({ env, overview }), events, served };
}

async function refused(work: Promise<unknown>): Promise<HttpError> {
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err;
  }
  assert.fail('expected a refusal');
}

describe('the overview operation', () => {
  it('serves a parsed, authorised ask with the exchange from the agreements and the reason trimmed', async () => {
    const { op, served, events } = operation();
    await op.run(doctor, ask({ bsn: ` ${DE_GROOT.bsn} `, emergencyReason: '  bewusteloos binnengebracht  ' }));
    assert.equal(served.length, 1);
    assert.equal(served[0].bsn, DE_GROOT.bsn);
    assert.equal(served[0].exchange.code, 'acute-zorg');
    assert.equal(served[0].emergencyReason, 'bewusteloos binnengebracht');
    assert.equal(events.length, 0, 'the service audits what it serves, not the operation');
  });

  it('refuses an invalid BSN or break-the-glass reason with 400, unaudited and unserved', async () => {
    const { op, served, events } = operation();
    assert.equal((await refused(op.run(doctor, ask({ bsn: '123456789' })))).status, 400);
    assert.equal((await refused(op.run(doctor, ask({ emergencyReason: 'kort' })))).status, 400);
    assert.equal(served.length + events.length, 0);
  });

  it('refuses, and audits, an unknown exchange, a role or organisation type the exchange does not list, and emergency access it does not allow', async () => {
    const { op, served, events } = operation();
    const assistant = { ...doctor, user: { ...doctor.user, deziNumber: '900001014', roleCode: '30.001' } };
    const physio = { ...doctor, tenant: { ...tenant, type: 'K9' } };
    const cases: Array<[OverviewCaller, OverviewAsk, number, RegExp]> = [
      [doctor, ask({ exchange: 'nope' }), 400, /unknown exchange/],
      [assistant, ask(), 403, /role 30\.001 may not request acute-zorg/],
      [physio, ask(), 403, /type K9 may not request acute-zorg/],
      [doctor, ask({ exchange: 'bgz', emergencyReason: 'bewusteloos binnengebracht' }), 403, /no emergency access/],
    ];
    for (const [caller, a, status, why] of cases) {
      const err = await refused(op.run(caller, a));
      assert.equal(err.status, status);
      assert.match(err.message, why);
    }
    assert.equal(served.length, 0);
    assert.equal(events.length, cases.length, 'each refusal is in the requester audit log');
    for (const e of events) assert.equal(e.outcome, '8');
    assert.match(events[1].outcomeDesc ?? '', /refused \(403\)/);
    assert.ok(events[1].agent?.some((a) => JSON.stringify(a).includes('900001014')), 'the event names the professional');
    assert.ok(!JSON.stringify(events).includes(DE_GROOT.bsn), 'no BSN in the audit events');
  });
});
