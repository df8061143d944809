import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { generateKeyPair } from 'jose';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { Peer } from '../../kit/part.ts';
import { evaluateForRecipient } from '../../pseudonyms/evaluate.ts';
import { pseudonymToken } from '../../pseudonyms/holder.ts';
import { KeyRing } from '../../pseudonyms/keyring.ts';
import { sodiumReady } from '../../pseudonyms/sodium.ts';
import { buildAuditEvent } from '../event.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from '../test-fixtures.ts';
import { acceptIncomingEvent, type PseudonymResolver } from './receive.ts';
import { TRANSPARENCY_RECIPIENT_SCOPE } from './recipient-keys.ts';
import { type PseudonymKeys, PseudonymTokenRefused, stablePseudonyms } from './stable-pseudonym.ts';
import { LdnError } from '../../kit/errors.ts';

// The receive check with a stand-in resolver: when a token is judged, and what the leaf holds.

/** The sample events are in the name of URA 90000101 (Ziekenhuis Veluwe). */
const VELUWE = { ura: '90000101' } as Peer;

const statusOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 0;
  } catch (err) {
    assert.ok(err instanceof LdnError, String(err));
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
    // Delivered two hours late (the node's outbox was stuck): accepted, token judged at `recorded`.
    const item = await acceptIncomingEvent(event, VELUWE, { resolve, now: Date.parse(recorded) + 2 * 3600_000 });
    assert.deepEqual(seen, [Date.parse(recorded)]);
    assert.equal(item.pseudonym, '1.stable');
    assert.ok(item.body.includes(`"system":"${SYSTEM.transparencyPseudonym}","value":"1.stable"`));
    assert.ok(!item.body.includes(SAMPLE_PSEUDONYM_TOKEN));
    assert.ok(!item.body.includes('Patient/p1'));
  });

  it('refuses events recorded in the future, and refused tokens (422)', async () => {
    const resolve: PseudonymResolver = async () => ['1.p'];
    const event = buildAuditEvent(sampleInput({ id: 'x2', when: '2030-01-01T10:00:00.000Z' }));
    const at = Date.parse('2030-01-01T10:00:00.000Z');
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: at - 5 * 60_000 })), 422);
    const refusing: PseudonymResolver = async () => {
      throw new PseudonymTokenRefused('pseudonym token has expired');
    };
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve: refusing, now: at })), 422);
    const echo = { ...event, outcomeDesc: SAMPLE_PSEUDONYM_TOKEN };
    assert.equal(await statusOf(acceptIncomingEvent(echo, VELUWE, { resolve, now: at })), 422, 'token repeated elsewhere');
  });

  it('property: arbitrary bodies are refused with 400/403/422, never another error', async () => {
    const resolve: PseudonymResolver = async () => {
      throw new PseudonymTokenRefused('no');
    };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything(), fc.record({ resourceType: fc.constant('AuditEvent'), id: fc.constantFrom('ok-1', 'bad id'), recorded: fc.constant(new Date().toISOString()), entity: fc.oneof(fc.anything(), fc.array(fc.dictionary(fc.constantFrom('role', 'what', 'query', 'securityLabel', 'detail'), fc.oneof(fc.anything(), fc.constant({ code: '1' }))))), agent: fc.anything(), extension: fc.anything() })), async (body) => {
        const s = await statusOf(acceptIncomingEvent(body, VELUWE, { resolve }));
        assert.ok(s === 400 || s === 403 || s === 422, `status ${s}`);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('acceptIncomingEvent: whose name an event is in', () => {
  const resolve: PseudonymResolver = async () => ['1.p'];
  const event = buildAuditEvent(sampleInput({ id: 'w1' }));

  it('refuses an event in another organisation\'s name (403)', async () => {
    assert.equal(await statusOf(acceptIncomingEvent(event, { ura: '90000102' } as Peer, { resolve })), 403);
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, actingUra: '90000102' })), 403, 'the token names another organisation');
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve })), 0);
  });

  it('a vendor certificate logs only for the organisation its access token names', async () => {
    const vendor = { ura: '', kvk: '12345678' } as Peer;
    assert.equal(await statusOf(acceptIncomingEvent(event, vendor, { resolve })), 403);
    assert.equal(await statusOf(acceptIncomingEvent(event, undefined, { resolve })), 403);
    assert.equal(await statusOf(acceptIncomingEvent(event, vendor, { resolve, actingUra: '90000104' })), 403);
    assert.equal(await statusOf(acceptIncomingEvent(event, vendor, { resolve, actingUra: '90000101' })), 0);
  });
});

