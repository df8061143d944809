import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompactSign, generateKeyPair } from 'jose';
import type { Store } from '../kit/store/store.ts';
import { appendAuditEvents, auditLogMigrations } from './chain.ts';
import { buildAuditEvent } from './event.ts';
import { pruneAuditLog } from './retention.ts';
import { createJwsSigner, generateSigningKey } from './signing.ts';
import { sampleInput } from './test-fixtures.ts';
import { BACKENDS } from './test-stores.ts';
import { verifyChain } from './verify.ts';

// Checkpoint rows are as writable as log rows: the verifier must not take one on trust.

const pglite = BACKENDS.find((b) => b.name === 'pglite')!;
const event = (i: number, when?: string) => buildAuditEvent(sampleInput({ id: `cp-${i}`, when }));
const OLD = '2020-01-01T00:00:00.000Z';

describe('verifyChain and checkpoints', () => {
  let store: Store;
  before(async () => {
    store = await pglite.open(auditLogMigrations);
  });
  after(() => store.close());

  const fresh = async (n = 5) => {
    await store.exec('DELETE FROM audit_log; DELETE FROM audit_checkpoint; DELETE FROM audit_outbox');
    await store.query(`UPDATE audit_chain_head SET seq = 0, hash = '${'0'.repeat(64)}'`);
    await appendAuditEvents(store, Array.from({ length: n }, (_, i) => event(i + 1)));
  };
  const forge = (seq: number, hash: string, jws = 'junk') =>
    store.query('INSERT INTO audit_checkpoint (seq, hash, created_at, jws) VALUES ($1, $2, now(), $3)', [seq, hash, jws]);
  const pick = (r: Awaited<ReturnType<typeof verifyChain>>) => (r.ok ? r : { ok: r.ok, firstBadSeq: r.firstBadSeq, kind: r.kind });

  it('a forged checkpoint above the head does not hide an altered record', async () => {
    await fresh();
    await store.query(`UPDATE audit_log SET entry = replace(entry, 'cp-3', 'cp-9') WHERE seq = 3`);
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 3, kind: 'altered' });
    await forge(999, 'x');
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 3, kind: 'altered' });
  });

  it('a checkpoint beyond the chain head is a finding by itself', async () => {
    await fresh();
    await forge(999, 'x');
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 999, kind: 'altered' });
  });

  it('a checkpoint inside the chain must match the record it names', async () => {
    await fresh();
    await forge(2, 'b'.repeat(64));
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 2, kind: 'altered' });
  });

  it('deleting the first records behind a forged checkpoint is not reported intact', async () => {
    await fresh();
    const [r3] = await store.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = 3');
    await store.query('DELETE FROM audit_log WHERE seq <= 3');
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 1, kind: 'missing' });
    // The forger copies the real hash of record 3, and even signs it with a key of its own.
    const { privateKey } = await generateKeyPair('Ed25519');
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify({ seq: 3, hash: r3!.hash, createdAt: OLD })))
      .setProtectedHeader({ alg: 'Ed25519' })
      .sign(privateKey);
    await forge(3, r3!.hash, jws);
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 1, kind: 'unverifiable' });
    const nodeKey = await generateSigningKey();
    assert.deepEqual(pick(await verifyChain(store, { checkpointKey: nodeKey.publicJwk })), { ok: false, firstBadSeq: 3, kind: 'altered' });
  });

  it('a pruned log verifies from its signed checkpoint with the key, and only then', async () => {
    await fresh();
    await store.query('UPDATE audit_log SET recorded = $1 WHERE seq <= 2', [OLD]);
    const keys = await generateSigningKey();
    const signer = await createJwsSigner(keys.privateJwk, 'node-1');
    assert.equal((await pruneAuditLog(store, { olderThanDays: 30, signer })).pruned, 2);
    assert.deepEqual(await verifyChain(store, { checkpointKey: signer.publicJwk }), { ok: true, checked: 3, firstSeq: 3, lastSeq: 5 });
    assert.deepEqual(pick(await verifyChain(store)), { ok: false, firstBadSeq: 1, kind: 'unverifiable' });
    await forge(999, 'x');
    assert.deepEqual(pick(await verifyChain(store, { checkpointKey: signer.publicJwk })), { ok: false, firstBadSeq: 999, kind: 'altered' });
  });

  it('a fully pruned log still checks the head against the signed checkpoint', async () => {
    await fresh(3);
    await store.query('UPDATE audit_log SET recorded = $1', [OLD]);
    const keys = await generateSigningKey();
    const signer = await createJwsSigner(keys.privateJwk, 'node-1');
    assert.equal((await pruneAuditLog(store, { olderThanDays: 30, signer })).pruned, 3);
    assert.deepEqual(await verifyChain(store, { checkpointKey: signer.publicJwk }), { ok: true, checked: 0, firstSeq: 4, lastSeq: 3 });
    await store.query(`UPDATE audit_chain_head SET hash = repeat('c', 64)`);
    assert.deepEqual(pick(await verifyChain(store, { checkpointKey: signer.publicJwk })), { ok: false, firstBadSeq: 3, kind: 'altered' });
  });
});
