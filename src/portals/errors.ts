import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The portals' error codes, listed once (kit/errors.ts says why). A page error is still a page
// for the visitor (its message key, in her language; ui/web.ts); the code is for logs and for a
// program that asked for JSON. The apps' token endpoint answers RFC 6749/9449 error bodies as
// before; its refusals are coded all the same for the log.

export const PORTAL_ERRORS = errorCodes({
  /** A page request that cannot be served as asked (a bad id, a form out of order). */
  ERR_PORTAL_PAGE_INVALID: { status: 400, issue: 'invalid' },
  /** A page that needs a logged-in visitor. */
  ERR_PORTAL_LOGIN_REQUIRED: { status: 401, issue: 'login' },
  /** A form without the session's CSRF token, or a visitor not allowed there. */
  ERR_PORTAL_PAGE_FORBIDDEN: { status: 403, issue: 'forbidden' },
  /** A page that could not be made because something behind it failed. */
  ERR_PORTAL_PAGE_FAILED: { status: 500, issue: 'exception' },
  /** An app's DPoP proof is missing, stale, replayed or for another request (RFC 9449). */
  ERR_PORTAL_DPOP_INVALID: { status: 401, issue: 'login' },
  /** An app's client assertion (private_key_jwt) is missing or does not verify. */
  ERR_PORTAL_CLIENT_AUTH_REFUSED: { status: 401, issue: 'login' },
  /** A refresh token that is unknown, expired, used twice or bound to another key (the grant may be revoked). */
  ERR_PORTAL_REFRESH_TOKEN_REFUSED: { status: 400, issue: 'invalid' },
  /** The apps' token endpoint refusals, by their RFC 6749/9449 error. */
  ERR_PORTAL_OAUTH_INVALID_CLIENT: { status: 401, issue: 'login' },
  ERR_PORTAL_OAUTH_INVALID_GRANT: { status: 400, issue: 'invalid' },
  ERR_PORTAL_OAUTH_INVALID_DPOP_PROOF: { status: 400, issue: 'invalid' },
  ERR_PORTAL_OAUTH_UNSUPPORTED_GRANT_TYPE: { status: 400, issue: 'not-supported' },
});
export type PortalErrorCode = keyof typeof PORTAL_ERRORS;

/** An error of the portals (see PORTAL_ERRORS). */
export class PortalError extends LdnError {
  constructor(code: PortalErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, PORTAL_ERRORS[code], diagnostics, options);
  }
}

/** The code of a page error with this status (other statuses keep theirs, under the nearest code). */
export function pageErrorCode(status: number): PortalErrorCode {
  if (status === 401) return 'ERR_PORTAL_LOGIN_REQUIRED';
  if (status === 403) return 'ERR_PORTAL_PAGE_FORBIDDEN';
  return status >= 500 ? 'ERR_PORTAL_PAGE_FAILED' : 'ERR_PORTAL_PAGE_INVALID';
}

export class DpopError extends PortalError {
  constructor(diagnostics: string) {
    super('ERR_PORTAL_DPOP_INVALID', diagnostics);
  }
}

export class ClientAuthError extends PortalError {
  constructor(diagnostics: string) {
    super('ERR_PORTAL_CLIENT_AUTH_REFUSED', diagnostics);
  }
}

export class TokenReuseError extends PortalError {
  constructor(diagnostics: string) {
    super('ERR_PORTAL_REFRESH_TOKEN_REFUSED', diagnostics);
  }
}

const OAUTH_CODES = {
  invalid_client: 'ERR_PORTAL_OAUTH_INVALID_CLIENT',
  invalid_grant: 'ERR_PORTAL_OAUTH_INVALID_GRANT',
  invalid_dpop_proof: 'ERR_PORTAL_OAUTH_INVALID_DPOP_PROOF',
  unsupported_grant_type: 'ERR_PORTAL_OAUTH_UNSUPPORTED_GRANT_TYPE',
} as const satisfies Record<string, PortalErrorCode>;

/** A refusal of the apps' token endpoint: answered as the RFC 6749 JSON body {error, error_description}, with its status. */
export class OAuthFailure extends PortalError {
  constructor(
    status: 400 | 401,
    readonly oauthError: keyof typeof OAUTH_CODES,
    description: string,
  ) {
    super(OAUTH_CODES[oauthError], description, { status });
  }
}