describe('acceptIncomingEvent: delivery grace counts from the PRS token\'s exp', async () => {
  await sodiumReady();
  const audience = 'ura:90000001';
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256');
  const keys: PseudonymKeys = { audience, scope: TRANSPARENCY_RECIPIENT_SCOPE, decryptionKey: privateKey, pseudonymKey: randomBytes(32) };
  const keyring = new KeyRing({ seed: randomBytes(32), versions: [1] });
  const issuedAt = Date.parse('2030-01-01T10:00:00.000Z');
  // A real PRS token: issued at issuedAt, expires 5 minutes later.
  const token = await pseudonymToken(testBsn(7), audience, TRANSPARENCY_RECIPIENT_SCOPE, (req) =>
    evaluateForRecipient(req, { keyring, recipientKey: async () => ({ key: publicKey }), now: () => issuedAt }),
  );
  const resolve: PseudonymResolver = (t, at) => stablePseudonyms(t, keys, at);
  const eventAt = (recordedMs: number) =>
    buildAuditEvent(sampleInput({ id: `g${recordedMs}`, when: new Date(recordedMs).toISOString(), patient: { localReference: 'Patient/p1', transparencyPseudonymToken: token } }));
  const HOUR = 3600_000;
  const exp = issuedAt + 300_000;

  it('accepts a late delivery within the grace after exp', async () => {
    const event = eventAt(issuedAt + 10_000);
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: exp + 20 * HOUR })), 0);
    // Grace of 1 h: measured from exp, not from `recorded` (which lies almost 5 min before exp).
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: exp + HOUR - 60_000, maxDelayMs: HOUR })), 0);
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: exp + HOUR + 1000, maxDelayMs: HOUR })), 422);
  });

  it('refuses a token that expired longer ago than the grace, however `recorded` is set', async () => {
    const now = exp + 2 * 24 * HOUR;
    for (const recorded of [issuedAt + 10_000, issuedAt - 30_000, exp - 1000]) {
      assert.equal(await statusOf(acceptIncomingEvent(eventAt(recorded), VELUWE, { resolve, now })), 422, `recorded ${new Date(recorded).toISOString()}`);
    }
    // `recorded` outside the token's life is refused too: the token pins it.
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - HOUR), VELUWE, { resolve, now: exp + HOUR })), 422);
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(exp + 1000), VELUWE, { resolve, now: exp + HOUR })), 422);
  });

  it('accepts a token fetched at delivery (valid at arrival) for an event recorded within the grace', async () => {
    // The PRS was down at access time: the outbox fetched the token hours later, at delivery.
    const arrival = issuedAt + 60_000;
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - 3 * HOUR), VELUWE, { resolve, now: arrival })), 0);
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - 23 * HOUR), VELUWE, { resolve, now: arrival })), 0);
    // Older than the grace (24 h by default, or as configured): too late, even with a fresh token.
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(arrival - 24 * HOUR - 1000), VELUWE, { resolve, now: arrival })), 422);
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - 2 * HOUR), VELUWE, { resolve, now: arrival, maxDelayMs: HOUR })), 422);
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - 6 * 24 * HOUR), VELUWE, { resolve, now: arrival, maxDelayMs: 30 * 24 * HOUR })), 0);
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - 8 * 24 * HOUR), VELUWE, { resolve, now: arrival, maxDelayMs: 30 * 24 * HOUR })), 422);
    // Not in the future beyond the clock skew, whatever the token.
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(arrival + 2 * 60_000), VELUWE, { resolve, now: arrival })), 422);
  });

  it('a token valid neither at `recorded` nor at arrival is refused', async () => {
    // Expired by arrival, and the event lies before the token's life.
    assert.equal(await statusOf(acceptIncomingEvent(eventAt(issuedAt - HOUR), VELUWE, { resolve, now: exp + 1000 })), 422);
  });

  it('a configured grace is capped at 7 days', async () => {
    const event = eventAt(issuedAt + 10_000);
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: exp + 6 * 24 * HOUR, maxDelayMs: 30 * 24 * HOUR })), 0);
    assert.equal(await statusOf(acceptIncomingEvent(event, VELUWE, { resolve, now: exp + 8 * 24 * HOUR, maxDelayMs: 30 * 24 * HOUR })), 422);
  });
});
