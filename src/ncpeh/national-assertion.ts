import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose';
import type { UserContext } from '../trust/contract.ts';
import type { HcpAssertion } from './assertion.ts';

// Inside the Dutch network the NCPeH acts for the foreign professional the way a Dutch
// organisation acts for its clinician: with a user assertion its node's authorisation server and
// every holder verify. It is the NCPeH's own signature (its key, published at the NCPeH's JWKS),
// naming the foreign professional, the Dutch role the agreements map hers to, and her country and
// organisation; it is only good for the NCPeH's own organisation (abonnee_nummer = its URA).

export const NATIONAL_ASSERTION_TYPE = 'ncpeh-verklaring+jwt';
export const NCPEH_JWKS_PATH = '/ncpeh/jwks';
const LIFETIME_SECONDS = 120;

export interface NationalAssertionInput {
  hcp: HcpAssertion;
  uziRole: string;
  /** URA of the NCPeH organisation in the Dutch network. */
  ncpehUra: string;
  countryName: string;
}

/** What holders record and the citizen's access log shows as the requester: country and organisation, not her name. */
export const CROSS_BORDER_NAME_PREFIX = 'Buitenland, door ';
export function crossBorderDisplayName(hcp: Pick<HcpAssertion, 'organizationName'>, countryName: string): string {
  return `${CROSS_BORDER_NAME_PREFIX}${countryName}, ${hcp.organizationName}`;
}

export async function signNationalAssertion(input: NationalAssertionInput, key: CryptoKey | Uint8Array, kid: string): Promise<string> {
  return new SignJWT({
    dezi_nummer: `${input.hcp.country}-${input.hcp.professionalId}`,
    rol_code: input.uziRole,
    abonnee_nummer: input.ncpehUra,
    naam: crossBorderDisplayName(input.hcp, input.countryName),
    land: input.hcp.country,
    organisatie: input.hcp.organizationName,
    doel: input.hcp.purpose,
  })
    .setProtectedHeader({ alg: 'ES256', typ: NATIONAL_ASSERTION_TYPE, kid })
    .setIssuer('ncpeh:NL')
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .setJti(randomUUID())
    .sign(key);
}

/** True when a user assertion is an NCPeH one (by its header; its signature is checked after). */
export function isNationalAssertion(jwt: string): boolean {
  try {
    return decodeProtectedHeader(jwt).typ === NATIONAL_ASSERTION_TYPE;
  } catch {
    return false;
  }
}

/** Verifies an NCPeH user assertion for the organisation `expectedUra` (the NCPeH's own). */
export async function verifyNationalAssertion(jwt: string, jwks: JWTVerifyGetKey, expectedUra: string): Promise<UserContext> {
  const { payload } = await jwtVerify(jwt, jwks, { issuer: 'ncpeh:NL', typ: NATIONAL_ASSERTION_TYPE, algorithms: ['ES256'], requiredClaims: ['exp', 'iat', 'jti'] });
  if ((payload.exp as number) - (payload.iat as number) > LIFETIME_SECONDS) throw new Error('the NCPeH assertion lives too long');
  if (payload.abonnee_nummer !== expectedUra) throw new Error('the NCPeH assertion is for another organisation');
  const { dezi_nummer, rol_code, naam } = payload as Record<string, unknown>;
  if (typeof dezi_nummer !== 'string' || typeof rol_code !== 'string' || typeof naam !== 'string') throw new Error('the NCPeH assertion lacks professional, role or name');
  return { deziNumber: dezi_nummer, roleCode: rol_code, name: naam, ura: expectedUra };
}
