import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The trust part's error codes, listed once (kit/errors.ts says why; contract.ts offers them to
// other parts).

/**
 * The trust part's error codes (kit/errors.ts): access-token refusals at a resource server, the
 * token endpoint's OAuth refusals (answered there in RFC 6749 JSON, coded all the same for the
 * log and for a refusal that travels on), and agreements that do not verify.
 */
export const TRUST_ERRORS = errorCodes({
  ERR_TRUST_TOKEN_INVALID: { status: 401, issue: 'login' },
  ERR_TRUST_TOKEN_MALFORMED: { status: 401, issue: 'login' },
  ERR_TRUST_TOKEN_SCOPE: { status: 403, issue: 'forbidden' },
  ERR_TRUST_AGREEMENTS_REFUSED: { status: 503, issue: 'transient' },
  ERR_TRUST_OAUTH_INVALID_REQUEST: { status: 400, issue: 'invalid' },
  ERR_TRUST_OAUTH_INVALID_CLIENT: { status: 401, issue: 'login' },
  ERR_TRUST_OAUTH_INVALID_GRANT: { status: 400, issue: 'invalid' },
  ERR_TRUST_OAUTH_UNAUTHORIZED_CLIENT: { status: 400, issue: 'forbidden' },
  ERR_TRUST_OAUTH_UNSUPPORTED_GRANT_TYPE: { status: 400, issue: 'not-supported' },
  ERR_TRUST_OAUTH_INVALID_SCOPE: { status: 400, issue: 'invalid' },
  ERR_TRUST_OAUTH_INVALID_TARGET: { status: 400, issue: 'invalid' },
  ERR_TRUST_OAUTH_INVALID_AUTHORIZATION_DETAILS: { status: 400, issue: 'invalid' },
});
export type TrustErrorCode = keyof typeof TRUST_ERRORS;

/** An error of the trust part (see TRUST_ERRORS). */
export class TrustError extends LdnError {
  constructor(code: TrustErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, TRUST_ERRORS[code], diagnostics, options);
  }
}
