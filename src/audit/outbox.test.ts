import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent } from '@medplum/fhirtypes';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { appendAuditEvent, auditLogMigrations, createAuditLogWriter } from './chain.ts';
import { buildAuditEvent, summarizeAuditEvent } from './event.ts';
import { backoffMs, deliverOutbox, type TokenAtDelivery, transparencySender } from './outbox.ts';
import { generateOutboxKey, outboxSealer } from './outbox-sealing.ts';
import { startTransparencyNetwork } from './transparency/test-network.ts';
import { BACKENDS, postgresReachable } from './test-stores.ts';
import { SAMPLE_PSEUDONYM_TOKEN, sampleInput } from './test-fixtures.ts';

/** Every way a BSN could sit in a dump in clear: digits, base64 and hex of its text. */
function assertNoBsn(dump: string, bsn: string) {
  assert.ok(!dump.includes(bsn), 'BSN in clear');
  assert.ok(!dump.includes(Buffer.from(bsn).toString('base64').slice(0, 12)), 'BSN as base64');
  assert.ok(!dump.includes(Buffer.from(bsn).toString('base64url').slice(0, 12)), 'BSN as base64url');
  assert.ok(!dump.includes(Buffer.from(bsn).toString('hex')), 'BSN as hex');
}

const dumpOutboxTables = async (store: Store) =>
  JSON.stringify([
    await store.query('SELECT * FROM audit_log'),
    await store.query('SELECT * FROM audit_outbox'),
    await store.query('SELECT * FROM audit_outbox_rejected'),
    await store.query('SELECT * FROM audit_chain_head'),
  ]);

describe('outboxSealer', () => {
  const bsn = testBsn(77);
  it('opens what it sealed, for the same event only, with the same key only', () => {
    const sealer = outboxSealer(generateOutboxKey());
    const sealed = sealer.seal(bsn, 'ev-1');
    assertNoBsn(sealed, bsn);
    assert.notEqual(sealer.seal(bsn, 'ev-1'), sealed, 'a fresh IV each time');
    assert.equal(sealer.open(sealed, 'ev-1'), bsn);
    assert.throws(() => sealer.open(sealed, 'ev-2'), 'moved onto another row');
    assert.throws(() => outboxSealer(generateOutboxKey()).open(sealed, 'ev-1'), 'another key');
    const [v, iv, ct, tag] = sealed.split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    assert.throws(() => sealer.open([v, iv, flipped.toString('base64url'), tag].join('.'), 'ev-1'), 'altered');
  });
  it('refuses a key of the wrong size and a value that is not a BSN', () => {
    assert.throws(() => outboxSealer(new Uint8Array(16)), /32 bytes/);
    assert.throws(() => outboxSealer(generateOutboxKey()).seal('123456789', 'ev-1'), /not a valid BSN/);
  });
});

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

    it('queues a patient access while the PRS is down at access time; the token is fetched at delivery', { skip }, async () => {
      await store.exec('DELETE FROM audit_outbox; DELETE FROM audit_outbox_rejected');
      let clock = new Date(Date.now() + 7200_000);
      const now = () => clock;
      const bsn = testBsn(5150);
      const sealer = outboxSealer(generateOutboxKey());
      // No PRS call at access: the event names the patient locally, the BSN goes sealed to the outbox.
      const writer = createAuditLogWriter(store, { outbox: true, sealer });
      const accessEvent = (id: string) => buildAuditEvent(sampleInput({ id, when: clock.toISOString(), patient: { localReference: 'Patient/p1' } }));
      await Promise.all(['s1', 's2'].map((id) => writer.append(accessEvent(id), { bsn })));
      await writer.flush();
      const sealed = (await store.query<{ sealed_patient: string }>('SELECT sealed_patient FROM audit_outbox ORDER BY event_id')).map((r) => r.sealed_patient);
      assert.equal(sealed.length, 2, 'both accesses queued');
      assert.ok(sealed.every((v) => typeof v === 'string' && v.length > 0));
      assertNoBsn(await dumpOutboxTables(store), bsn);

      let prsUp = false;
      let minted = 0;
      const asked: string[] = [];
      const tokenAtDelivery: TokenAtDelivery = {
        sealer,
        async fetchToken(event, patientBsn) {
          asked.push(`${event.id}:${patientBsn}`);
          if (!prsUp) throw new Error('PRS: connection refused');
          minted += 1;
          return `${SAMPLE_PSEUDONYM_TOKEN}-${minted}`;
        },
      };
      const received: AuditEvent[] = [];
      const send = async (e: AuditEvent) => void received.push(e);
      assert.deepEqual(await deliverOutbox(store, send, { now, tokenAtDelivery }), { delivered: 0, failed: 1, rejected: 0, pending: 2 });
      assert.equal(received.length, 0);

      // Hours later the PRS is back: a token minted now, not one from the access, names the patient.
      clock = new Date(clock.getTime() + 3 * 3600_000);
      prsUp = true;
      let pass = await deliverOutbox(store, send, { now, tokenAtDelivery });
      while (pass.pending > 0) pass = await deliverOutbox(store, send, { now, tokenAtDelivery });
      assert.deepEqual(received.map((e) => e.id).sort(), ['s1', 's2']);
      assert.ok(asked.every((a) => a.endsWith(`:${bsn}`)), 'the PRS was asked about the sealed BSN');
      assert.deepEqual(received.map((e) => summarizeAuditEvent(e).pseudonymToken).sort(), [`${SAMPLE_PSEUDONYM_TOKEN}-1`, `${SAMPLE_PSEUDONYM_TOKEN}-2`]);
      assert.ok(!JSON.stringify(received).includes('Patient/p1'), 'no local reference leaves the node');
      assertNoBsn(JSON.stringify(received), bsn);

      // Delivered rows are gone, and the sealed BSN with them; the local log never had it.
      const dump = await dumpOutboxTables(store);
      for (const v of sealed) assert.ok(!dump.includes(v));
      assert.ok(!dump.includes(SAMPLE_PSEUDONYM_TOKEN));
      assertNoBsn(dump, bsn);
    });

    it('waits (does not drop) a sealed copy when the worker cannot name it; a refused one leaves its sealed BSN behind', { skip }, async () => {
      await store.exec('DELETE FROM audit_outbox; DELETE FROM audit_outbox_rejected');
      const now = () => new Date(Date.now() + 10 * 3600_000);
      const bsn = testBsn(6160);
      const sealer = outboxSealer(generateOutboxKey());
      const event = buildAuditEvent(sampleInput({ id: 'w1', patient: { localReference: 'Patient/p1' } }));
      await assert.rejects(appendAuditEvent(store, event, { outbox: true }, { bsn }), /sealer/);
      await appendAuditEvent(store, event, { outbox: true, sealer }, { bsn });
      const send = async (e: AuditEvent) => {
        throw Object.assign(new Error(`422: refused ${e.id}`), { status: 422 });
      };
      assert.deepEqual(await deliverOutbox(store, send, { now }), { delivered: 0, failed: 1, rejected: 0, pending: 1 });
      const [{ sealed_patient: sealed }] = await store.query<{ sealed_patient: string }>('SELECT sealed_patient FROM audit_outbox');
      await store.query('UPDATE audit_outbox SET next_attempt_at = now()');
      const tokenAtDelivery: TokenAtDelivery = { sealer, fetchToken: async () => SAMPLE_PSEUDONYM_TOKEN };
      assert.deepEqual(await deliverOutbox(store, send, { now, tokenAtDelivery }), { delivered: 0, failed: 0, rejected: 1, pending: 0 });
      const dump = await dumpOutboxTables(store);
      assert.ok(!dump.includes(sealed));
      assert.ok(!dump.includes(SAMPLE_PSEUDONYM_TOKEN));
      assertNoBsn(dump, bsn);
    });
  });
}

