import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { parseSubscription } from './subscription-store.ts';
import { CONSENT_URI } from './uris.ts';
import { statusOf } from '../kit/testing/status-of.ts';

// Subscription shapes: anything a client can send must end in 400/403/422, never a crash (500).

const URA = '90000101';
const good = {
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'OTV',
  criteria: `Consent?patient:identifier=${SYSTEM.bsn}|${testBsn(1001)}`,
  channel: { type: 'rest-hook', endpoint: 'https://holder.example/notify', payload: 'application/fhir+json' },
};

describe('Subscription parsing', () => {
  it('accepts a well-formed subscription', () => {
    assert.deepEqual(parseSubscription(good, URA), { bsn: testBsn(1001), endpoint: 'https://holder.example/notify' });
  });

  it('refuses wrongly shaped fields with 422', () => {
    const shapes: Array<Record<string, unknown>> = [
      { criteria: 42 },
      { criteria: ['Consent?patient=1'] },
      { criteria: CONSENT_URI.consentTopic, _criteria: { extension: { url: CONSENT_URI.backportFilterCriteria } } },
      { criteria: CONSENT_URI.consentTopic, _criteria: { extension: [null] } },
      { criteria: CONSENT_URI.consentTopic, _criteria: { extension: [{ url: CONSENT_URI.backportFilterCriteria, valueString: 7 }] } },
      { channel: 'rest-hook' },
      { channel: { type: 'rest-hook', endpoint: ['https://x'] } },
      { channel: { ...good.channel, payload: 42 } },
    ];
    for (const change of shapes) assert.equal(statusOf(() => parseSubscription({ ...good, ...change }, URA)), 422, JSON.stringify(change));
  });

  it('never answers anything but 400/403/422 for arbitrary Subscription-ish JSON (property)', () => {
    const field = fc.constantFrom('resourceType', 'criteria', '_criteria', 'channel', 'status');
    const value = fc.oneof(
      fc.jsonValue(),
      fc.constant(CONSENT_URI.consentTopic),
      fc.record({ extension: fc.oneof(fc.jsonValue(), fc.array(fc.record({ url: fc.constant(CONSENT_URI.backportFilterCriteria), valueString: fc.jsonValue() }))) }),
      fc.record({ type: fc.constantFrom('rest-hook', 'email'), endpoint: fc.jsonValue(), payload: fc.jsonValue() }, { requiredKeys: ['type'] }),
    );
    fc.assert(
      fc.property(fc.dictionary(field, value), (changes) => {
        const s = statusOf(() => parseSubscription({ ...good, ...changes }, URA));
        assert.ok([200, 400, 403, 422].includes(s), `status ${s}`);
      }),
      { numRuns: 300 },
    );
    fc.assert(fc.property(fc.jsonValue(), (v) => assert.ok([400, 422].includes(statusOf(() => parseSubscription(v, URA))))));
  });
});
