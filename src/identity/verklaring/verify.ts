import { credentialTooLong } from '../../kit/http/credential-limits.ts';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type FetchImplementation,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { VERKLARING_JSON_SCHEMA } from '../constants.ts';
import { IdentityError, type IdentityErrorCode } from '../errors.ts';
import { REQUIRED_STRING_CLAIMS, type VerklaringClaims } from './claims.ts';

// Verifies a Dezi verklaring for a relying party (the token endpoint's jwt-bearer grant).
// Every refusal names its reason, so a caller can map it to an OAuth error and a log line.
// Only the configured JWKS is used: the `jku` header must point at it, never elsewhere
// (following an attacker's jku would let anyone sign their own verklaring).

export type VerklaringRefusal =
  | 'malformed'
  | 'not-a-verklaring'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-ura'
  | 'revoked'
  | 'status-unavailable'
  | 'keys-unavailable';

/** A refused verklaring; its code is ERR_IDENTITY_VERKLARING_<reason> (identity/errors.ts). */
export class VerklaringError extends IdentityError {
  constructor(
    readonly reason: VerklaringRefusal,
    message: string,
  ) {
    super(`ERR_IDENTITY_VERKLARING_${reason.toUpperCase().replace(/-/g, '_')}` as IdentityErrorCode, `verklaring refused (${reason}): ${message}`);
    this.name = 'VerklaringError';
  }
}

export interface VerifyVerklaringOptions {
  /** Expected `iss` (the professional identity provider's issuer). */
  issuer: string;
  /** JWKS URL (must equal the token's `jku`) or the key set itself. */
  jwks: string | URL | JSONWebKeySet;
  /** The calling organisation: the verklaring's abonnee_nummer must equal it. */
  expectedUra?: string;
  /** Resolves true when the verklaring at statusUri is still active. Omitted = no revocation check. */
  checkStatus?: (statusUri: string) => Promise<boolean>;
  /** Fetch for the JWKS (e.g. one trusting the network CA). */
  fetch?: FetchImplementation;
  clockToleranceSeconds?: number;
  now?: Date;
}

const remoteSets = new Map<string, JWTVerifyGetKey>();
const remoteSetsByFetch = new WeakMap<FetchImplementation, Map<string, JWTVerifyGetKey>>();

function remoteSet(url: string, fetchImpl?: FetchImplementation): JWTVerifyGetKey {
  let cache = remoteSets;
  if (fetchImpl) {
    cache = remoteSetsByFetch.get(fetchImpl) ?? new Map();
    remoteSetsByFetch.set(fetchImpl, cache);
  }
  let set = cache.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), fetchImpl ? { [customFetch]: fetchImpl } : {});
    cache.set(url, set);
  }
  return set;
}

function unverifiedParts(jwt: string): { header: ReturnType<typeof decodeProtectedHeader>; payload: JWTPayload } {
  try {
    return { header: decodeProtectedHeader(jwt), payload: decodeJwt(jwt) };
  } catch {
    throw new VerklaringError('malformed', 'not a compact JWS JWT');
  }
}

