import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { thumbprintOf } from '../../kit/http/peer.ts';
import type { TlsIdentity } from '../../kit/part.ts';
import { pemToDer } from '../../kit/pki/certificates.ts';
import { webCryptoKeyOf } from './keys.ts';

// The client side of private_key_jwt (RFC 7523 §2.2) as the network profiles it: signed with
// the participant's TLS key, the certificate chain in x5c, iss = sub = URA, aud = the token
// endpoint, a short life, a fresh jti, and cnf.x5t#S256 naming the TLS certificate.

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Upper bound the authorisation server accepts for an assertion's life. */
export const MAX_ASSERTION_SECONDS = 300;

export interface ClientAssertionInput {
  identity: TlsIdentity;
  ura: string;
  tokenEndpoint: string;
  /** Default 60 s; at most 300 s. */
  lifetimeSeconds?: number;
}

interface PreparedIdentity {
  key: Promise<CryptoKey | KeyObject>;
  alg: 'ES256' | 'RS256';
  x5c: string[];
  thumbprint: string;
}

// Parsing PEM and importing the key on every call would dominate the cost of an assertion.
const prepared = new Map<string, PreparedIdentity>();

export function certificateChain(pem: string): string[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => pemToDer(b).toString('base64'));
}

function prepare(identity: TlsIdentity): PreparedIdentity {
  const cacheKey = identity.cert + identity.key;
  const hit = prepared.get(cacheKey);
  if (hit) return hit;
  const keyObject = createPrivateKey(identity.key);
  const alg = keyObject.asymmetricKeyType === 'rsa' ? 'RS256' : 'ES256';
  const key = webCryptoKeyOf(keyObject);
  const x5c = certificateChain(identity.cert);
  if (x5c.length === 0) throw new Error('identity has no certificate');
  const entry = { key, alg, x5c, thumbprint: thumbprintOf(Buffer.from(x5c[0], 'base64')) } as const;
  if (prepared.size > 1000) prepared.clear();
  prepared.set(cacheKey, entry);
  return entry;
}

/** A signed client assertion for one token request. */
export async function createClientAssertion(input: ClientAssertionInput): Promise<string> {
  const p = prepare(input.identity);
  const life = Math.min(input.lifetimeSeconds ?? 60, MAX_ASSERTION_SECONDS);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ cnf: { 'x5t#S256': p.thumbprint } })
    .setProtectedHeader({ alg: p.alg, typ: 'JWT', kid: p.thumbprint, x5c: p.x5c })
    .setIssuer(input.ura)
    .setSubject(input.ura)
    .setAudience(input.tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + life)
    .setJti(randomUUID())
    .sign(await p.key);
}
