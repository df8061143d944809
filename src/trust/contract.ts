// What other parts may use of the trust part, and nothing else: the agreements (exchanges,
// scopes, policies as data) and how to find an exchange in them, and the participant register's
// wire shape (GET /participants). Everything else under src/trust is its implementation.

export { exchangeByCode, exchangeOfScopes } from './agreements/exchanges.ts';
export type {
  AgreementsDocument,
  AllowedQuery,
  ConsentMode,
  ExchangeCode,
  ExchangeDefinition,
  LegalBasis,
  NotifiedPullDefinition,
  ScopeDefinition,
} from './agreements/types.ts';

export type ParticipantStatus = 'applied' | 'admitted' | 'suspended' | 'revoked';

export interface Address {
  line?: string[];
  postalCode?: string;
  city?: string;
  country?: string;
}

export interface ParticipantInput {
  ura: string;
  name: string;
  organizationType: string;
  agb?: string;
  address?: Address;
}

export interface Qualification {
  id: number;
  qualification: string;
  validFrom: string;
  validUntil: string | null;
}

export interface Participant extends ParticipantInput {
  status: ParticipantStatus;
  statusChangedAt: string;
  qualifications: Qualification[];
  /** KvK numbers of the vendors that host this organisation. */
  hostedBy: string[];
}

export interface Vendor {
  kvk: string;
  name: string;
  status: ParticipantStatus;
  statusChangedAt: string;
  hosts: string[];
}

export interface StatusChange {
  status: ParticipantStatus;
  reason: string;
  actor: string;
  at: string;
}

// Every status once, checked complete by the compiler.
const EVERY_STATUS: Record<ParticipantStatus, true> = { applied: true, admitted: true, suspended: true, revoked: true };
/** Every status a participant or vendor can have (register order). */
export const PARTICIPANT_STATUSES = Object.keys(EVERY_STATUS) as ParticipantStatus[];

// Its error codes, for other parts and tests to test for.
export { TRUST_ERRORS, TrustError, type TrustErrorCode } from './errors.ts';

// The trust part's client kit and the authorisation library other parts embed: reading the
// signed agreements, requesting and verifying access tokens, the claims a token carries, the
// token endpoint a node runs for its own workflow tasks, the verklaring check, and the citizen
// app register's shape.
export { fetchAgreements } from './agreements/jws.ts';
export { startAgreementsSource } from './agreements/source.ts';
export type { CitizenApp } from './apps/register.ts';
export { type AccessTokenClaims, type AuthorizationDetail, scopesOf, type UserContext, userOf, WORKFLOW_TASK_DETAIL, workflowTaskOf } from './auth/claims.ts';
export { CLIENT_ASSERTION_TYPE, MAX_ASSERTION_SECONDS } from './auth/client-assertion.ts';
export { AUTHORIZATION_SERVER_PUBLIC_PATHS, defaultAdmit, OAuthError, publicJwks, registerTokenEndpoint, TokenRefusal, verifyAccessToken } from './auth/index.ts';
export { consumeJti } from './auth/jti.ts';
export { loadOrCreateSigningKey, type SigningKey } from './auth/keys.ts';
export { authMigrations } from './auth/migrations.ts';
export { invalidAuthorizationDetails } from './auth/oauth-error.ts';
export { remoteJwks, trustVerification } from './auth/remote-jwks.ts';
export { configureTokenVerification, requireToken, type TokenVerification } from './auth/require-token.ts';
export type { ClientContext } from './auth/token-issuer.ts';
export { TokenRequestError, TrustTokenProvider } from './auth/token-provider.ts';
export { verklaringVerifier } from './verklaring.ts';
