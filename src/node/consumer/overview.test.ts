import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { CODE_SYSTEM } from '../../kit/identifiers/systems.ts';
import { UpstreamError } from '../../kit/http/client.ts';
import { newTrace } from '../../kit/trace.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { exchangeByCode } from '../../trust/agreements/exchanges.ts';
import { createOverviewService, type OverviewRequest } from './overview.ts';
import { environment, tenant } from './test-overview-env.ts';

// The overview's own deadline covers localisation and addressing too, and a failed request is
// audited (refusals before the fan-out: overview-operation.test.ts). The network is replaced by an environment whose parts hang or fail on cue.

const DEADLINE_MS = 300;
/** What "within the deadline" allows for timers and the audit write. */
const MARGIN_MS = 250;
const never = <T>() => new Promise<T>(() => {});

function request(overrides: Partial<OverviewRequest> = {}): OverviewRequest {
  return {
    tenant,
    bsn: DE_GROOT.bsn,
    exchange: exchangeByCode(defaultAgreements(), 'acute-zorg')!,
    user: { deziNumber: '900001011', roleCode: '01.045', name: 'A. Bakker', ura: tenant.ura },
    verklaring: 'unused',
    trace: newTrace(),
    ...overrides,
  };
}

async function refusal(work: Promise<unknown>): Promise<{ error: HttpError; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return { error: err, ms: Date.now() - started };
  }
  assert.fail('expected the overview to be refused');
}

describe('overview deadline and refusals', () => {
  it('a hanging referral index: 504 naming it, within the deadline, audited as failed', async () => {
    const { env, events, patients } = environment({ localise: never });
    const service = createOverviewService({ env, deadlineMs: DEADLINE_MS });
    const { error, ms } = await refusal(service.overview(request()));
    assert.equal(error.status, 504);
    assert.equal(error.outcome.issue[0].code, 'timeout');
    assert.match(error.message, /referral index/);
    assert.ok(ms < DEADLINE_MS + MARGIN_MS, `answered after ${ms} ms`);
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, '8');
    assert.ok(!JSON.stringify(events).includes(DE_GROOT.bsn), 'no BSN in the audit event');
    assert.deepEqual(patients, [{ bsn: DE_GROOT.bsn }], 'the BSN goes to the outbox only, to name the patient at delivery');
    await service.close();
  });

  it('a failing referral index: 502 naming it, without the failed URL (it carries a pseudonym token)', async () => {
    const url = 'https://nvi.example/List?subject:identifier=secret-token';
    const { env, events } = environment({
      localise: async () => {
        throw new UpstreamError(url, 503, undefined, `GET ${url} → 503`);
      },
    });
    const { error } = await refusal(createOverviewService({ env, deadlineMs: DEADLINE_MS }).overview(request()));
    assert.equal(error.status, 502);
    assert.match(error.message, /referral index.*503/);
    assert.ok(!JSON.stringify(error.outcome).includes('secret-token'));
    assert.equal(events[0]?.outcome, '8');
  });

  it('a hanging address lookup does not hold the overview past its deadline', async () => {
    const { env, events } = environment({
      localise: async () => [{ ura: '90000102', categories: ['Allergies'] }],
      endpoint: never,
      participant: async (ura) => ({ ura, name: 'Ziekenhuis Leiden', type: 'V4', status: 'admitted', qualifications: [] }),
    });
    const started = Date.now();
    const result = await createOverviewService({ env, deadlineMs: DEADLINE_MS }).overview(request());
    const ms = Date.now() - started;
    assert.ok(ms < DEADLINE_MS + MARGIN_MS, `answered after ${ms} ms`);
    assert.deepEqual(result.holders.map((h) => h.status), ['timeout']);
    const outcomes = (result.bundle.entry ?? []).map((e) => e.resource).filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome');
    const holderLevel = outcomes.filter((o) => !o.issue[0].details?.coding?.some((c) => c.system === CODE_SYSTEM.dataCategories));
    assert.equal(holderLevel.length, 1);
    assert.equal(holderLevel[0].issue[0].code, 'timeout');
    assert.match(holderLevel[0].issue[0].diagnostics ?? '', /URA 90000102/);
    // And every category of the exchange is said not to have been answered in time, naming the holder.
    const perCategory = outcomes.filter((o) => o.issue[0].details?.coding?.some((c) => c.system === CODE_SYSTEM.dataCategories));
    assert.ok(perCategory.length >= 5);
    for (const o of perCategory) assert.equal(o.issue[0].code, 'timeout');
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, '4');
  });

  it('a holder whose type cannot be checked in time, or that the agreements do not list as a holder, is neither asked nor named', async () => {
    let asked = 0;
    const { env } = environment({
      localise: async () => [
        { ura: '90000102', categories: ['AllergyIntolerance'] },
        { ura: '90000106', categories: ['Condition'] },
      ],
      endpoint: async (ura) => {
        asked++;
        return { ura, name: 'x', address: 'https://127.0.0.1:1/fhir' };
      },
      participant: (ura) => (ura === '90000102' ? never() : Promise.resolve({ ura, name: 'Fysiotherapie Kerkrade', type: 'K9', status: 'admitted', qualifications: [] })),
    });
    const started = Date.now();
    const result = await createOverviewService({ env, deadlineMs: DEADLINE_MS }).overview(request());
    assert.ok(Date.now() - started < DEADLINE_MS + MARGIN_MS);
    assert.equal(asked, 0);
    assert.deepEqual(result.holders, []);
    const text = JSON.stringify(result.bundle);
    assert.ok(!text.includes('90000102') && !text.includes('90000106') && !text.includes('Fysiotherapie'), text);
    assert.match(text, /could not be checked against the agreements/);
  });
});
