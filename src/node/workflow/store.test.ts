import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { backends } from '../../kit/testing/backends.ts';
import type { Store } from '../../kit/store/store.ts';
import { workflowMigrations } from './migrations.ts';
import { claimDue, deliveryOf, getTask, insertTaskWithNotification, listInbox, markDelivered, markFailed, markRetry, receiveNotification, updateTaskStatus } from './store.ts';

// The workflow tables on both backends: a Task exists only with its outbox row, a due row is
// claimed by one pass only, a notified Task is one handover however often it arrives, and a
// status moves only from the status it was read in.

const names = () => ({ tenantName: 'Ziekenhuis Veluwe' });
const task = (id: string) => ({
  id,
  tenantUra: '90000101',
  exchange: 'eoverdracht',
  ownerUra: '90000105',
  patientId: 'p1',
  status: 'requested' as const,
  inputs: ['Composition/c1'],
  requester: { deziNumber: '900001013' },
});

for (const backend of await backends()) {
  describe(`workflow store on ${backend.name}`, () => {
    const stores: Store[] = [];
    const open = async () => {
      const s = await backend.open('wf', workflowMigrations);
      stores.push(s);
      return s;
    };
    after(async () => {
      for (const s of stores) await s.close();
    });

    it('writes a Task with its outbox row; a due row is claimed once, then retried, delivered or refused', async () => {
      const store = await open();
      await insertTaskWithNotification(store, task('t1'));
      await insertTaskWithNotification(store, task('t2'));
      const [first, second] = await Promise.all([claimDue(store, 10, 30_000), claimDue(store, 10, 30_000)]);
      assert.deepEqual([...first, ...second].map((r) => r.taskId).sort(), ['t1', 't2'], 'each row claimed by one pass');
      assert.deepEqual(await claimDue(store, 10, 30_000), [], 'leased rows are not due');
      await markRetry(store, 't1', 'connection refused', 0);
      assert.deepEqual((await claimDue(store, 10, 30_000)).map((r) => r.taskId), ['t1']);
      await markDelivered(store, 't1');
      await markFailed(store, 't2', 'HTTP 422: does not receive');
      assert.deepEqual(await deliveryOf(store, 't1'), { state: 'delivered', attempts: 2, lastError: undefined });
      assert.equal((await deliveryOf(store, 't2'))?.state, 'refused');
      assert.equal((await getTask(store, 't1', names))?.inputs[0], 'Composition/c1');
    });

    it('the same Task id twice is refused, leaving one Task and one outbox row', async () => {
      const store = await open();
      await insertTaskWithNotification(store, task('t3'));
      await assert.rejects(insertTaskWithNotification(store, task('t3')));
      assert.equal((await store.query('SELECT id FROM workflow_tasks')).length, 1);
      assert.equal((await store.query('SELECT task_id FROM workflow_outbox')).length, 1);
    });

    it('one handover per workflow Task, however often it is notified', async () => {
      const store = await open();
      const n = { tenantUra: '90000105', senderUra: '90000101', exchange: 'eoverdracht', taskUrl: 'https://n.example/org/90000101/fhir/Task/t1' };
      const results = await Promise.all([1, 2, 3].map((i) => receiveNotification(store, { ...n, id: `n${i}` })));
      assert.equal(results.filter((r) => r.created).length, 1);
      assert.equal(new Set(results.map((r) => r.record.id)).size, 1);
      assert.equal((await listInbox(store, '90000105')).length, 1);
    });

    it('a status moves only from the status it was read in', async () => {
      const store = await open();
      await insertTaskWithNotification(store, task('t4'));
      const moves = await Promise.all([updateTaskStatus(store, 't4', 'requested', 'accepted', undefined, []), updateTaskStatus(store, 't4', 'requested', 'rejected', 'vol', [])]);
      assert.deepEqual(moves.sort(), [false, true]);
      assert.equal(await updateTaskStatus(store, 't4', 'requested', 'accepted', undefined, []), false);
    });
  });
}
