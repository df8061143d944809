import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HttpError } from '../kit/fhir/outcome.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { pseudonymInput } from './input.ts';
import { KeyRing } from './keyring.ts';
import { blindInput, evaluateBlinded, unblind } from './oprf.ts';
import { evaluateResearch, parseResearchRequest, researchPseudonym } from './research.ts';

// Research pseudonyms: one domain per permit, real OPRF, unlinkable across domains and with care.

const seed = randomBytes(32);
// The PRS's permit check has tests of its own (research-permit.test.ts); here the "permit" is its id.
const prs = async (req: { encryptedPersonalId: string; permit: string }) => evaluateResearch(req.encryptedPersonalId, req.permit, seed);
const permit = (jti: string) => ({ jws: jti, jti });

describe('research pseudonyms', () => {
  it('are stable per person and domain, differ between persons (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 9_999_999 }), fc.integer({ min: 0, max: 9_999_999 }), async (a, b) => {
        const p1 = await researchPseudonym(testBsn(a), permit('permit-1'), prs);
        assert.equal(await researchPseudonym(testBsn(a), permit('permit-1'), prs), p1, 'a fresh blind gives the same pseudonym');
        assert.match(p1, /^[0-9a-f]{40}$/);
        if (testBsn(a) !== testBsn(b)) assert.notEqual(await researchPseudonym(testBsn(b), permit('permit-1'), prs), p1);
      }),
      { numRuns: 6 },
    );
  });

  it('the same person under two permits gets unrelated pseudonyms, and none equals a care pseudonym', async () => {
    const bsn = testBsn(4242);
    const a = await researchPseudonym(bsn, permit('permit-a'), prs);
    const b = await researchPseudonym(bsn, permit('permit-b'), prs);
    assert.notEqual(a, b);
    // The care element for the same person (NVI recipient, same seed): a different element entirely.
    const ring = new KeyRing({ seed, versions: [1] });
    const [key] = ring.keysFor('ura:90000001', 'nationale-verwijsindex');
    const { blind, blinded } = blindInput(pseudonymInput(bsn, 'ura:90000001', 'nationale-verwijsindex'));
    const care = Buffer.from(unblind(evaluateBlinded(key.secretKey, blinded), blind)).toString('hex');
    for (const p of [a, b]) assert.ok(!care.includes(p) && !p.includes(care.slice(0, 40)));
  });

  it('another PRS seed gives other pseudonyms (the key is the PRS\'s, not derivable by the holder)', async () => {
    const bsn = testBsn(77);
    const other = randomBytes(32);
    assert.notEqual(await researchPseudonym(bsn, permit('p'), prs), await researchPseudonym(bsn, permit('p'), async (r) => evaluateResearch(r.encryptedPersonalId, r.permit, other)));
  });

  it('the PRS refuses malformed requests with 400 and never quotes the element', () => {
    for (const body of [null, [], { permit: 'p' }, { encryptedPersonalId: 'A'.repeat(43) }, { permit: 'p', encryptedPersonalId: 'x' }, { permit: 7, encryptedPersonalId: 'A'.repeat(43) }]) {
      assert.throws(
        () => parseResearchRequest(body),
        (e: HttpError) => e.status === 400 && !JSON.stringify(e.outcome).includes('AAAA'),
      );
    }
    assert.throws(() => evaluateResearch('A'.repeat(43), 'bad domain!', seed), (e: HttpError) => e.status === 400);
    // 32 bytes that are not a ristretto255 element
    assert.throws(() => evaluateResearch(Buffer.alloc(32, 0xff).toString('base64url'), 'p', seed), (e: HttpError) => e.status === 400);
  });
});
