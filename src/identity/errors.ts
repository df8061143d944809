import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The identity part's error codes, listed once (kit/errors.ts says why; contract.ts offers them
// to other parts). A verklaring refused has one code per reason; a relying party answers most
// with 403 and the two it could not check with 503 (try again).

export const IDENTITY_ERRORS = errorCodes({
  ERR_IDENTITY_VERKLARING_MALFORMED: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_NOT_A_VERKLARING: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_BAD_SIGNATURE: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_WRONG_ISSUER: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_EXPIRED: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_NOT_YET_VALID: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_WRONG_URA: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_REVOKED: { status: 403, issue: 'security' },
  ERR_IDENTITY_VERKLARING_STATUS_UNAVAILABLE: { status: 503, issue: 'transient' },
  ERR_IDENTITY_VERKLARING_KEYS_UNAVAILABLE: { status: 503, issue: 'transient' },
});
export type IdentityErrorCode = keyof typeof IDENTITY_ERRORS;

/** An error of the identity part (see IDENTITY_ERRORS). */
export class IdentityError extends LdnError {
  constructor(code: IdentityErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, IDENTITY_ERRORS[code], diagnostics, options);
  }
}