describe('outbox to the real transparency part (mTLS, real PRS)', () => {
  it('an access logged while the part is down is delivered once it is back, with a token fetched then; a re-send adds no leaf', async () => {
    const net = await startTransparencyNetwork();
    const node = await openIsolatedPgliteStore('node_outbox');
    try {
      await migrate(node, auditLogMigrations);
      const veluwe = await net.participant('90000101');
      const bsn = testBsn(8080);
      const sealer = outboxSealer(generateOutboxKey());
      const event = buildAuditEvent(sampleInput({ id: 'n1', patient: { localReference: 'Patient/p1' } }));
      await appendAuditEvent(node, event, { outbox: true, sealer }, { bsn });
      const tokens: string[] = [];
      const tokenAtDelivery: TokenAtDelivery = {
        sealer,
        fetchToken: async (_e, patientBsn) => {
          const t = await veluwe.token(patientBsn);
          tokens.push(t);
          return t;
        },
      };
      const down = transparencySender(veluwe.client, 'https://127.0.0.1:1');
      assert.equal((await deliverOutbox(node, down, { tokenAtDelivery })).failed, 1);
      const [row] = await node.query<{ event_id: string; body: string; sealed_patient: string }>('SELECT event_id, body, sealed_patient FROM audit_outbox');
      assert.ok(row, 'still queued');
      await node.query('UPDATE audit_outbox SET next_attempt_at = now()');
      const up = transparencySender(veluwe.client, net.transparency.url);
      assert.deepEqual(await deliverOutbox(node, up, { tokenAtDelivery }), { delivered: 1, failed: 0, rejected: 0, pending: 0 });
      // A lost acknowledgement: the same row is sent again, with another fresh token; still one leaf.
      await node.query('INSERT INTO audit_outbox (event_id, body, sealed_patient) VALUES ($1, $2, $3)', [row.event_id, row.body, row.sealed_patient]);
      assert.deepEqual(await deliverOutbox(node, up, { tokenAtDelivery }), { delivered: 1, failed: 0, rejected: 0, pending: 0 });
      // One token per attempt (the one minted while the part was down was thrown away), none reused.
      assert.equal(tokens.length, 3);
      assert.equal(new Set(tokens).size, 3);
      const leaves = await net.transparency.store.query<{ event_id: string; body: string }>('SELECT event_id, body FROM tlog_entry');
      assert.deepEqual(
        leaves.map((l) => l.event_id),
        ['n1'],
      );
      assertNoBsn(JSON.stringify(leaves), bsn);
      assertNoBsn(await dumpOutboxTables(node), bsn);
    } finally {
      await node.close();
      await net.close();
    }
  });
});
