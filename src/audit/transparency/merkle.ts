import { createHash } from 'node:crypto';

// Merkle tree hashing and proofs in the manner of RFC 9162 §2.1 (Certificate Transparency v2):
//   leaf hash  = SHA-256(0x00 || data)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH(D[n])  splits at k, the largest power of two smaller than n.
// Proof generation is written against "the hash of a complete, aligned subtree" so a store can
// answer it with O(log n) reads: every range the algorithms need is such a subtree, or the
// right edge of the tree, which itself is O(log n) complete subtrees.

export type Hash = Buffer;

export function leafHash(data: Uint8Array): Hash {
  return createHash('sha256').update(Buffer.from([0])).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Hash {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** Hash of the empty tree (RFC 9162: SHA-256 of the empty string). */
export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** Largest power of two strictly smaller than n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A complete subtree: 2^level leaves starting at leaf index * 2^level. */
export interface SubtreeKey {
  level: number;
  index: number;
}

/** Looks up the hash of a complete aligned subtree (level 0 = leaf hashes). */
export type SubtreeLookup = (key: SubtreeKey) => Hash;

/** MTH of leaves [start, end); start is always aligned to the size of its subtrees here. */
export function rangeHash(lookup: SubtreeLookup, start: number, end: number): Hash {
  const width = end - start;
  if (width <= 0) return EMPTY_ROOT;
  if (isPowerOfTwo(width) && start % width === 0) {
    return lookup({ level: Math.log2(width), index: start / width });
  }
  const k = splitPoint(width);
  return nodeHash(rangeHash(lookup, start, start + k), rangeHash(lookup, start + k, end));
}

export function rootHash(lookup: SubtreeLookup, size: number): Hash {
  return rangeHash(lookup, 0, size);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[0:n]). */
export function inclusionPath(lookup: SubtreeLookup, m: number, n: number): Hash[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`leaf ${m} not in a tree of size ${n}`);
  const path: Hash[] = [];
  const walk = (a: number, b: number): void => {
    if (b - a === 1) return;
    const k = splitPoint(b - a);
    if (m < a + k) {
      walk(a, a + k);
      path.push(rangeHash(lookup, a + k, b));
    } else {
      walk(a + k, b);
      path.push(rangeHash(lookup, a, a + k));
    }
  };
  walk(0, n);
  return path;
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[0:n]) for 0 < m <= n. */
export function consistencyPath(lookup: SubtreeLookup, m: number, n: number): Hash[] {
  if (!(m > 0 && m <= n)) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  const proof: Hash[] = [];
  const sub = (mm: number, a: number, b: number, complete: boolean): void => {
    if (mm === b - a) {
      if (!complete) proof.push(rangeHash(lookup, a, b));
      return;
    }
    const k = splitPoint(b - a);
    if (mm <= k) {
      sub(mm, a, a + k, complete);
      proof.push(rangeHash(lookup, a + k, b));
    } else {
      sub(mm - k, a + k, b, false);
      proof.push(rangeHash(lookup, a, a + k));
    }
  };
  sub(m, 0, n, true);
  return proof;
}

/**
 * Runs a proof function twice: first to learn which subtree hashes it needs, then with them
 * fetched in one batch. Lets a store answer any proof in a single round trip.
 */
export async function withFetchedSubtrees<T>(
  fetch: (keys: SubtreeKey[]) => Promise<Map<string, Hash>>,
  compute: (lookup: SubtreeLookup) => T,
): Promise<T> {
  const wanted = new Map<string, SubtreeKey>();
  const dummy = Buffer.alloc(32);
  compute((key) => {
    wanted.set(subtreeId(key), key);
    return dummy;
  });
  const hashes = await fetch([...wanted.values()]);
  return compute((key) => {
    const h = hashes.get(subtreeId(key));
    if (!h) throw new Error(`subtree ${key.level}/${key.index} missing from the store`);
    return h;
  });
}

export const subtreeId = (k: SubtreeKey) => `${k.level}/${k.index}`;

/** RFC 9162 §2.1.3.2: verifies an inclusion proof against a root. */
export function verifyInclusion(leafIndex: number, treeSize: number, leaf: Hash, path: readonly Hash[], root: Hash): boolean {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: verifies that the tree (second, secondRoot) extends (first, firstRoot). */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Hash,
  secondRoot: Hash,
  proof: readonly Hash[],
): boolean {
  if (first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(Math.log2(n));
}
