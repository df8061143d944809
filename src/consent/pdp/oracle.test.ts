import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATA_CATEGORY_CODES } from '../../kit/fhir/profiles/gf-codes.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { isUra, ORGANIZATION_TYPES, UZI_ROLES } from '../../kit/identifiers/roles.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { OPERATOR_ORGANIZATION_TYPE } from '../../trust/seed.ts';
import type { ClosedAnswer, ClosedQuestion } from '../model.ts';
import { CachedConsentOracle, type ConsentOracle } from './oracle.ts';

const q = (bsn: string): ClosedQuestion => ({
  bsn, holderUra: '90000102', holderType: 'V4', requesterUra: '90000101', requesterType: 'V4',
  requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002',
});

function counting(): ConsentOracle & { calls: number; decision: ClosedAnswer['decision']; fail: boolean } {
  const o = {
    calls: 0,
    decision: 'Permit' as ClosedAnswer['decision'],
    fail: false,
    async closedQuestion(): Promise<ClosedAnswer> {
      o.calls += 1;
      if (o.fail) throw new Error('down');
      return { decision: o.decision, rule: { kind: 'network-default', mode: 'opt-out' }, reason: 'test' };
    },
  };
  return o;
}

describe('cached consent oracle', () => {
  it('answers repeats from the cache until the TTL, and at once after an invalidation', async () => {
    let now = 0;
    const inner = counting();
    const cache = new CachedConsentOracle(inner, { ttlMs: 4000, now: () => now });
    const a = testBsn(1);
    await Promise.all([cache.closedQuestion(q(a)), cache.closedQuestion(q(a))]);
    assert.equal(inner.calls, 1, 'concurrent misses share one call');
    inner.decision = 'Deny';
    assert.equal((await cache.closedQuestion(q(a))).decision, 'Permit');
    cache.invalidate(a);
    assert.equal((await cache.closedQuestion(q(a))).decision, 'Deny');
    inner.decision = 'Permit';
    now = 4001;
    assert.equal((await cache.closedQuestion(q(a))).decision, 'Permit', 'TTL bounds staleness (< 5 s)');
  });

  it('does not cache failures and stays within its size bound', async () => {
    const inner = counting();
    const cache = new CachedConsentOracle(inner, { maxEntries: 3 });
    inner.fail = true;
    await assert.rejects(cache.closedQuestion(q(testBsn(2))));
    inner.fail = false;
    assert.equal((await cache.closedQuestion(q(testBsn(2)))).decision, 'Permit');
    for (let i = 0; i < 10; i++) await cache.closedQuestion(q(testBsn(100 + i)));
    const calls = inner.calls;
    await cache.closedQuestion(q(testBsn(100)));
    assert.equal(inner.calls, calls + 1, 'the oldest patient was evicted');
  });
});

describe('default agreements', () => {
  it('uses only known roles, organisation types and data categories, and names every exchange scope', () => {
    const doc = defaultAgreements();
    assert.equal(doc.exchanges.length, 7);
    const scopes = new Set(doc.scopes.map((s) => s.scope));
    for (const s of ['prs:eval', 'nvi:read', 'nvi:write', 'directory:write', 'consent:read', 'consent:write', 'transparency:write']) assert.ok(scopes.has(s), s);
    for (const e of doc.exchanges) {
      for (const r of e.requesterRoles) assert.ok(r in UZI_ROLES, `${e.code}: role ${r}`);
      // The operator's type (its citizen portal asks for citizen-access) is no care organisation type.
      for (const t of [...e.requesterOrganizationTypes, ...e.holderOrganizationTypes]) assert.ok(t in ORGANIZATION_TYPES || t === OPERATOR_ORGANIZATION_TYPE, `${e.code}: type ${t}`);
      for (const c of e.dataCategories) assert.ok(DATA_CATEGORY_CODES.has(c), `${e.code}: category ${c}`);
      for (const s of e.scopes) assert.ok(scopes.has(s), `${e.code}: scope ${s}`);
      assert.ok(e.queries.length > 0 && e.legalBasis.length > 0);
      assert.equal(e.emergencyAccess, e.legalBasis.includes('emergency-access'));
    }
    assert.ok(!isUra(doc.issuer));
  });
});
