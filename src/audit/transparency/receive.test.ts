import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { buildAuditEvent } from '../event.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from '../test-fixtures.ts';
import { acceptIncomingEvent, type PseudonymResolver } from './receive.ts';
import { PseudonymTokenRefused } from './stable-pseudonym.ts';

// The receive check with a stand-in resolver: when a token is judged, and what the leaf holds.

const statusOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 0;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err.status;
  }
};

describe('acceptIncomingEvent', () => {
  it('judges the token at the recorded time and stores the stable pseudonym instead of it', async () => {
    const seen: number[] = [];
    const resolve: PseudonymResolver = async (token, at) => {
      assert.equal(token, SAMPLE_PSEUDONYM_TOKEN);
      seen.push(at);
      return ['1.stable', '0.older'];
    };
    const recorded = '2030-01-01T10:00:00.000Z';
    const event = buildAuditEvent(sampleInput({ id: 'x1', when: recorded }));
    // Delivered two days late (the node's outbox was stuck): accepted, token judged at `recorded`.
    const item = await acceptIncomingEvent(event, undefined, { resolve, now: Date.parse(recorded) + 2 * 86_400_000 });
    assert.deepEqual(seen, [Date.parse(recorded)]);
    assert.equal(item.pseudonym, '1.stable');
    assert.ok(item.body.includes(`"system":"${SYSTEM.transparencyPseudonym}","value":"1.stable"`));
    assert.ok(!item.body.includes(SAMPLE_PSEUDONYM_TOKEN));
    assert.ok(!item.body.includes('Patient/p1'));
  });

  it('refuses events recorded in the future or longer ago than the delivery window, and refused tokens (422)', async () => {
    const resolve: PseudonymResolver = async () => ['1.p'];
    const event = buildAuditEvent(sampleInput({ id: 'x2', when: '2030-01-01T10:00:00.000Z' }));
    const at = Date.parse('2030-01-01T10:00:00.000Z');
    assert.equal(await statusOf(acceptIncomingEvent(event, undefined, { resolve, now: at - 5 * 60_000 })), 422);
    assert.equal(await statusOf(acceptIncomingEvent(event, undefined, { resolve, now: at + 8 * 86_400_000 })), 422);
    const refusing: PseudonymResolver = async () => {
      throw new PseudonymTokenRefused('pseudonym token has expired');
    };
    assert.equal(await statusOf(acceptIncomingEvent(event, undefined, { resolve: refusing, now: at })), 422);
    const echo = { ...event, outcomeDesc: SAMPLE_PSEUDONYM_TOKEN };
    assert.equal(await statusOf(acceptIncomingEvent(echo, undefined, { resolve, now: at })), 422, 'token repeated elsewhere');
  });

  it('property: arbitrary bodies are refused with 400/422, never another error', async () => {
    const resolve: PseudonymResolver = async () => {
      throw new PseudonymTokenRefused('no');
    };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.record({ resourceType: fc.constant('AuditEvent'), id: fc.constantFrom('ok-1', 'bad id'), recorded: fc.constant(new Date().toISOString()), entity: fc.oneof(fc.anything(), fc.array(fc.dictionary(fc.constantFrom('role', 'what', 'query', 'securityLabel', 'detail'), fc.oneof(fc.anything(), fc.constant({ code: '1' }))))), agent: fc.anything(), extension: fc.anything() })), async (body) => {
        const s = await statusOf(acceptIncomingEvent(body, undefined, { resolve }));
        assert.ok(s === 400 || s === 422, `status ${s}`);
      }),
      { numRuns: 1000 },
    );
  });
});
