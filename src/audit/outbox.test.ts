import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Store } from '../kit/store/store.ts';
import { appendAuditEvent, auditLogMigrations } from './chain.ts';
import { buildAuditEvent } from './event.ts';
import { backoffMs, deliverOutbox } from './outbox.ts';
import { BACKENDS, postgresReachable } from './test-stores.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from './test-fixtures.ts';

describe('backoffMs', () => {
  it('grows exponentially up to the ceiling, with jitter in the upper half', () => {
    assert.equal(backoffMs(0, 100, 10_000, 1), 100);
    assert.equal(backoffMs(3, 100, 10_000, 1), 800);
    assert.equal(backoffMs(20, 100, 10_000, 1), 10_000);
    assert.equal(backoffMs(3, 100, 10_000, 0), 400);
  });
});

for (const backend of BACKENDS) {
  describe(`outbox on ${backend.name}`, async () => {
    const skip = backend.name === 'postgres' && !(await postgresReachable());
    let store: Store;
    before(async () => {
      if (!skip) store = await backend.open(auditLogMigrations);
    });
    after(async () => {
      if (!skip) await store.close();
    });

    it('loses nothing while the receiver is down, delivers after, receiver de-duplicates', { skip }, async () => {
      let clock = new Date(Date.now() + 60_000);
      const now = () => clock;
      const received = new Map<string, AuditEvent>();
      let up = false;
      let calls = 0;
      const send = async (e: AuditEvent) => {
        calls += 1;
        if (!up) throw new Error('connection refused');
        received.set(e.id!, e); // receiver is idempotent by id
      };
      for (let i = 0; i < 25; i++) {
        await appendAuditEvent(store, buildAuditEvent(sampleInput({ id: `o${i}`, when: clock.toISOString() })), { outbox: true });
      }
      // Local-only events (no pseudonym) are not queued.
      await appendAuditEvent(store, buildAuditEvent(sampleInput({ id: 'local', patient: { localReference: 'Patient/x' } })), { outbox: true });

      const down = await deliverOutbox(store, send, { now, batchSize: 10, baseBackoffMs: 1000 });
      assert.deepEqual(down, { delivered: 0, failed: 1, rejected: 0, pending: 25 });
      assert.equal(calls, 1, 'a pass stops at the first failure');
      // Leased rows back off; the unleased ones get one try each pass until all are backing off.
      for (let i = 0; i < 4; i++) await deliverOutbox(store, send, { now, batchSize: 10, baseBackoffMs: 1000 });
      assert.equal(calls, 3);

      clock = new Date(clock.getTime() + 60_000);
      up = true;
      // Simulate a lost acknowledgement: one event already arrived before.
      received.set('o0', {} as AuditEvent);
      let pass = await deliverOutbox(store, send, { now, batchSize: 10 });
      while (pass.pending > 0) pass = await deliverOutbox(store, send, { now, batchSize: 10 });
      assert.equal(received.size, 25);
      assert.ok(!received.has('local'));
      const [row] = await store.query('SELECT count(*)::int AS n FROM audit_outbox');
      assert.equal(row.n, 0);
      // The transparency copy carries the pseudonym, not the local patient reference.
      assert.ok(!JSON.stringify(received.get('o5')).includes('Patient/p1'));
      // The PRS token travels in the outbox copy only, never in the node's own chain.
      assert.ok(JSON.stringify(received.get('o5')).includes(SAMPLE_PSEUDONYM_TOKEN));
      assert.ok(!JSON.stringify(await store.query('SELECT * FROM audit_log')).includes(SAMPLE_PSEUDONYM_TOKEN));
    });

    it('moves a copy the receiver refuses for good aside (without its token) and delivers the rest', { skip }, async () => {
      const now = () => new Date(Date.now() + 3600_000);
      for (const id of ['r1', 'r2', 'r3']) await appendAuditEvent(store, buildAuditEvent(sampleInput({ id })), { outbox: true });
      const got: string[] = [];
      const send = async (e: AuditEvent) => {
        if (e.id === 'r2') throw Object.assign(new Error('422: patient pseudonym token refused: expired'), { status: 422 });
        got.push(e.id!);
      };
      assert.deepEqual(await deliverOutbox(store, send, { now }), { delivered: 2, failed: 0, rejected: 1, pending: 0 });
      assert.deepEqual(got, ['r1', 'r3']);
      const rows = await store.query<{ event_id: string; status: number; body: string; error: string }>('SELECT * FROM audit_outbox_rejected');
      assert.equal(rows.length, 1);
      assert.equal(rows[0].event_id, 'r2');
      assert.equal(rows[0].status, 422);
      assert.match(rows[0].error, /expired/);
      assert.ok(!rows[0].body.includes(SAMPLE_PSEUDONYM_TOKEN));
    });
  });
}
