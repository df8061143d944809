import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from 'jose';
import { fetch as undiciFetch } from 'undici';
import type { PartClient } from '../../kit/http/client.ts';
import type { TokenVerification } from './require-token.ts';

// The issuer's JWKS fetched over the network's TLS (its CA is not in the system store), cached,
// and re-fetched when a token names a key it has not seen (key rotation), with a cool-down.

export function remoteJwks(jwksUri: string, client: PartClient): JWTVerifyGetKey {
  const fetchOverNetwork = ((url: string, init: Record<string, unknown>) =>
    undiciFetch(url, { ...init, dispatcher: client.agent })) as unknown as FetchImplementation;
  return createRemoteJWKSet(new URL(jwksUri), {
    [customFetch]: fetchOverNetwork,
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5_000,
  });
}

/** Verification of tokens issued by the trust framework's authorisation server. */
export function trustVerification(input: { trustUrl: string; client: PartClient; audience: string | (() => string) }): TokenVerification {
  return {
    issuer: input.trustUrl,
    jwks: remoteJwks(`${input.trustUrl}/.well-known/jwks.json`, input.client),
    audience: input.audience,
  };
}
