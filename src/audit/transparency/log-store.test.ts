import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Store } from '../../kit/store/store.ts';
import { createJwsSigner, generateSigningKey } from '../signing.ts';
import { BACKENDS, postgresReachable } from '../test-stores.ts';
import { appendToLog, consistencyProof, inclusionProof, logSize, peaksOf, transparencyLogMigrations, treeRoot } from './log-store.ts';
import { leafHash, nodeHash, splitPoint, type Hash } from './merkle.ts';
import { signTreeHead, verifyConsistencyProof, verifyInclusionProof, verifySignedTreeHead } from './tree-head.ts';

const body = (i: number) => JSON.stringify({ id: `e${i}`, n: i });

function referenceMth(leaves: Hash[]): Hash {
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHash(referenceMth(leaves.slice(0, k)), referenceMth(leaves.slice(k)));
}

describe('peaksOf', () => {
  it('property: peaks cover the tree exactly, largest first', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (n) => {
        let covered = 0;
        for (const p of peaksOf(n)) {
          assert.equal(p.index * 2 ** p.level, covered);
          covered += 2 ** p.level;
        }
        assert.equal(covered, n);
      }),
    );
  });
});

for (const backend of BACKENDS) {
  describe(`transparency Merkle log on ${backend.name}`, async () => {
    const skip = backend.name === 'postgres' && !(await postgresReachable());
    let store: Store;
    before(async () => {
      if (!skip) store = await backend.open(transparencyLogMigrations);
    });
    after(async () => {
      if (!skip) await store.close();
    });

    it('appends in uneven batches (idempotent by event id), roots match the RFC definition, proofs verify', { skip }, async () => {
      const batches = [1, 2, 3, 7, 1, 16, 5];
      let i = 0;
      for (const b of batches) {
        const items = Array.from({ length: b }, () => ({ eventId: `e${i}`, body: body(i++) }));
        await appendToLog(store, items);
      }
      const again = await appendToLog(store, [{ eventId: 'e3', body: body(3) }, { eventId: 'e35', body: body(35) }]);
      assert.deepEqual(again, [{ eventId: 'e3', index: 3, duplicate: true }, { eventId: 'e35', index: 35, duplicate: false }]);
      const n = await logSize(store);
      assert.equal(n, 36);
      const leaves = Array.from({ length: n }, (_, k) => leafHash(Buffer.from(body(k))));
      for (const size of [1, 2, 3, 17, 32, 36]) assert.ok((await treeRoot(store, size)).equals(referenceMth(leaves.slice(0, size))));
      for (const [m, size] of [[0, 1], [5, 36], [35, 36], [16, 17]]) {
        const p = await inclusionProof(store, m, size);
        const head = { treeSize: size, rootHash: referenceMth(leaves.slice(0, size)).toString('base64'), timestamp: '' };
        assert.ok(verifyInclusionProof(p, body(m), head));
        assert.ok(!verifyInclusionProof(p, body(m + 1), head));
      }
      for (const [a, b] of [[1, 36], [7, 13], [16, 32], [36, 36]]) {
        const p = await consistencyProof(store, a, b);
        const h = (s: number) => ({ treeSize: s, rootHash: referenceMth(leaves.slice(0, s)).toString('base64'), timestamp: '' });
        assert.ok(verifyConsistencyProof(p, h(a), h(b)));
      }
      await assert.rejects(inclusionProof(store, 0, 37), RangeError);
    });

    it('signs tree heads; a forged head fails; heads stay consistent as the log grows', { skip }, async () => {
      const keys = await generateSigningKey();
      const signer = await createJwsSigner(keys.privateJwk, 'tlog-1');
      const first = await signTreeHead(store, signer);
      assert.deepEqual(await verifySignedTreeHead(first, signer.publicJwk), { treeSize: first.treeSize, rootHash: first.rootHash, timestamp: first.timestamp });
      assert.equal((await signTreeHead(store, signer)).signature, first.signature, 'unchanged log, same head');
      const forged = { ...first, rootHash: Buffer.alloc(32, 7).toString('base64') };
      await assert.rejects(verifySignedTreeHead(forged, signer.publicJwk));
      const other = await createJwsSigner((await generateSigningKey()).privateJwk, 'evil');
      await assert.rejects(verifySignedTreeHead({ ...first, signature: await other.sign(first) }, signer.publicJwk));

      await appendToLog(store, Array.from({ length: 9 }, (_, k) => ({ eventId: `x${k}`, body: `x${k}` })));
      const second = await signTreeHead(store, signer);
      const proof = await consistencyProof(store, first.treeSize, second.treeSize);
      assert.ok(verifyConsistencyProof(proof, first, second));
      assert.ok(!verifyConsistencyProof(proof, forged, second));
    });

    it('concurrent appenders never fork the tree', { skip }, async () => {
      const before = await logSize(store);
      const res = await Promise.all(
        Array.from({ length: 40 }, (_, k) => appendToLog(store, [{ eventId: `c${k}`, body: `c${k}` }, { eventId: `c${k}b`, body: `c${k}b` }])),
      );
      const indexes = res.flat().map((r) => r.index);
      assert.equal(new Set(indexes).size, 80);
      const n = await logSize(store);
      assert.equal(n, before + 80);
      const rows = await store.query<{ body: string }>('SELECT body FROM tlog_entry ORDER BY idx');
      const leaves = rows.map((r) => leafHash(Buffer.from(r.body)));
      assert.ok((await treeRoot(store, n)).equals(referenceMth(leaves)));
    });
  });
}
