import type { JWK } from 'jose';
import type { Queryable, Store } from '../../kit/store/store.ts';
import { type JwsSigner, verifyJws } from '../signing.ts';
import { logSize, treeRoot } from './log-store.ts';
import type { ConsistencyProof, InclusionProof } from './log-store.ts';
import { EMPTY_ROOT, leafHash, verifyConsistency, verifyInclusion } from './merkle.ts';

// Signed tree heads (RFC 9162 spirit): the log signs {size, root, time} with its Ed25519 key
// (compact JWS). Anyone holding the public key can then check that an event is in the log and
// that a later head extends an earlier one, without trusting the log operator.

export interface TreeHead {
  treeSize: number;
  /** base64 root hash. */
  rootHash: string;
  timestamp: string;
}

export interface SignedTreeHead extends TreeHead {
  signature: string;
}

export async function signTreeHead(store: Store, signer: JwsSigner, now = new Date()): Promise<SignedTreeHead> {
  const treeSize = await logSize(store);
  const [latest] = await store.query<{ size: string; jws: string; signed_at: Date | string; root_hash: Uint8Array }>(
    'SELECT size, jws, signed_at, root_hash FROM tlog_head ORDER BY size DESC LIMIT 1',
  );
  if (latest && Number(latest.size) === treeSize) return fromRow(latest);
  const root = treeSize === 0 ? EMPTY_ROOT : await treeRoot(store, treeSize);
  const head: TreeHead = { treeSize, rootHash: root.toString('base64'), timestamp: now.toISOString() };
  const signature = await signer.sign(head);
  await store.query(
    'INSERT INTO tlog_head (size, root_hash, signed_at, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING',
    [treeSize, root, head.timestamp, signature],
  );
  return { ...head, signature };
}

export async function latestSignedTreeHead(q: Queryable): Promise<SignedTreeHead | undefined> {
  const [row] = await q.query<{ size: string; jws: string; signed_at: Date | string; root_hash: Uint8Array }>(
    'SELECT size, jws, signed_at, root_hash FROM tlog_head ORDER BY size DESC LIMIT 1',
  );
  return row ? fromRow(row) : undefined;
}

function fromRow(row: { size: string; jws: string; signed_at: Date | string; root_hash: Uint8Array }): SignedTreeHead {
  return {
    treeSize: Number(row.size),
    rootHash: Buffer.from(row.root_hash).toString('base64'),
    timestamp: new Date(row.signed_at).toISOString(),
    signature: row.jws,
  };
}

/** Checks the signature of a tree head and that the signed fields are the ones shown. */
export async function verifySignedTreeHead(head: SignedTreeHead, publicJwk: JWK): Promise<TreeHead> {
  const signed = await verifyJws<TreeHead>(head.signature, publicJwk);
  if (signed.treeSize !== head.treeSize || signed.rootHash !== head.rootHash || signed.timestamp !== head.timestamp) {
    throw new Error('tree head differs from its signature');
  }
  return signed;
}

/** True when the event body (its RFC 8785 JSON, the leaf data) is at proof.leafIndex under head. */
export function verifyInclusionProof(proof: InclusionProof, leafData: string, head: TreeHead): boolean {
  if (proof.treeSize !== head.treeSize) return false;
  const leaf = leafHash(Buffer.from(leafData, 'utf8'));
  if (proof.leafHash !== leaf.toString('base64')) return false;
  return verifyInclusion(proof.leafIndex, proof.treeSize, leaf, proof.auditPath.map(b64), b64(head.rootHash));
}

/** True when the later head extends the earlier one (nothing dropped or rewritten). */
export function verifyConsistencyProof(proof: ConsistencyProof, earlier: TreeHead, later: TreeHead): boolean {
  if (proof.first !== earlier.treeSize || proof.second !== later.treeSize) return false;
  return verifyConsistency(earlier.treeSize, later.treeSize, b64(earlier.rootHash), b64(later.rootHash), proof.consistency.map(b64));
}

const b64 = (s: string) => Buffer.from(s, 'base64');
