import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { generateKeyPair } from 'jose';
import { testBsn } from '../kit/identifiers/bsn.ts';
import type { HttpError } from '../kit/fhir/outcome.ts';
import { evaluateForRecipient } from './evaluate.ts';
import { TokenRefused, sealEvaluation } from './evaluation-token.ts';
import { pseudonymToken } from './holder.ts';
import { InvalidBsnError } from './input.ts';
import { KeyRing } from './keyring.ts';
import { decodePseudonymToken, encodePseudonymToken } from './nvi-identifier.ts';
import { recipientElements } from './recipient.ts';

// The whole flow in process: holder → PRS → recipient, without HTTP.

const NVI = 'ura:90000001';
const OTHER = 'ura:90000002';
const SCOPE = 'nationale-verwijsindex';

async function setup(versions = [1]) {
  const seed = randomBytes(32);
  const keys = new Map<string, Awaited<ReturnType<typeof generateKeyPair>>>();
  for (const r of [NVI, OTHER]) keys.set(r, await generateKeyPair('RSA-OAEP-256'));
  const ring = (v: number[]) => new KeyRing({ seed, versions: v });
  let keyring = ring(versions);
  const evaluate = (req: Parameters<typeof evaluateForRecipient>[0]) =>
    evaluateForRecipient(req, { keyring, recipientKey: async (r) => (keys.has(r) ? { key: keys.get(r)!.publicKey } : null) });
  const pseudonym = async (bsn: string, recipient = NVI) => {
    const value = await pseudonymToken(bsn, recipient, SCOPE, evaluate);
    const token = decodePseudonymToken(value);
    assert.ok(token);
    const els = await recipientElements(token, keys.get(recipient)!.privateKey, { audience: recipient, scope: SCOPE });
    return els.map((e) => ({ version: e.version, hex: bytesToHex(e.element) }));
  };
  return { keys, pseudonym, evaluate, rotate: (v: number[]) => {
      keyring = ring(v);
    } };
}

describe('pseudonyms end to end (holder → PRS → recipient)', () => {
  it('same BSN gives the same pseudonym for one recipient; different BSNs differ (property)', async () => {
    const { pseudonym } = await setup();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 0, max: 9_999_999 }), async (a, b) => {
        const pa1 = await pseudonym(testBsn(a));
        const pa2 = await pseudonym(testBsn(a));
        assert.deepEqual(pa1, pa2);
        if (testBsn(a) !== testBsn(b)) assert.notEqual((await pseudonym(testBsn(b)))[0].hex, pa1[0].hex);
      }),
      { numRuns: 8 },
    );
  });

  it('pseudonyms for different recipients are unrelated', async () => {
    const { pseudonym } = await setup();
    const bsn = testBsn(1001);
    assert.notEqual((await pseudonym(bsn, NVI))[0].hex, (await pseudonym(bsn, OTHER))[0].hex);
  });

  it('refuses an invalid BSN at the holder before calling the PRS', async () => {
    let called = false;
    await assert.rejects(
      pseudonymToken('123456789', NVI, SCOPE, async () => {
        called = true;
        return { jwe: '' };
      }),
      InvalidBsnError,
    );
    assert.equal(called, false);
  });

  it('key rotation: evaluates under every active version, old version stays stable', async () => {
    const { pseudonym, rotate } = await setup([1]);
    const bsn = testBsn(42);
    const before = await pseudonym(bsn);
    rotate([1, 2]);
    const after = await pseudonym(bsn);
    assert.equal(after.length, 2);
    assert.equal(after[0].version, 2);
    assert.deepEqual(after[1], before[0]);
    assert.notEqual(after[0].hex, before[0].hex);
  });

  it('refuses a token addressed to another recipient', async () => {
    const { evaluate, keys } = await setup();
    const value = await pseudonymToken(testBsn(7), OTHER, SCOPE, evaluate);
    const token = decodePseudonymToken(value)!;
    // The NVI holding its own key cannot even decrypt it …
    await assert.rejects(recipientElements(token, keys.get(NVI)!.privateKey, { audience: NVI }), TokenRefused);
    // … and a token encrypted to the right key but naming another audience is refused too.
    const misaddressed = await sealEvaluation([{ version: 1, evaluated: new Uint8Array(32) }], {
      recipientOrganization: OTHER, recipientScope: SCOPE, key: keys.get(NVI)!.publicKey,
    });
    await assert.rejects(
      recipientElements({ evaluatedOutput: misaddressed, blindFactor: token.blindFactor }, keys.get(NVI)!.privateKey, { audience: NVI }),
      /another recipient/,
    );
  });

  it('refuses an expired token', async () => {
    const { evaluate, keys } = await setup();
    const value = await pseudonymToken(testBsn(8), NVI, SCOPE, evaluate);
    const token = decodePseudonymToken(value)!;
    const later = Date.now() + 301_000;
    await assert.rejects(recipientElements(token, keys.get(NVI)!.privateKey, { audience: NVI, now: later }), /expired/);
  });

  it('PRS refuses unknown recipients and malformed elements', async () => {
    const { evaluate } = await setup();
    const ok = Buffer.alloc(32).toString('base64url');
    await assert.rejects(evaluate({ encryptedPersonalId: ok, recipientOrganization: 'ura:99999999', recipientScope: SCOPE }), (e: HttpError) => e.status === 404);
    await assert.rejects(
      evaluate({ encryptedPersonalId: Buffer.alloc(32, 0xff).toString('base64url'), recipientOrganization: NVI, recipientScope: SCOPE }),
      (e: HttpError) => e.status === 400,
    );
    await assert.rejects(evaluate({ encryptedPersonalId: '999999990', recipientOrganization: NVI, recipientScope: SCOPE }), (e: HttpError) => e.status === 400 && !e.message.includes('999999990'));
  });
});

describe('NviIdentifier token codec', () => {
  it('round-trips', () => {
    const t = { evaluatedOutput: 'aGVhZGVy.a2V5.aXY.Y2lwaGVy.dGFn', blindFactor: new Uint8Array(randomBytes(32)) };
    assert.deepEqual(decodePseudonymToken(encodePseudonymToken(t)), t);
  });

  it('never throws and returns null on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.json().map((j) => Buffer.from(j).toString('base64url')), fc.anything()), (v) => {
        const r = decodePseudonymToken(v);
        assert.ok(r === null || (r.blindFactor.length === 32 && typeof r.evaluatedOutput === 'string'));
      }),
    );
  });
});