export async function verifyVerklaring(jwt: string, o: VerifyVerklaringOptions): Promise<VerklaringClaims> {
  if (typeof jwt !== 'string' || jwt.split('.').length !== 3) throw new VerklaringError('malformed', 'not a compact JWS JWT');
  const tooLong = credentialTooLong('the verklaring', jwt);
  if (tooLong) throw new VerklaringError('malformed', tooLong);
  const { header, payload } = unverifiedParts(jwt);

  // Shape first: a citizen id_token or any other JWT is told apart before keys are fetched.
  if (payload.json_schema !== VERKLARING_JSON_SCHEMA || typeof payload.dezi_nummer !== 'string') {
    const from = typeof payload.iss === 'string' ? ` (issued by ${payload.iss})` : '';
    throw new VerklaringError('not-a-verklaring', `the token has no verklaring structure${from}; a citizen or other identity cannot act as a professional`);
  }
  if (header.alg !== 'RS256') throw new VerklaringError('bad-signature', `alg must be RS256, got ${String(header.alg)}`);
  if (typeof header.kid !== 'string') throw new VerklaringError('malformed', 'header has no kid');

  let getKey: JWTVerifyGetKey | ReturnType<typeof createLocalJWKSet>;
  if (typeof o.jwks === 'string' || o.jwks instanceof URL) {
    const url = String(o.jwks);
    if (header.jku !== url) throw new VerklaringError('bad-signature', `jku ${String(header.jku)} is not the trusted key set ${url}`);
    getKey = remoteSet(url, o.fetch);
  } else {
    if (typeof header.jku !== 'string') throw new VerklaringError('malformed', 'header has no jku');
    getKey = createLocalJWKSet(o.jwks);
  }

  let claims: VerklaringClaims;
  try {
    const result = await jwtVerify(jwt, getKey, {
      issuer: o.issuer,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'nbf', 'iss', 'jti'],
      clockTolerance: o.clockToleranceSeconds ?? 30,
      currentDate: o.now,
    });
    claims = result.payload as unknown as VerklaringClaims;
  } catch (err) {
    throw mapJoseError(err, o.issuer);
  }

  for (const name of REQUIRED_STRING_CLAIMS) {
    if (typeof claims[name] !== 'string' || claims[name] === '') throw new VerklaringError('malformed', `claim ${name} is missing or empty`);
  }
  if (claims.voorvoegsel !== null && typeof claims.voorvoegsel !== 'string') throw new VerklaringError('malformed', 'claim voorvoegsel must be a string or null');
  if (o.expectedUra !== undefined && claims.abonnee_nummer !== o.expectedUra) {
    throw new VerklaringError('wrong-ura', `issued for organisation ${claims.abonnee_nummer}, presented by ${o.expectedUra}`);
  }
  if (o.checkStatus) {
    let active: boolean;
    try {
      active = await o.checkStatus(claims.status_uri);
    } catch (err) {
      // Deny on error: an unreachable status service must not let a revoked verklaring pass.
      throw new VerklaringError('status-unavailable', `status at ${claims.status_uri} could not be checked: ${(err as Error).message}`);
    }
    if (!active) throw new VerklaringError('revoked', `verklaring ${claims.verklaring_id} is no longer active`);
  }
  return claims;
}

function mapJoseError(err: unknown, issuer: string): VerklaringError {
  if (err instanceof VerklaringError) return err;
  if (err instanceof errors.JWTExpired) return new VerklaringError('expired', 'exp is in the past');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') return new VerklaringError('wrong-issuer', `iss is not ${issuer}`);
    if (err.claim === 'nbf') return new VerklaringError('not-yet-valid', 'nbf is in the future');
    return new VerklaringError('malformed', `claim ${err.claim}: ${err.reason}`);
  }
  if (
    err instanceof errors.JWSSignatureVerificationFailed ||
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new VerklaringError('bad-signature', (err as Error).message);
  }
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) {
    return new VerklaringError('keys-unavailable', `key set unavailable: ${(err as Error).message}`);
  }
  return new VerklaringError('malformed', (err as Error).message);
}

/**
 * A checkStatus for verifyVerklaring that asks the status_uri (GET, JSON {status}).
 * Only URIs under `allowedPrefix` are fetched, so a signed but odd status_uri cannot make
 * the verifier call arbitrary hosts.
 */
export function httpStatusChecker(allowedPrefix: string, fetchImpl: typeof fetch = fetch): (statusUri: string) => Promise<boolean> {
  return async (statusUri) => {
    if (!statusUri.startsWith(allowedPrefix)) throw new Error(`status_uri outside ${allowedPrefix}`);
    const res = await fetchImpl(statusUri, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    if (res.status === 404) return false;
    if (!res.ok) throw new Error(`status service answered ${res.status}`);
    const body = (await res.json()) as { status?: string };
    return body.status === 'active';
  };
}
