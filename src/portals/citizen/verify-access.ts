import { type TreeHead, verifyInclusion, verifySignedTreeHead } from '../../audit/contract.ts';
import type { AccessLogPort } from '../ports.ts';
import type { LoggedAccess } from './access-rows.ts';

// The access log is only worth showing if it can be checked: the portal verifies the log's
// signed tree head with the log's public key, and each listed access's inclusion proof against
// that head (RFC 9162 audit paths), server-side, and shows the verified head to the citizen.
// Limitation: the citizen view is a reduced AuditEvent, so the proof shows that the log holds a
// leaf at that position for this event id, not that the shown fields equal the leaf's bytes.
// Binding them needs those bytes, and a leaf holds the stable pseudonym and the professional
// number, which the portal must not get; it needs a leaf that commits to the citizen's fields
// separately (a log format change), not a change here.

export interface VerifiedAccess extends LoggedAccess {
  inLog: boolean;
}

export interface AccessLogView {
  entries: VerifiedAccess[];
  head?: TreeHead;
  headVerified: boolean;
}

const b64 = (s: string) => Buffer.from(s, 'base64');
const MAX_PROOFS = 100;

export async function verifiedAccessLog(port: AccessLogPort, entries: LoggedAccess[]): Promise<AccessLogView> {
  let head: TreeHead | undefined;
  try {
    const signed = await port.treeHead();
    for (const key of await port.signingKeys()) {
      try {
        head = await verifySignedTreeHead(signed, key);
        break;
      } catch {
        // try the next key (rotation)
      }
    }
  } catch {
    head = undefined;
  }
  if (!head) return { entries: entries.map((e) => ({ ...e, inLog: false })), headVerified: false };
  const checked = await Promise.all(
    entries.map(async (e, i): Promise<VerifiedAccess> => {
      if (i >= MAX_PROOFS || !e.eventId) return { ...e, inLog: false };
      try {
        const proof = await port.inclusionProof(e, head.treeSize);
        // The proof must be for the position the log listed the access at, under the verified head.
        const ok =
          proof.treeSize === head.treeSize &&
          (e.leafIndex === undefined || proof.leafIndex === e.leafIndex) &&
          verifyInclusion(proof.leafIndex, proof.treeSize, b64(proof.leafHash), proof.auditPath.map(b64), b64(head.rootHash));
        return { ...e, inLog: ok };
      } catch {
        return { ...e, inLog: false };
      }
    }),
  );
  return { entries: checked, head, headVerified: true };
}
