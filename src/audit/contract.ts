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
