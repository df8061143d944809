// The network's authentication library: one import for every part and node.
// Client side: createClientAssertion, TrustTokenProvider (for PartClient).
// Authorisation-server side: registerTokenEndpoint (+ authMigrations, loadOrCreateSigningKey).
// Resource-server side: configureTokenVerification + requireToken, or verifyAccessToken.

export { type AccessTokenClaims, MAX_TOKEN_SECONDS, scopesOf, type UserContext, userOf } from './claims.ts';
export {
  CLIENT_ASSERTION_TYPE,
  type ClientAssertionInput,
  certificateChain,
  createClientAssertion,
  JWT_BEARER_GRANT,
  MAX_ASSERTION_SECONDS,
} from './client-assertion.ts';
export { AUTHORIZATION_SERVER_PUBLIC_PATHS, registerTokenEndpoint, type TokenEndpointOptions } from './authorization-server.ts';
export { generateSigningKey, loadOrCreateSigningKey, publicJwks, type SigningKey } from './keys.ts';
export { authMigrations } from './migrations.ts';
export { OAuthError, type OAuthErrorCode } from './oauth-error.ts';
export { remoteJwks, trustVerification } from './remote-jwks.ts';
export { configureTokenVerification, requireToken, type RequireTokenOptions, type TokenVerification } from './require-token.ts';
export { type ClientContext, defaultAdmit, type GrantContext, TokenIssuer, type TokenIssuerOptions, type TokenResponse } from './token-issuer.ts';
export { TokenRequestError, TrustTokenProvider, type TrustTokenProviderOptions } from './token-provider.ts';
export { type KeySource, TokenRefusal, type VerifyOptions, verifyAccessToken } from './verify.ts';
