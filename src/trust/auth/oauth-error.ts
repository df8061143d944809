// OAuth 2 errors (RFC 6749 §5.2, RFC 8707 invalid_target) as the token endpoint answers them:
// JSON { error, error_description } with the status the RFC names, never an OperationOutcome.

import { TrustError, type TrustErrorCode } from '../errors.ts';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'invalid_authorization_details';

/** An OAuth refusal; its stable code is ERR_TRUST_OAUTH_<error> (trust/contract.ts). */
export class OAuthError extends TrustError {
  constructor(
    status: 400 | 401,
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(`ERR_TRUST_OAUTH_${error.toUpperCase()}` as TrustErrorCode, `${error}: ${description}`, { status });
  }

  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d);
export const invalidClient = (d: string) => new OAuthError(401, 'invalid_client', d);
export const invalidGrant = (d: string) => new OAuthError(400, 'invalid_grant', d);
export const unsupportedGrantType = (d: string) => new OAuthError(400, 'unsupported_grant_type', d);
export const invalidScope = (d: string) => new OAuthError(400, 'invalid_scope', d);
export const invalidTarget = (d: string) => new OAuthError(400, 'invalid_target', d);
/** RFC 9396 §5: an authorization_details entry that is malformed or not granted. */
export const invalidAuthorizationDetails = (d: string) => new OAuthError(400, 'invalid_authorization_details', d);
