// What other parts may use of the audit part (the transparency log): its write scope, the
// parameter a portal names a citizen by, and the shape of an inclusion proof it serves.
// Everything else under src/audit is its implementation (or the audit library nodes embed).

/** Scope of the access token a node presents to POST /AuditEvent. */
export const TRANSPARENCY_WRITE_SCOPE = 'transparency:write';
/** Query parameter of GET /AuditEvent: the citizen as a PRS token addressed to the log. */
export const PATIENT_TOKEN_PARAM = 'patient-token';

/** GET /proof/inclusion: the audit path of one leaf in a tree of `treeSize` leaves (RFC 6962 style). */
export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  leafHash: string;
  auditPath: string[];
}

// Its error codes, for other parts and tests to test for.
export { AUDIT_ERRORS, AuditError, type AuditErrorCode, AuditInputError, PseudonymTokenRefused } from './errors.ts';
// The audit library every node embeds (its own hash-chained log, the sealed outbox to the
// transparency log, retention behind signed checkpoints) and what a citizen's portal needs to
// check an inclusion proof against a signed tree head.
export { appendAuditEvent, auditLogMigrations, createAuditLogWriter } from './chain.ts';
export { type AuditEventInput, type AuditInteraction, type AuditOutcome, buildAuditEvent, containsBsn, localPatientReference, redactBsns, summarizeAuditEvent } from './event.ts';
export { generateOutboxKey, outboxSealer } from './outbox-sealing.ts';
export { startOutboxWorker, type TokenAtDelivery, transparencySender } from './outbox.ts';
export { pruneAuditLog, type RetentionJob, startRetentionJob } from './retention.ts';
export { createJwsSigner, generateSigningKey, type JwsSigner } from './signing.ts';
export { verifyInclusion } from './transparency/merkle.ts';
export { transparencyPseudonymToken } from './transparency/pseudonym-client.ts';
export { type SignedTreeHead, type TreeHead, verifySignedTreeHead } from './transparency/tree-head.ts';
export type { CitizenAccessEntry } from './transparency/citizen-view.ts';
export { AUDIT_CODE_SYSTEM, AUDIT_EXTENSION, AUDIT_SYSTEM } from './uris.ts';
export { verifyChain } from './verify.ts';
