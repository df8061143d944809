import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, EmbeddedJWK, errors as joseErrors, jwtVerify } from 'jose';
import type { Queryable } from '../../kit/store/store.ts';
import { consumeJti } from '../../trust/contract.ts';
import { DpopError } from '../errors.ts';

// DPoP (RFC 9449) proofs, checked with jose: a JWT of type dpop+jwt signed with the key in its
// own header, for this method and URL, fresh, never seen before (its jti is consumed in the
// store, so a replay is refused by every instance), and on a resource request bound to the
// access token (ath). The key's thumbprint (jkt) is what the tokens are bound to.

const ALGS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'];
const MAX_AGE_SECONDS = 120;

export { DpopError };

/** The htu a proof must name: the request URL without query and fragment. */
export function htuOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export async function verifyDpopProof(
  proof: string | string[] | undefined,
  input: { method: string; url: string; accessToken?: string; db: Queryable },
): Promise<string> {
  if (typeof proof !== 'string' || !proof) throw new DpopError('a DPoP proof (DPoP header) is required');
  let payload: Record<string, unknown>;
  let jwk: Record<string, unknown>;
  try {
    const r = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ALGS });
    payload = r.payload as Record<string, unknown>;
    jwk = r.protectedHeader.jwk as Record<string, unknown>;
  } catch (err) {
    throw new DpopError(`DPoP proof refused: ${err instanceof joseErrors.JOSEError ? err.code : (err as Error).message}`);
  }
  if ('d' in jwk) throw new DpopError('DPoP proof carries a private key');
  if (payload.htm !== input.method) throw new DpopError('DPoP proof is for another method');
  if (payload.htu !== htuOf(input.url)) throw new DpopError('DPoP proof is for another URL');
  const iat = typeof payload.iat === 'number' ? payload.iat : Number.NaN;
  const now = Date.now() / 1000;
  if (!(Math.abs(now - iat) <= MAX_AGE_SECONDS)) throw new DpopError('DPoP proof is not fresh');
  if (typeof payload.jti !== 'string' || payload.jti.length < 8 || payload.jti.length > 200) throw new DpopError('DPoP proof has no usable jti');
  if (input.accessToken !== undefined) {
    const ath = createHash('sha256').update(input.accessToken).digest('base64url');
    if (payload.ath !== ath) throw new DpopError('DPoP proof is not bound to this access token (ath)');
  }
  const jkt = await calculateJwkThumbprint(jwk as Parameters<typeof calculateJwkThumbprint>[0]);
  if (!(await consumeJti(input.db, `dpop:${jkt}`, payload.jti, new Date((iat + MAX_AGE_SECONDS * 2) * 1000)))) {
    throw new DpopError('DPoP proof replayed');
  }
  return jkt;
}
