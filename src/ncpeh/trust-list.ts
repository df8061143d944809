import { createHash, X509Certificate } from 'node:crypto';
import canonicalize from 'canonicalize';
import { CompactSign, compactVerify, importJWK, type JWK } from 'jose';
import { TrustListError } from './errors.ts';

// The MyHealth@EU trust list as data: which national contact points exist, where their
// cross-border gateway answers, which CA issues their gateway certificates and which key signs
// their professionals' assertions. No NCPeH trusts another's CA by default: a list counts only
// when every NCPeH it names has signed the same canonical content (the central services' role,
// played here by the members signing each other's entries).

export interface TrustListEntry {
  /** ISO 3166-1 alpha-2 country code. */
  country: string;
  name: string;
  /** Base URL of the cross-border gateway (NCP-to-NCP). */
  gatewayUrl: string;
  /** PEM of the CA that issues this country's gateway certificates. */
  caCert: string;
  /** SHA-256 (base64url) of the gateway's client/server certificate (DER). */
  gatewayThumbprint: string;
  /** Public key (ES256) that signs this NCPeH's professional assertions and its list signature. */
  signingKey: JWK;
}

export interface TrustListContent {
  version: number;
  issued: string;
  entries: TrustListEntry[];
}

export interface SignedTrustList {
  content: TrustListContent;
  /** One compact JWS per member over the canonical content (payload detached into content). */
  signatures: Array<{ country: string; jws: string }>;
}

export { TrustListError };

export function thumbprintOfPem(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

function canonicalBytes(content: TrustListContent): Uint8Array {
  const text = canonicalize(content);
  if (typeof text !== 'string') throw new TrustListError('the trust list cannot be canonicalised');
  return new TextEncoder().encode(text);
}

/** One member's signature over the list (each member signs with its own assertion key). */
export async function signTrustList(content: TrustListContent, country: string, privateKey: CryptoKey | Uint8Array): Promise<{ country: string; jws: string }> {
  const jws = await new CompactSign(canonicalBytes(content)).setProtectedHeader({ alg: 'ES256', kid: `ncpeh:${country}`, typ: 'ncpeh-trust-list+jws' }).sign(privateKey);
  return { country, jws };
}

/**
 * Checks that every member named in the list signed exactly this content with the key the list
 * gives for it, and that the list names no member twice. Anything else: refused.
 */
export async function verifyTrustList(list: SignedTrustList): Promise<TrustListContent> {
  const content = list?.content;
  if (!content || !Array.isArray(content.entries) || content.entries.length === 0) throw new TrustListError('the trust list names no contact point');
  const countries = content.entries.map((e) => e.country);
  if (new Set(countries).size !== countries.length) throw new TrustListError('the trust list names a country twice');
  const expected = Buffer.from(canonicalBytes(content));
  for (const entry of content.entries) {
    const signature = (list.signatures ?? []).find((s) => s.country === entry.country);
    if (!signature) throw new TrustListError(`the trust list is not signed by ${entry.country}`);
    const key = await importJWK(entry.signingKey, 'ES256').catch(() => {
      throw new TrustListError(`the signing key of ${entry.country} is unusable`);
    });
    const verified = await compactVerify(signature.jws, key).catch(() => {
      throw new TrustListError(`the signature of ${entry.country} does not verify`);
    });
    if (!Buffer.from(verified.payload).equals(expected)) throw new TrustListError(`${entry.country} signed other content`);
    if (verified.protectedHeader.alg !== 'ES256') throw new TrustListError('only ES256 list signatures are accepted');
  }
  return content;
}

/** The entry of a country on a verified list, or undefined. */
export function memberOf(content: TrustListContent, country: string): TrustListEntry | undefined {
  return content.entries.find((e) => e.country === country);
}
