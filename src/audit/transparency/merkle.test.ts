import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  consistencyPath,
  EMPTY_ROOT,
  type Hash,
  inclusionPath,
  leafHash,
  nodeHash,
  rootHash,
  type SubtreeLookup,
  splitPoint,
  verifyConsistency,
  verifyInclusion,
} from './merkle.ts';

// Reference MTH straight from the RFC's recursive definition, to check the subtree-based one.
function referenceMth(leaves: Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0];
  const k = splitPoint(leaves.length);
  return nodeHash(referenceMth(leaves.slice(0, k)), referenceMth(leaves.slice(k)));
}

function memoryTree(n: number): { leaves: Hash[]; lookup: SubtreeLookup } {
  const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry-${i}`)));
  const lookup: SubtreeLookup = ({ level, index }) => {
    const w = 2 ** level;
    const slice = leaves.slice(index * w, index * w + w);
    assert.equal(slice.length, w, 'only complete subtrees are asked for');
    return referenceMth(slice);
  };
  return { leaves, lookup };
}

const sizes = fc.integer({ min: 1, max: 300 });

describe('RFC 9162 Merkle hashing and proofs', () => {
  it('matches the RFC test shape for small trees (domain separation)', () => {
    const a = leafHash(Buffer.from(''));
    assert.equal(a.toString('hex'), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('property: subtree-based root equals the recursive MTH', () => {
    fc.assert(
      fc.property(sizes, (n) => {
        const t = memoryTree(n);
        assert.ok(rootHash(t.lookup, n).equals(referenceMth(t.leaves)));
      }),
      { numRuns: 60 },
    );
  });

  it('property: inclusion proofs verify, and fail for another leaf, position or root', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.constant(n), fc.nat(n - 1))), ([n, m]) => {
        const t = memoryTree(n);
        const root = rootHash(t.lookup, n);
        const path = inclusionPath(t.lookup, m, n);
        assert.ok(verifyInclusion(m, n, t.leaves[m], path, root));
        assert.ok(!verifyInclusion(m, n, leafHash(Buffer.from('forged')), path, root));
        assert.ok(!verifyInclusion(m, n, t.leaves[m], path, nodeHash(root, root)));
        if (n > 1) assert.ok(!verifyInclusion((m + 1) % n, n, t.leaves[m], path, root));
      }),
      { numRuns: 80 },
    );
  });

  it('property: consistency proofs verify between any two sizes', () => {
    fc.assert(
      fc.property(sizes.chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))), ([m, n]) => {
        const t = memoryTree(n);
        const proof = consistencyPath(t.lookup, m, n);
        assert.ok(verifyConsistency(m, n, rootHash(t.lookup, m), rootHash(t.lookup, n), proof));
        if (m < n) assert.ok(!verifyConsistency(m, n, rootHash(t.lookup, m), nodeHash(EMPTY_ROOT, EMPTY_ROOT), proof));
      }),
      { numRuns: 80 },
    );
  });

  it('property: a log that dropped an entry fails the consistency proof', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 200 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n), fc.nat(n - 1))),
        ([m, n, dropped]) => {
          const honest = memoryTree(n);
          const oldRoot = rootHash(honest.lookup, m);
          // The operator rewrites history: the entry at `dropped` vanishes, the rest shift left,
          // and one new entry is appended so the size still grows.
          const leaves = [...honest.leaves.slice(0, dropped), ...honest.leaves.slice(dropped + 1), leafHash(Buffer.from('new'))];
          const lookup: SubtreeLookup = ({ level, index }) => referenceMth(leaves.slice(index * 2 ** level, (index + 1) * 2 ** level));
          const proof = consistencyPath(lookup, m, n);
          const ok = verifyConsistency(m, n, oldRoot, rootHash(lookup, n), proof);
          // Dropping an entry at or after the old size does not change the old tree.
          assert.equal(ok, dropped >= m);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects malformed proof requests', () => {
    const t = memoryTree(5);
    assert.throws(() => inclusionPath(t.lookup, 5, 5), RangeError);
    assert.throws(() => consistencyPath(t.lookup, 0, 5), RangeError);
    assert.ok(!verifyConsistency(3, 2, EMPTY_ROOT, EMPTY_ROOT, []));
    assert.ok(!verifyInclusion(0, 0, EMPTY_ROOT, [], EMPTY_ROOT));
  });
});
