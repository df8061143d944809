import type { FastifyRequest } from 'fastify';
import { decodeJwt, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { unauthorized } from '../kit/fhir/outcome.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';

// Who the citizen behind a request is. The portal (mTLS peer) forwards the citizen's token from
// the citizen identity provider (DigiD-like, src/identity) as the Bearer token; the token itself
// is the authority, not the peer. Same shape as the transparency part's CitizenAuthenticator.

export interface CitizenIdentity {
  bsn: string;
  /** eIDAS level of assurance (acr). */
  loa?: string;
}

/** undefined = no citizen credential on this request (it may be a care provider's call). */
export type CitizenAuth = (request: FastifyRequest) => Promise<CitizenIdentity | undefined>;

export interface CitizenTokenOptions {
  /** Issuer URL of the citizen identity provider. */
  issuer: string;
  jwks: JWTVerifyGetKey;
  /** Audience the token must name (the portal's client id or this part's URL). */
  audience: string | string[];
  /** Accepted acr values; absent = any. */
  acceptedLoa?: string[];
  /** Claim carrying the BSN (default "bsn"). */
  bsnClaim?: string;
}

/**
 * Verifies a citizen JWT in Authorization: Bearer when its (unverified) iss is the citizen
 * provider; any other bearer token is left to the care-provider path.
 */
export function citizenTokenAuth(options: CitizenTokenOptions): CitizenAuth {
  const claim = options.bsnClaim ?? 'bsn';
  return async (request) => {
    const m = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!m) return undefined;
    let iss: unknown;
    try {
      iss = decodeJwt(m[1]).iss;
    } catch {
      return undefined;
    }
    if (iss !== options.issuer) return undefined;
    try {
      const { payload } = await jwtVerify(m[1], options.jwks, { issuer: options.issuer, audience: options.audience, algorithms: ['ES256', 'RS256', 'PS256'] });
      const bsn = payload[claim];
      if (typeof bsn !== 'string' || !isValidBsn(bsn)) throw new Error(`token carries no valid ${claim}`);
      const loa = typeof payload.acr === 'string' ? payload.acr : undefined;
      if (options.acceptedLoa && (!loa || !options.acceptedLoa.includes(loa))) throw new Error('level of assurance too low');
      return { bsn, loa };
    } catch (err) {
      throw unauthorized(`citizen token refused: ${(err as Error).message}`);
    }
  };
}
