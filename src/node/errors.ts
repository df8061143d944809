import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The node's error codes, listed once (kit/errors.ts says why; contract.ts offers them to other
// parts). Most of the node's refusals are the kit's generic ones (badRequest, forbidden, …);
// these are the failures a caller may want to tell apart: the organisation's own systems, and its
// audit log.

export const NODE_ERRORS = errorCodes({
  /** The organisation's record system (EHR) did not answer, or answered nonsense. */
  ERR_NODE_EHR_UNAVAILABLE: { status: 502, issue: 'transient' },
  /** The organisation's image archive (DICOMweb) did not answer, or answered nonsense. */
  ERR_NODE_ARCHIVE_UNAVAILABLE: { status: 502, issue: 'transient' },
  /** The node's audit log could not take the access's event: the access released nothing (source/access-log.ts). */
  ERR_NODE_AUDIT_UNAVAILABLE: { status: 503, issue: 'transient' },
});
export type NodeErrorCode = keyof typeof NODE_ERRORS;

/** An error of the node (see NODE_ERRORS). */
export class NodeError extends LdnError {
  constructor(code: NodeErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, NODE_ERRORS[code], diagnostics, options);
  }
}

/** A record system (or, as ArchiveError, an image archive) that failed the node. */
export class EhrError extends NodeError {
  constructor(diagnostics: string, code: 'ERR_NODE_EHR_UNAVAILABLE' | 'ERR_NODE_ARCHIVE_UNAVAILABLE' = 'ERR_NODE_EHR_UNAVAILABLE') {
    super(code, diagnostics);
  }
}
