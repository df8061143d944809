import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { testBsn } from '../kit/identifiers/bsn.ts';
import type { Store } from '../kit/store/store.ts';
import { appendAuditEvent, appendAuditEvents, auditLogMigrations, createAuditLogWriter, entryText, eventsByTraceId, readChainHead } from './chain.ts';
import { buildAuditEvent } from './event.ts';
import { pruneAuditLog } from './retention.ts';
import { createJwsSigner, generateSigningKey } from './signing.ts';
import { openStore } from '../kit/store/open.ts';
import { BACKENDS, postgresReachable, TEST_DATABASE_URL } from './test-stores.ts';
import { sampleInput } from './test-fixtures.ts';
import { verifyChain } from './verify.ts';

const event = (i: number, when?: string) =>
  buildAuditEvent(sampleInput({ id: `ev-${i}`, when, patient: { localReference: `Patient/p${i}`, transparencyPseudonym: `tp-${i % 3}` } }));

describe('entryText', () => {
  it('property: equals RFC 8785 of {seq, event} for any JSON event', () => {
    fc.assert(
      fc.property(fc.nat(), fc.dictionary(fc.string(), fc.jsonValue()), (seq, event) => {
        assert.equal(entryText(seq, canonicalize(event)!), canonicalize({ seq, event }));
      }),
    );
  });
});

for (const backend of BACKENDS) {
  describe(`local audit chain on ${backend.name}`, async () => {
    const skip = backend.name === 'postgres' && !(await postgresReachable());
    let store: Store;
    before(async () => {
      if (!skip) store = await backend.open(auditLogMigrations);
    });
    after(async () => {
      if (!skip) await store.close();
    });
    const fresh = async () => {
      await store.exec('DELETE FROM audit_log; DELETE FROM audit_checkpoint; DELETE FROM audit_outbox');
      await store.query(`UPDATE audit_chain_head SET seq = 0, hash = '${'0'.repeat(64)}'`);
      await appendAuditEvents(store, Array.from({ length: 10 }, (_, i) => event(i + 1)));
    };

    it('appends, chains and verifies; duplicates are not appended twice', { skip }, async () => {
      await fresh();
      const again = await appendAuditEvent(store, event(3));
      assert.equal(again.duplicate, true);
      assert.equal(again.seq, 3);
      assert.deepEqual(await verifyChain(store), { ok: true, checked: 10, firstSeq: 1, lastSeq: 10 });
      assert.equal((await readChainHead(store)).seq, 10);
      assert.equal((await eventsByTraceId(store, '4bf92f3577b34da6a3ce929d0e0e4736')).length, 10);
    });

    it('detects and locates an altered record', { skip }, async () => {
      await fresh();
      await store.query(`UPDATE audit_log SET entry = replace(entry, 'A. Bakker', 'X. Other') WHERE seq = 4`);
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 4, kind: 'altered' });
    });

    it('locates an altered record whose hash was recomputed', { skip }, async () => {
      await fresh();
      await store.query(`UPDATE audit_log SET hash = repeat('a', 64) WHERE seq = 6`);
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 6, kind: 'altered' });
    });

    it('detects and locates a deleted record (middle and tail)', { skip }, async () => {
      await fresh();
      await store.query('DELETE FROM audit_log WHERE seq = 5');
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 5, kind: 'missing' });
      await fresh();
      await store.query('DELETE FROM audit_log WHERE seq = 10');
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 10, kind: 'missing' });
    });

    it('detects a deletion hidden by renumbering', { skip }, async () => {
      await fresh();
      await store.query('DELETE FROM audit_log WHERE seq = 5');
      await store.query('UPDATE audit_log SET seq = seq - 1 WHERE seq > 5');
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 5, kind: 'missing' });
    });

    it('detects and locates two swapped records', { skip }, async () => {
      await fresh();
      await store.query('UPDATE audit_log SET seq = -7 WHERE seq = 7');
      await store.query('UPDATE audit_log SET seq = 7 WHERE seq = 8');
      await store.query('UPDATE audit_log SET seq = 8 WHERE seq = -7');
      assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 7, kind: 'reordered' });
    });

    it('concurrent appenders (writers and raw calls) never fork the chain', { skip }, async () => {
      await fresh();
      const writerA = createAuditLogWriter(store);
      const writerB = createAuditLogWriter(store);
      const results = await Promise.all(
        Array.from({ length: 120 }, (_, i) => {
          const e = event(100 + i);
          return i % 3 === 0 ? writerA.append(e) : i % 3 === 1 ? writerB.append(e) : appendAuditEvent(store, e);
        }),
      );
      assert.equal(new Set(results.map((r) => r.seq)).size, 120);
      assert.deepEqual(await verifyChain(store), { ok: true, checked: 130, firstSeq: 1, lastSeq: 130 });
    });

    it('two instances sharing one PostgreSQL never fork the chain', { skip: skip || backend.name !== 'postgres' }, async () => {
      await fresh();
      const other = await openStore({ schema: store.schema, databaseUrl: TEST_DATABASE_URL, poolSize: 4 }, auditLogMigrations);
      try {
        const a = createAuditLogWriter(store);
        const b = createAuditLogWriter(other);
        await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).append(event(300 + i))));
        assert.deepEqual(await verifyChain(store), { ok: true, checked: 110, firstSeq: 1, lastSeq: 110 });
      } finally {
        await other.close();
      }
    });

    it('retention prunes old records behind a signed checkpoint; the rest still verifies', { skip }, async () => {
      await fresh();
      const old = '2020-01-01T00:00:00.000Z';
      await appendAuditEvents(store, [event(50, old), event(51, old)]);
      await store.query(`UPDATE audit_log SET recorded = $1 WHERE seq <= 3`, [old]);
      const keys = await generateSigningKey();
      const signer = await createJwsSigner(keys.privateJwk, 'node-1');
      const r = await pruneAuditLog(store, { olderThanDays: 30, signer });
      assert.equal(r.pruned, 3);
      assert.deepEqual(await verifyChain(store, { checkpointKey: signer.publicJwk }), { ok: true, checked: 9, firstSeq: 4, lastSeq: 12 });
      // A forged checkpoint is caught by its signature.
      await store.query(`UPDATE audit_checkpoint SET hash = repeat('b', 64)`);
      assert.deepEqual(pick(await verifyChain(store, { checkpointKey: signer.publicJwk })), { ok: false, firstBadSeq: 3, kind: 'altered' });
    });

    it('never stores a BSN', { skip }, async () => {
      await fresh();
      const bsn = testBsn(1234);
      await appendAuditEvent(
        store,
        buildAuditEvent(sampleInput({ what: { ...sampleInput().what, query: `Patient?identifier=x|${bsn}` } })),
        { outbox: true },
      );
      const dump = JSON.stringify([
        await store.query('SELECT * FROM audit_log'),
        await store.query('SELECT * FROM audit_outbox'),
        await store.query('SELECT * FROM audit_chain_head'),
      ]);
      assert.ok(!dump.includes(bsn));
      assert.ok(!dump.includes(Buffer.from(bsn).toString('base64').slice(0, 12)));
    });
  });
}

function pick(r: Awaited<ReturnType<typeof verifyChain>>) {
  return r.ok ? r : { ok: r.ok, firstBadSeq: r.firstBadSeq, kind: r.kind };
}
