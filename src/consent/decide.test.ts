import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { decide, specificityFor } from './decide.ts';
import type { ClosedQuestion, ConsentRecord, ConsentScope } from './model.ts';

const BSN = testBsn(1001);
const question: ClosedQuestion = {
  bsn: BSN,
  holderUra: '90000102',
  holderType: 'V4',
  requesterUra: '90000101',
  requesterType: 'V4',
  requesterRole: '01.045',
  requesterId: '900001011',
  purposeOfUse: 'TREAT',
  eventCode: 'GGC002',
  dataCategory: 'AllergyIntolerance',
};
const any: ConsentScope = { holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [] };
let n = 0;
function rec(provision: 'permit' | 'deny', scope: Partial<ConsentScope> = {}, extra: Partial<ConsentRecord> = {}): ConsentRecord {
  n += 1;
  return { id: `c${n}`, version: 1, bsn: BSN, status: 'active', provision, ...any, ...scope, ...extra };
}

describe('consent decision engine', () => {
  it('applies the network default when nothing is recorded', () => {
    assert.equal(decide(question, [], 'opt-in').decision, 'Deny');
    assert.equal(decide(question, [], 'opt-out').decision, 'Permit');
    assert.deepEqual(decide(question, [], 'opt-out').rule, { kind: 'network-default', mode: 'opt-out' });
  });

  it('answers NotApplicable for a purpose other than treatment or research', () => {
    const a = decide({ ...question, purposeOfUse: 'HPAYMT' }, [rec('permit')], 'opt-out');
    assert.equal(a.decision, 'NotApplicable');
  });

  it('lets a general consent permit in opt-in and a general objection deny in opt-out', () => {
    assert.equal(decide(question, [rec('permit')], 'opt-in').decision, 'Permit');
    assert.equal(decide(question, [rec('deny')], 'opt-out').decision, 'Deny');
  });

  it('lets an individual provider beat an organisation type and a type beat a general choice', () => {
    const general = rec('deny');
    const hospitals = rec('permit', { requesterTypes: ['V4'] });
    assert.equal(decide(question, [general, hospitals], 'opt-in').rule.kind, 'record');
    assert.equal(decide(question, [general, hospitals], 'opt-in').decision, 'Permit');
    const notVeluwe = rec('deny', { requesterUras: ['90000101'] });
    const a = decide(question, [general, hospitals, notVeluwe], 'opt-in');
    assert.equal(a.decision, 'Deny');
    assert.equal(a.rule.kind === 'record' && a.rule.consentId, notVeluwe.id);
  });

  it('lets an objection win at equal specificity, whatever the order', () => {
    const p = rec('permit', { requesterTypes: ['V4'] });
    const d = rec('deny', { dataCategories: ['AllergyIntolerance'] });
    assert.equal(decide(question, [p, d], 'opt-out').decision, 'Deny');
    assert.equal(decide(question, [d, p], 'opt-out').decision, 'Deny');
  });

  it('ignores withdrawn, expired, future and other citizens\' records', () => {
    const past = new Date(Date.now() - 86400_000);
    const future = new Date(Date.now() + 86400_000);
    const records = [
      rec('permit', {}, { status: 'inactive' }),
      rec('permit', {}, { periodEnd: past }),
      rec('permit', {}, { periodStart: future }),
      rec('permit', {}, { bsn: testBsn(5) }),
    ];
    assert.equal(decide(question, records, 'opt-in').decision, 'Deny');
  });

  it('does not answer an uncategorised question with a category permit, but does with a category objection', () => {
    const q = { ...question, dataCategory: undefined };
    assert.equal(decide(q, [rec('permit', { dataCategories: ['MedicationUse'] })], 'opt-in').decision, 'Deny');
    assert.equal(decide(q, [rec('deny', { dataCategories: ['MedicationUse'] })], 'opt-out').decision, 'Deny');
  });

  it('matches holder-side restrictions', () => {
    const onlyPharmacies = rec('permit', { holderTypes: ['J8'] });
    assert.equal(specificityFor(onlyPharmacies, question), -1);
    assert.equal(specificityFor(rec('permit', { holderUras: ['90000102'] }), question), 2);
  });

  const scopeArb = fc.record({
    holderUras: fc.subarray(['90000102', '90000103']),
    holderTypes: fc.subarray(['V4', 'Z3']),
    requesterUras: fc.subarray(['90000101', '90000104']),
    requesterTypes: fc.subarray(['V4', 'J8']),
    dataCategories: fc.subarray(['AllergyIntolerance', 'MedicationUse']),
  });
  const recordsArb = fc.array(fc.tuple(fc.constantFrom<'permit' | 'deny'>('permit', 'deny'), scopeArb), { maxLength: 8 });

  it('is independent of record order (property)', () => {
    fc.assert(
      fc.property(recordsArb, fc.constantFrom<'opt-in' | 'opt-out'>('opt-in', 'opt-out'), (spec, mode) => {
        const records = spec.map(([p, s], i) => ({ ...rec(p, s), id: `r${i}` }));
        const a = decide(question, records, mode);
        const b = decide(question, [...records].reverse(), mode);
        assert.equal(a.decision, b.decision);
        if (a.rule.kind === 'record' && b.rule.kind === 'record') assert.equal(a.rule.specificity, b.rule.specificity);
      }),
    );
  });

  it('answers from a record exactly when one applies, and a deny at top specificity always wins (property)', () => {
    fc.assert(
      fc.property(recordsArb, (spec) => {
        const records = spec.map(([p, s], i) => ({ ...rec(p, s), id: `r${i}` }));
        const scores = records.map((r) => specificityFor(r, question));
        const top = Math.max(-1, ...scores);
        const a = decide(question, records, 'opt-in');
        assert.equal(a.rule.kind === 'record', top >= 0);
        if (top >= 0) {
          const denyAtTop = records.some((r, i) => scores[i] === top && r.provision === 'deny');
          assert.equal(a.decision, denyAtTop ? 'Deny' : 'Permit');
        }
      }),
    );
  });
});
