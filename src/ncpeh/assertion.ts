import { randomUUID } from 'node:crypto';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import { memberOf, type TrustListContent } from './trust-list.ts';
import { AssertionError } from './errors.ts';

// The professional's identity assertion between contact points (MyHealth@EU's HCP assertion,
// here a JWT): the foreign NCPeH vouches for who its professional is, her role (ISCO-08, as the
// eHDSI value sets use), her organisation and why she asks. It is short-lived, addressed to one
// country's NCPeH, and verified only with the key the trust list gives for the issuing country.

export const ASSERTION_TYPE = 'ncpeh-hcp+jwt';
const MAX_LIFETIME_SECONDS = 300;

export type CrossBorderPurpose = 'TREATMENT' | 'EMERGENCY';

export interface HcpAssertion {
  /** Issuing country (the NCPeH of the country of treatment). */
  country: string;
  professionalId: string;
  professionalName: string;
  /** ISCO-08 occupation code of the professional. */
  role: string;
  organizationId: string;
  organizationName: string;
  purpose: CrossBorderPurpose;
}

export { AssertionError };

export async function signHcpAssertion(a: HcpAssertion, audienceCountry: string, key: CryptoKey | Uint8Array, lifetimeSeconds = 120): Promise<string> {
  return new SignJWT({
    name: a.professionalName,
    role: a.role,
    org: { id: a.organizationId, name: a.organizationName },
    purpose: a.purpose,
  })
    .setProtectedHeader({ alg: 'ES256', typ: ASSERTION_TYPE, kid: `ncpeh:${a.country}` })
    .setIssuer(`ncpeh:${a.country}`)
    .setAudience(`ncpeh:${audienceCountry}`)
    .setSubject(a.professionalId)
    .setIssuedAt()
    .setExpirationTime(`${Math.min(lifetimeSeconds, MAX_LIFETIME_SECONDS)}s`)
    .setJti(randomUUID())
    .sign(key);
}

/** Verifies an assertion from `fromCountry` (the gateway peer) addressed to `ownCountry`. */
export async function verifyHcpAssertion(jwt: string, list: TrustListContent, fromCountry: string, ownCountry: string): Promise<HcpAssertion> {
  if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > 8192) throw new AssertionError('a professional assertion is required');
  const member = memberOf(list, fromCountry);
  if (!member) throw new AssertionError(`${fromCountry} is not on the trust list`);
  const key = await importJWK(member.signingKey, 'ES256');
  const { payload, protectedHeader } = await jwtVerify(jwt, key, {
    issuer: `ncpeh:${fromCountry}`,
    audience: `ncpeh:${ownCountry}`,
    typ: ASSERTION_TYPE,
    algorithms: ['ES256'],
    requiredClaims: ['exp', 'iat', 'sub', 'jti'],
  }).catch((e: Error) => {
    throw new AssertionError(`the professional assertion does not verify: ${e.message}`);
  });
  if ((payload.exp as number) - (payload.iat as number) > MAX_LIFETIME_SECONDS) throw new AssertionError('the professional assertion lives too long');
  const org = payload.org as { id?: unknown; name?: unknown } | undefined;
  const purpose = payload.purpose;
  if (typeof payload.role !== 'string' || typeof payload.name !== 'string' || typeof org?.id !== 'string' || typeof org?.name !== 'string') {
    throw new AssertionError('the professional assertion lacks role, name or organisation');
  }
  if (purpose !== 'TREATMENT' && purpose !== 'EMERGENCY') throw new AssertionError('the professional assertion names no known purpose');
  void protectedHeader;
  return {
    country: fromCountry,
    professionalId: payload.sub as string,
    professionalName: payload.name,
    role: payload.role,
    organizationId: org.id,
    organizationName: org.name,
    purpose,
  };
}
