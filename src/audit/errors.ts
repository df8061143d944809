import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The audit part's error codes (transparency log and the audit library nodes embed), listed once
// (kit/errors.ts says why; contract.ts offers them to other parts).

export const AUDIT_ERRORS = errorCodes({
  /** A patient pseudonym token the transparency log cannot open or must not accept. */
  ERR_AUDIT_PSEUDONYM_TOKEN_REFUSED: { status: 422, issue: 'processing' },
  /**
   * An access event the audit library refuses to build (a BSN where none may be, a malformed
   * trace): the recording code's fault, not the caller's, so a 500.
   */
  ERR_AUDIT_EVENT_REFUSED: { status: 500, issue: 'exception' },
});
export type AuditErrorCode = keyof typeof AUDIT_ERRORS;

/** An error of the audit part (see AUDIT_ERRORS). */
export class AuditError extends LdnError {
  constructor(code: AuditErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, AUDIT_ERRORS[code], diagnostics, options);
  }
}

/** The message never quotes the token. */
export class PseudonymTokenRefused extends AuditError {
  constructor(diagnostics: string) {
    super('ERR_AUDIT_PSEUDONYM_TOKEN_REFUSED', diagnostics);
  }
}

export class AuditInputError extends AuditError {
  constructor(diagnostics: string) {
    super('ERR_AUDIT_EVENT_REFUSED', diagnostics);
  }
}
