import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBsn } from '../kit/identifiers/bsn.ts';
import type { Queryable, Store } from '../kit/store/store.ts';
import { backends } from '../kit/testing/backends.ts';
import { nviMigrations } from './migrations.ts';
import { findBySubject, registerReferral, type SubjectHash } from './referrals.ts';
import { subjectHashes } from './subject-hash.ts';
import { batchedSubjectLookup } from './subject-lookups.ts';
import { inProcessPseudonyms } from './test-support.ts';

// Lookups batched per event-loop turn must answer each caller exactly what its own query would:
// its subject only, its categories only, in the same order.

const ALL = ['MedicationUse', 'AllergyIntolerance', 'Condition', 'Imaging'];

for (const backend of await backends()) {
  describe(`NVI batched subject lookups on ${backend.name}`, () => {
    let store: Store;
    let prs: Awaited<ReturnType<typeof inProcessPseudonyms>>;
    const subjectOf = async (bsn: string) => subjectHashes(await prs.token(bsn), prs.keys);
    const subjects: SubjectHash[][] = [];

    before(async () => {
      store = await backend.open('nvi', nviMigrations);
      prs = await inProcessPseudonyms();
      const facts: Array<[number, string, string]> = [
        [0, '90000104', 'MedicationUse'], [0, '90000101', 'AllergyIntolerance'], [0, '90000102', 'Imaging'],
        [1, '90000101', 'Condition'], [1, '90000103', 'MedicationUse'],
        [2, '90000105', 'Imaging'],
      ];
      for (let i = 0; i < 4; i++) subjects.push(await subjectOf(testBsn(8100 + i)));
      for (const [s, custodian, category] of facts) await registerReferral(store, { subject: subjects[s], custodian, category, sourceClient: 'batch' });
    });
    after(async () => store.close());

    it('answers each lookup of one turn what findBySubject answers it alone, in one query', async () => {
      let queries = 0;
      const counted: Queryable = {
        query: (...args) => {
          queries++;
          return store.query(...args);
        },
      };
      const lookup = batchedSubjectLookup(counted);
      const asks: Array<[SubjectHash[], string[], string | undefined]> = [
        [subjects[0], ALL, undefined],
        [subjects[0], ['AllergyIntolerance', 'MedicationUse'], undefined],
        [subjects[1], ALL, undefined],
        [subjects[1], ['Imaging'], undefined], // registered, but not in these categories
        [subjects[2], ALL, 'Imaging'],
        [subjects[2], ['MedicationUse'], 'Imaging'], // asks for a category it may not see
        [subjects[3], ALL, undefined], // nothing registered
        [subjects[0], ALL, 'Condition'],
      ];
      const batched = await Promise.all(asks.map(([s, allowed, code]) => lookup(s, allowed, code)));
      const alone = [];
      for (const [s, allowed, code] of asks) alone.push(await findBySubject(store, s, allowed, code));
      assert.deepEqual(batched, alone);
      assert.equal(queries, 1);
      assert.deepEqual(batched[0].map((r) => r.custodian), ['90000101', '90000102', '90000104']);
      assert.deepEqual(batched[3], []);
      assert.deepEqual(batched[5], []);
    });

    it('finds a subject by any of its key versions inside a batch', async () => {
      const bsn = testBsn(8200);
      await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000101', category: 'Condition', sourceClient: 'v' });
      prs.rotate([1, 2]);
      try {
        const rotated = await subjectOf(bsn);
        assert.equal(rotated.length, 2);
        // A second fact under the current version, ordered after the one under the old version.
        await registerReferral(store, { subject: rotated, custodian: '90000109', category: 'Imaging', sourceClient: 'v' });
        const lookup = batchedSubjectLookup(store);
        const [both, newOnly, other] = await Promise.all([lookup(rotated, ALL), lookup([rotated[0]], ALL), lookup(subjects[1], ALL)]);
        assert.deepEqual(both, await findBySubject(store, rotated, ALL));
        assert.deepEqual(both.map((r) => r.custodian), ['90000101', '90000109']);
        assert.deepEqual(newOnly, await findBySubject(store, [rotated[0]], ALL));
        assert.equal(other.length, 2);
      } finally {
        prs.rotate([1]);
      }
    });

    it('answers a lone lookup, and a turn with more lookups than one query takes', async () => {
      const lookup = batchedSubjectLookup(store);
      assert.deepEqual(await lookup(subjects[1], ALL), await findBySubject(store, subjects[1], ALL));
      const many = await Promise.all(Array.from({ length: 150 }, (_, i) => lookup(subjects[i % 4], ALL)));
      for (let i = 0; i < many.length; i++) assert.deepEqual(many[i], await findBySubject(store, subjects[i % 4], ALL));
    });
  });
}

describe('NVI batched subject lookups when the database fails', () => {
  it('fails every lookup of the batch, and the next turn queries again', async () => {
    let calls = 0;
    const failing: Queryable = {
      async query() {
        calls++;
        throw new Error('database unavailable');
      },
    };
    const lookup = batchedSubjectLookup(failing);
    const hash = (b: number): SubjectHash[] => [{ version: 1, hash: Buffer.alloc(32, b) }];
    const results = await Promise.allSettled([lookup(hash(1), ALL), lookup(hash(2), ALL), lookup(hash(3), ['Imaging'])]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
    assert.equal(calls, 1);
    await assert.rejects(lookup(hash(4), ALL), /database unavailable/);
    assert.equal(calls, 2);
  });
});
