import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { backends } from '../../kit/testing/backends.ts';
import type { Store } from '../../kit/store/store.ts';
import { bulkExportMigrations, type ExportJob, JobStore } from './jobs.ts';

// Export jobs live in the node's tables, on PGlite and PostgreSQL alike: two instances share
// them, a job whose instance stopped is taken over (its partial output discarded), a cancel wins
// over a late write, a file is handed out once, expired jobs go with their files.

const job = (over: Partial<ExportJob> = {}): Omit<ExportJob, 'status' | 'progress' | 'error'> => ({
  id: randomUUID(),
  tenantUra: '90000101',
  permitJti: 'permit-1',
  requesterUra: '90000950',
  permit: 'a.b.c',
  types: ['Patient', 'Condition'],
  requestUrl: 'https://node/org/90000101/fhir/$export',
  transactionTime: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  ...over,
});

for (const backend of await backends()) {
  describe(`bulk export jobs (${backend.name})`, () => {
    // One store per backend (opening PGlite is the slow part); every test uses jobs of its own.
    let shared: Promise<Store> | undefined;
    after(async () => (await shared)?.close());
    const open = () => {
      shared ??= backend.open('bulk_export', bulkExportMigrations);
      return shared;
    };

    it('a second instance sees the job, takes it over once the lease runs out, and drops the partial output', async () => {
      const store = await open();
      const a = new JobStore(store, 'a', 60_000);
      const b = new JobStore(store, 'b', 60_000);
      const j = job();
      await a.create(j);
      assert.equal(await a.addFile(j.id, 0, 'Patient', 1, '{}\n'), true);
      assert.ok(!(await b.takeOver()).some((t) => t.id === j.id), 'a live lease is not taken over');
      // Instance a stops without finishing: its lease runs out (set so, not waited for).
      await store.query(`UPDATE bulk_export_jobs SET lease_until = now() - interval '1 second' WHERE id = $1`, [j.id]);
      const taken = await b.takeOver();
      assert.deepEqual(taken.map((t) => t.id), [j.id]);
      assert.deepEqual(await b.files(j.id), [], 'partial output discarded');
      assert.equal(await a.addFile(j.id, 1, 'Patient', 1, '{}\n'), false, 'the old owner can no longer write');
      assert.equal(await a.renew(j.id, 'x'), false);
      assert.equal(await b.addFile(j.id, 0, 'Patient', 2, '{}\n{}\n'), true);
      assert.equal(await b.finish(j.id, 'done'), true);
      assert.equal((await a.get(j.id))?.status, 'done');
      assert.deepEqual(await a.files(j.id), [{ seq: 0, type: 'Patient', count: 2 }]);
    });

    it('cancel removes the files and wins over a late write; a file is handed out once', async () => {
      const store = await open();
      const a = new JobStore(store, 'a');
      const j = job();
      await a.create(j);
      await a.addFile(j.id, 0, 'Patient', 1, 'x\n');
      await a.cancel(j.id);
      assert.equal(await a.addFile(j.id, 1, 'Patient', 1, 'y\n'), false);
      assert.deepEqual(await a.files(j.id), []);
      const k = job();
      await a.create(k);
      await a.addFile(k.id, 0, 'Condition', 1, 'z\n');
      await a.finish(k.id, 'done');
      assert.equal(await a.takeFile(k.id, 0), 'z\n');
      assert.equal(await a.takeFile(k.id, 0), null);
    });

    it('expired jobs are swept with their files', async () => {
      const store = await open();
      const a = new JobStore(store, 'a');
      const j = job({ expiresAt: new Date(Date.now() - 1000).toISOString() });
      await a.create(j);
      await a.addFile(j.id, 0, 'Patient', 1, 'x\n');
      assert.ok((await a.sweep()) >= 1);
      assert.equal(await a.get(j.id), null);
      assert.deepEqual(await a.files(j.id), []);
    });
  });
}
