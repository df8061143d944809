import { credentialTooLong } from '../../kit/http/credential-limits.ts';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { KeyObject } from 'node:crypto';
import type { Peer } from '../../kit/part.ts';
import { TrustError, type TrustErrorCode } from '../errors.ts';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, MAX_TOKEN_SECONDS, scopesOf } from './claims.ts';

// The resource-server check of an access token: signature by a key of the issuer's JWKS (ES256
// only: never alg none, never an HMAC), issuer, audience, expiry, scope, and the certificate
// binding (RFC 8705 §3) against the TLS client certificate the request arrived over.

export type KeySource = JWTVerifyGetKey | JSONWebKeySet | KeyObject;

export interface VerifyOptions {
  issuer: string;
  jwks: KeySource;
  /** Base URL of this part or node; the token's aud must name it. */
  audience: string;
  /** A scope the token must carry (omit to accept any). */
  requiredScope?: string;
  /** The verified TLS peer; a token is accepted only over the certificate it is bound to. */
  peer: Peer | undefined;
  /** Introspection only: skip audience and binding (the introspecting party is not the presenter). */
  unbound?: boolean;
  clockToleranceSeconds?: number;
  /** Remember the verified signature until expiry (default true; false measures the full check). */
  remember?: boolean;
}

export type RefusalCode = 'invalid_token' | 'insufficient_scope' | 'invalid_request';

const REFUSAL_CODES: Record<RefusalCode, TrustErrorCode> = {
  invalid_token: 'ERR_TRUST_TOKEN_INVALID',
  invalid_request: 'ERR_TRUST_TOKEN_MALFORMED',
  insufficient_scope: 'ERR_TRUST_TOKEN_SCOPE',
};

/** An access token refused: answered (by the kit) with its status and the RFC 6750 challenge. */
export class TokenRefusal extends TrustError {
  constructor(
    status: 401 | 403,
    readonly error: RefusalCode,
    message: string,
    readonly scope?: string,
  ) {
    const challenge =
      error === 'insufficient_scope' ? `Bearer error="insufficient_scope", scope="${scope ?? ''}"` : `Bearer error="${error}", error_description="${message.replace(/"/g, "'")}"`;
    super(REFUSAL_CODES[error], message, { status, headers: { 'www-authenticate': challenge } });
  }
}

const localSets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

function keyResolver(source: KeySource): JWTVerifyGetKey | KeyObject {
  if (typeof source === 'function') return source;
  if ('keys' in source && Array.isArray(source.keys)) {
    let set = localSets.get(source);
    if (!set) {
      set = createLocalJWKSet(source);
      localSets.set(source, set);
    }
    return set;
  }
  return source as KeyObject;
}

export function normalizeAudience(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed)
    return `token claim "${err.claim}" is not acceptable: ${err.message}`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof errors.JOSEError) return `token refused: ${err.message}`;
  return 'token could not be verified';
}

// Verified signatures are remembered until the token expires (≤ 5 minutes): the ES256 check is
// the most expensive step of every protected call, and a client reuses its token many times.
// Only the signature, issuer and type are remembered; expiry, audience, certificate binding and
// scope are checked on every call. A key withdrawn from the JWKS stops new tokens at once and
// already-seen ones at their expiry.
const verified = new Map<string, AccessTokenClaims>();
const MAX_VERIFIED = 10_000;

export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<AccessTokenClaims> {
  if (typeof token !== 'string' || token.split('.').length !== 3)
    throw new TokenRefusal(401, 'invalid_token', 'not a signed JWT');
  const tooLong = credentialTooLong('the access token', token);
  if (tooLong) throw new TokenRefusal(401, 'invalid_token', tooLong);
  const cacheKey = `${options.issuer}\n${token}`;
  let payload = (options.remember === false ? undefined : verified.get(cacheKey)) as AccessTokenClaims;
  if (payload && payload.exp + (options.clockToleranceSeconds ?? 5) <= Date.now() / 1000) {
    verified.delete(cacheKey);
    throw new TokenRefusal(401, 'invalid_token', 'token expired');
  }
  if (!payload)
    try {
      const key = keyResolver(options.jwks);
      const result = await jwtVerify(token, key as JWTVerifyGetKey, {
        algorithms: ['ES256'],
        issuer: options.issuer,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['sub', 'aud', 'exp', 'iat', 'jti', 'scope'],
        clockTolerance: options.clockToleranceSeconds ?? 5,
      });
      payload = result.payload as AccessTokenClaims;
      if (options.remember !== false) {
        if (verified.size >= MAX_VERIFIED) verified.clear();
        verified.set(cacheKey, payload);
      }
    } catch (err) {
      throw new TokenRefusal(401, 'invalid_token', describe(err));
    }
  if (payload.exp - payload.iat > MAX_TOKEN_SECONDS)
    throw new TokenRefusal(401, 'invalid_token', 'token lifetime exceeds 5 minutes');
  if (typeof payload.scope !== 'string')
    throw new TokenRefusal(401, 'invalid_token', 'token scope is not a string');
  if (options.unbound) return payload;
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const expected = normalizeAudience(options.audience);
  if (!aud.some((a) => typeof a === 'string' && normalizeAudience(a) === expected)) {
    throw new TokenRefusal(401, 'invalid_token', `token audience is not ${expected}`);
  }
  const bound = payload.cnf?.['x5t#S256'];
  if (!options.peer)
    throw new TokenRefusal(401, 'invalid_token', 'a certificate-bound token needs a TLS client certificate');
  if (!bound || bound !== options.peer.thumbprint) {
    throw new TokenRefusal(
      401,
      'invalid_token',
      'token is bound to another certificate than the one presented',
    );
  }
  if (options.requiredScope && !scopesOf(payload).includes(options.requiredScope)) {
    throw new TokenRefusal(
      403,
      'insufficient_scope',
      `token lacks scope ${options.requiredScope}`,
      options.requiredScope,
    );
  }
  return payload;
}
