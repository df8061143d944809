import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testBsn } from '../kit/identifiers/bsn.ts';
import type { Store } from '../kit/store/store.ts';
import { backends } from '../kit/testing/backends.ts';
import { nviMigrations } from './migrations.ts';
import { findBySource, findBySubject, readReferral, registerReferral, withdrawById, withdrawBySubject } from './referrals.ts';
import { SubjectRefused, subjectHashes } from './subject-hash.ts';
import { inProcessPseudonyms } from './test-support.ts';

const ALL = ['MedicationUse', 'AllergyIntolerance', 'Condition', 'Imaging'];

for (const backend of await backends()) {
  describe(`NVI referrals on ${backend.name}`, () => {
    let store: Store;
    let prs: Awaited<ReturnType<typeof inProcessPseudonyms>>;
    const subjectOf = async (bsn: string) => subjectHashes(await prs.token(bsn), prs.keys);

    before(async () => {
      store = await backend.open('nvi', nviMigrations);
      prs = await inProcessPseudonyms();
    });
    after(async () => store.close());

    it('registers idempotently: the same fact twice gives one referral', async () => {
      const bsn = testBsn(1001);
      const a = await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000103', category: 'MedicationUse', sourceClient: 'zuid' });
      const b = await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000103', category: 'MedicationUse', sourceClient: 'zuid' });
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(b.referral.id, a.referral.id);
      assert.equal((await findBySubject(store, await subjectOf(bsn), ALL)).length, 1);
    });

    it('finds a subject across custodians, filtered by the allowed categories and code', async () => {
      const bsn = testBsn(2002);
      for (const [custodian, category] of [['90000101', 'AllergyIntolerance'], ['90000104', 'MedicationUse'], ['90000102', 'Imaging']]) {
        await registerReferral(store, { subject: await subjectOf(bsn), custodian, category, sourceClient: `c-${custodian}` });
      }
      const subject = await subjectOf(bsn);
      assert.equal((await findBySubject(store, subject, ALL)).length, 3);
      const acute = await findBySubject(store, subject, ['AllergyIntolerance', 'MedicationUse']);
      assert.deepEqual(acute.map((r) => r.custodian), ['90000101', '90000104']);
      assert.deepEqual((await findBySubject(store, subject, ALL, 'Imaging')).map((r) => r.custodian), ['90000102']);
      assert.deepEqual(await findBySubject(store, subject, ['MedicationUse'], 'Imaging'), []);
      assert.deepEqual(await findBySubject(store, await subjectOf(testBsn(2003)), ALL), []);
    });

    it('lists a custodian\'s own registrations by source client, and withdraws only its own', async () => {
      const bsn = testBsn(3003);
      const { referral } = await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000105', category: 'Condition', sourceClient: 'thuiszorg' });
      assert.equal((await findBySource(store, '90000105', 'thuiszorg', { count: 10, offset: 0 })).length, 1);
      assert.equal((await findBySource(store, '90000101', 'thuiszorg', { count: 10, offset: 0 })).length, 0);
      assert.equal(await withdrawById(store, referral.id, '90000101'), 'not-custodian');
      assert.equal(await withdrawById(store, referral.id, '90000105'), 'deleted');
      assert.equal(await withdrawById(store, referral.id, '90000105'), 'not-found');
      assert.equal(await readReferral(store, 'not-a-uuid'), null);
    });

    it('conditional withdraw removes the custodian\'s referrals for a subject only', async () => {
      const bsn = testBsn(4004);
      await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000103', category: 'Condition', sourceClient: 'x' });
      await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000104', category: 'Condition', sourceClient: 'y' });
      assert.equal(await withdrawBySubject(store, await subjectOf(bsn), '90000103', 'Condition'), 1);
      assert.deepEqual((await findBySubject(store, await subjectOf(bsn), ALL)).map((r) => r.custodian), ['90000104']);
    });

    it('survives a PRS key rotation: old referrals stay findable, re-registration moves them to the new version', async () => {
      const bsn = testBsn(5005);
      await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000101', category: 'Condition', sourceClient: 'v' });
      prs.rotate([1, 2]);
      try {
        const rotated = await subjectOf(bsn);
        assert.equal(rotated.length, 2);
        assert.equal((await findBySubject(store, rotated, ALL)).length, 1);
        const again = await registerReferral(store, { subject: rotated, custodian: '90000101', category: 'Condition', sourceClient: 'v' });
        assert.equal(again.created, true);
        assert.equal((await findBySubject(store, rotated, ALL)).length, 1);
        assert.equal((await findBySubject(store, [rotated[1]], ALL)).length, 0);
      } finally {
        prs.rotate([1]);
      }
    });

    it('refuses a malformed subject identifier', async () => {
      await assert.rejects(subjectHashes('999999990', prs.keys), SubjectRefused);
    });

    it('a dump of every NVI table contains no BSN', async () => {
      const bsns = Array.from({ length: 25 }, (_, i) => testBsn(7000 + i));
      for (const [i, bsn] of bsns.entries()) {
        await registerReferral(store, { subject: await subjectOf(bsn), custodian: '90000102', category: ALL[i % ALL.length], sourceClient: 'dump' });
      }
      const tables = await store.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      assert.ok(tables.some((t) => t.table_name === 'referrals'));
      let dump = '';
      for (const { table_name } of tables) {
        const rows = await store.query<{ line: string }>(`SELECT row_to_json(t)::text AS line FROM ${table_name} t`);
        dump += rows.map((r) => r.line).join('\n');
      }
      assert.ok(dump.length > 1000);
      for (const bsn of [...bsns, testBsn(1001), testBsn(2002)]) {
        assert.equal(dump.includes(bsn), false, 'BSN in clear');
        assert.equal(dump.includes(Buffer.from(bsn).toString('hex')), false, 'BSN as hex');
      }
    });
  });
}
