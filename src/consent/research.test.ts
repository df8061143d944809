import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HttpError } from '../kit/fhir/outcome.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { backends } from '../kit/testing/backends.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { parseClosedQuestion } from './closed-question.ts';
import { decide } from './decide.ts';
import { consentResource, emptyScope, parseConsent } from './fhir.ts';
import { CONSENT_MIGRATIONS } from './migrations.ts';
import type { ClosedQuestion, ConsentRecord } from './model.ts';
import { ConsentRegistry } from './registry.ts';

// The research opt-out (EHDS secondary use) is a consent of its own kind: research records answer
// only HRESCH questions, care records only TREAT ones, and HRESCH defaults to Permit.

const BSN = testBsn(2201);
const HDAB = '90000900';
const AGREEMENTS = defaultAgreements();
const care: ClosedQuestion = {
  bsn: BSN, holderUra: '90000102', holderType: 'V4', requesterUra: '90000101', requesterType: 'V4',
  requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002',
};
const research: ClosedQuestion = { bsn: BSN, holderUra: '90000102', holderType: 'V4', requesterUra: HDAB, requesterType: 'HDAB', requesterRole: '', requesterId: '', purposeOfUse: 'HRESCH', eventCode: '' };
const record = (provision: 'permit' | 'deny', purpose?: 'TREAT' | 'HRESCH'): ConsentRecord => ({
  id: `${provision}-${purpose}`, version: 1, bsn: BSN, status: 'active', provision, ...emptyScope(), ...(purpose ? { purpose } : {}),
});

describe('research opt-out (HRESCH)', () => {
  it('permits research by default in both care modes, and an objection denies it', () => {
    for (const mode of ['opt-in', 'opt-out'] as const) {
      assert.equal(decide(research, [], mode).decision, 'Permit');
      assert.equal(decide(research, [record('deny', 'HRESCH')], mode).decision, 'Deny');
    }
  });

  it('never mixes the two kinds', () => {
    // A care objection says nothing about research; a research objection nothing about care.
    assert.equal(decide(research, [record('deny')], 'opt-out').decision, 'Permit');
    assert.equal(decide(research, [record('deny', 'TREAT')], 'opt-in').decision, 'Permit');
    assert.equal(decide(care, [record('deny', 'HRESCH')], 'opt-out').decision, 'Permit');
    assert.equal(decide(care, [record('permit', 'HRESCH')], 'opt-in').decision, 'Deny');
    assert.equal(decide(care, [record('permit')], 'opt-in').decision, 'Permit');
  });

  it('property: the answer to one kind ignores every record of the other', () => {
    const arb = fc.array(fc.record({ provision: fc.constantFrom('permit', 'deny' as const), purpose: fc.constantFrom(undefined, 'TREAT', 'HRESCH' as const) }), { maxLength: 6 });
    fc.assert(
      fc.property(arb, fc.constantFrom('opt-in', 'opt-out' as const), (specs, mode) => {
        const records = specs.map((s, i) => ({ ...record(s.provision as 'permit' | 'deny', s.purpose), id: `r${i}` }));
        const careOnly = records.filter((r) => (r.purpose ?? 'TREAT') === 'TREAT');
        const researchOnly = records.filter((r) => r.purpose === 'HRESCH');
        assert.equal(decide(care, records, mode).decision, decide(care, careOnly, mode).decision);
        assert.equal(decide(research, records, mode).decision, decide(research, researchOnly, mode).decision);
        assert.equal(decide(research, researchOnly, mode).decision, researchOnly.some((r) => r.provision === 'deny') ? 'Deny' : 'Permit');
      }),
    );
  });

  it('reads and writes the FHIR form: scope research, purpose HRESCH', () => {
    const fhir = consentResource({ ...emptyScope(), bsn: BSN, status: 'active', provision: 'deny', purpose: 'HRESCH' });
    assert.equal(fhir.scope?.coding?.[0].code, 'research');
    assert.equal(fhir.provision?.purpose?.[0].code, 'HRESCH');
    assert.equal(parseConsent(fhir).purpose, 'HRESCH');
    const careForm = consentResource({ ...emptyScope(), bsn: BSN, status: 'active', provision: 'deny' });
    assert.equal(parseConsent(careForm).purpose, undefined);
    // A research scope with a care purpose, or none, is refused: never silently a care choice.
    const mixed = { ...fhir, provision: { ...fhir.provision, purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] } };
    assert.throws(() => parseConsent(mixed), (e: HttpError) => e.status === 422);
    assert.throws(() => parseConsent({ ...fhir, provision: { ...fhir.provision, purpose: undefined } }), (e: HttpError) => e.status === 422);
    assert.throws(() => parseConsent({ ...careForm, provision: { ...careForm.provision, purpose: fhir.provision?.purpose } }), (e: HttpError) => e.status === 422);
  });

  it('accepts a research closed question without professional or exchange, and refuses one naming an exchange', () => {
    const q = parseClosedQuestion({ bsn: BSN, holderUra: '90000102', holderType: 'V4', requesterUra: HDAB, requesterType: 'HDAB', purposeOfUse: 'HRESCH' }, AGREEMENTS);
    assert.equal(q.purposeOfUse, 'HRESCH');
    // The holder's question as the contract words it (event code, role and permit id as requester).
    const contract = { bsn: BSN, holderUra: '90000102', holderType: 'V4', requesterUra: HDAB, requesterType: 'HDAB', requesterRole: 'hdab', requesterId: 'permit-1', purposeOfUse: 'HRESCH', eventCode: 'secondary-use-extraction' };
    assert.equal(parseClosedQuestion(contract, AGREEMENTS).eventCode, 'secondary-use-extraction');
    assert.throws(() => parseClosedQuestion({ ...contract, eventCode: 'GGC002' }, AGREEMENTS), (e: HttpError) => e.status === 400);
    assert.throws(() => parseClosedQuestion({ ...contract, purposeOfUse: 'TREAT' }, AGREEMENTS), (e: HttpError) => e.status === 400);
    assert.throws(
      () => parseClosedQuestion({ bsn: BSN, holderUra: '90000102', holderType: 'V4', requesterUra: HDAB, requesterType: 'HDAB', purposeOfUse: 'HRESCH', exchange: 'x' }, AGREEMENTS),
      (e: HttpError) => e.status === 400,
    );
    assert.throws(() => parseClosedQuestion({ bsn: BSN, holderUra: '90000102', purposeOfUse: 'HRESCH' }, AGREEMENTS), (e: HttpError) => e.status === 400);
  });
});

for (const backend of await backends()) {
  describe(`research opt-out in the registry on ${backend.name}`, () => {
    it('stores the kind and answers each question from its own kind', async () => {
      const store = await backend.open('consent', CONSENT_MIGRATIONS);
      try {
        const reg = new ConsentRegistry(store);
        const objection = await reg.create(consentResource({ ...emptyScope(), bsn: BSN, status: 'active', provision: 'deny', purpose: 'HRESCH' }), { kind: 'citizen' });
        assert.equal((await reg.closedQuestion(research, 'opt-in')).decision, 'Deny');
        assert.equal((await reg.closedQuestion(care, 'opt-out')).decision, 'Permit');
        await reg.update(objection.id, { ...objection.resource, status: 'inactive' }, { kind: 'citizen' });
        assert.equal((await reg.closedQuestion(research, 'opt-in')).decision, 'Permit');
      } finally {
        await store.close();
      }
    });
  });
}
