import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import {
  DATE_PRECISIONS,
  DEFAULT_MIN_CELL,
  type DatePrecision,
  PERMIT_ALG,
  PERMIT_TYP,
  type PermitClaims,
  type PermitCohort,
} from './contract.ts';
import { DATA_CATEGORY_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { PermitRefused } from './errors.ts';

// The check of a data permit (contract: a compact JWS by the HDAB) that every part relying on a
// permit makes for itself: a holder before its $export, the PRS before it hands out research
// pseudonyms. Signature against the HDAB's published keys, typ, issuer = the HDAB the caller
// knows, nbf/exp, and every claim's shape. Anything wrong is a PermitRefused (403): deny on
// error, never a 5xx. Offered to other parts through contract.ts.

export { PermitRefused };

/** Resource types a holder can extract (and de-identify) today. */
export const EXPORTABLE_TYPES = ['Patient', 'Condition', 'MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'Observation', 'AllergyIntolerance', 'Procedure', 'Immunization', 'Encounter'];

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200);
const isAge = (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 150);

function cohortOf(v: unknown): PermitCohort {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PermitRefused('permit cohort must be an object');
  const c = v as Record<string, unknown>;
  if (c.conditions !== undefined && !(isStringList(c.conditions) && c.conditions.every((s) => /^\d{6,18}$/.test(s)))) throw new PermitRefused('permit cohort.conditions must be SNOMED CT codes');
  if (c.medications !== undefined && !(isStringList(c.medications) && c.medications.every((s) => /^[A-Z]\d{0,2}[A-Z]{0,2}\d{0,2}$/.test(s)))) throw new PermitRefused('permit cohort.medications must be ATC code prefixes');
  if (!isAge(c.ageMin) || !isAge(c.ageMax)) throw new PermitRefused('permit cohort ages must be whole years');
  if (c.ageMin !== undefined && c.ageMax !== undefined && (c.ageMin as number) > (c.ageMax as number)) throw new PermitRefused('permit cohort.ageMin exceeds ageMax');
  return {
    ...(c.conditions ? { conditions: c.conditions as string[] } : {}),
    ...(c.medications ? { medications: c.medications as string[] } : {}),
    ...(c.ageMin !== undefined ? { ageMin: c.ageMin as number } : {}),
    ...(c.ageMax !== undefined ? { ageMax: c.ageMax as number } : {}),
  };
}

/** The permit's claims, checked for shape (signature and times are checked by verifyPermit). */
export function parsePermitClaims(payload: unknown): PermitClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new PermitRefused('permit payload must be a JSON object');
  const p = payload as Record<string, unknown>;
  for (const k of ['iss', 'jti', 'sub', 'purpose', 'legal_basis'] as const) {
    if (typeof p[k] !== 'string' || p[k] === '') throw new PermitRefused(`permit claim ${k} is missing`);
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(p.jti as string)) throw new PermitRefused('permit jti must be a short token');
  if (!/^\d{8}$/.test(p.sub as string)) throw new PermitRefused('permit sub must be the research organisation\'s URA');
  for (const k of ['iat', 'nbf', 'exp'] as const) if (!Number.isInteger(p[k])) throw new PermitRefused(`permit claim ${k} must be a NumericDate`);
  if (!isStringList(p.categories) || p.categories.length === 0 || !p.categories.every((c) => DATA_CATEGORY_CODES.has(c))) throw new PermitRefused('permit categories must be a list of GF data-category codes');
  if (!isStringList(p.types) || p.types.length === 0) throw new PermitRefused('permit types must list FHIR resource types');
  const unknown = p.types.filter((t) => !EXPORTABLE_TYPES.includes(t));
  if (unknown.length) throw new PermitRefused(`permit asks for types this holder does not export: ${unknown.join(', ')}`);
  if (!DATE_PRECISIONS.includes(p.date_precision as DatePrecision)) throw new PermitRefused('permit date_precision must be year or month');
  const minCell = p.min_cell ?? DEFAULT_MIN_CELL;
  if (!Number.isInteger(minCell) || (minCell as number) < 1) throw new PermitRefused('permit min_cell must be a positive whole number');
  return {
    iss: p.iss as string,
    jti: p.jti as string,
    sub: p.sub as string,
    iat: p.iat as number,
    nbf: p.nbf as number,
    exp: p.exp as number,
    purpose: p.purpose as string,
    legal_basis: p.legal_basis as string,
    categories: p.categories,
    cohort: cohortOf(p.cohort),
    types: p.types,
    date_precision: p.date_precision as DatePrecision,
    min_cell: minCell as number,
  };
}

export interface PermitVerifierOptions {
  /** The HDAB's base URL (the expected iss). */
  issuer: () => string;
  /** The HDAB's published keys; `refresh` asks past any cache (a key the verifier does not know yet). */
  jwks: (refresh: boolean) => Promise<JSONWebKeySet>;
  now?: () => number;
}

export function permitVerifier(o: PermitVerifierOptions): (jws: string) => Promise<PermitClaims> {
  const verifyWith = async (jws: string, keys: JSONWebKeySet) => {
    const { payload } = await jwtVerify(jws, createLocalJWKSet(keys), {
      algorithms: [PERMIT_ALG],
      typ: PERMIT_TYP,
      issuer: o.issuer(),
      requiredClaims: ['jti', 'sub', 'iat', 'nbf', 'exp'],
      currentDate: o.now ? new Date(o.now()) : undefined,
      clockTolerance: 30,
    });
    return payload;
  };
  return async (jws) => {
    if (typeof jws !== 'string' || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(jws)) throw new PermitRefused('the permit must be a compact JWS');
    let keys: JSONWebKeySet;
    try {
      keys = await o.jwks(false);
    } catch {
      throw new PermitRefused('the HDAB\'s permit keys cannot be read: permit not verifiable');
    }
    try {
      let payload: unknown;
      try {
        payload = await verifyWith(jws, keys);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
        payload = await verifyWith(jws, await o.jwks(true));
      }
      return parsePermitClaims(payload);
    } catch (err) {
      if (err instanceof PermitRefused) throw err;
      if (err instanceof errors.JWTExpired) throw new PermitRefused('the permit has expired');
      if (err instanceof errors.JWTClaimValidationFailed) throw new PermitRefused(`the permit is not valid: ${err.claim} ${err.reason}`);
      if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) throw new PermitRefused('the permit is not signed by the HDAB');
      if (err instanceof errors.JOSEError) throw new PermitRefused(`the permit is not valid: ${err.code}`);
      throw new PermitRefused('the permit cannot be verified');
    }
  };
}

/** JWKS from the HDAB over mutual TLS, kept for a minute; a refresh at most every 10 s. */
export function hdabKeys(fetchJwks: () => Promise<JSONWebKeySet>, now: () => number = Date.now): (refresh: boolean) => Promise<JSONWebKeySet> {
  let cached: { keys: JSONWebKeySet; at: number } | undefined;
  return async (refresh) => {
    const age = cached ? now() - cached.at : Number.POSITIVE_INFINITY;
    if (cached && (refresh ? age < 10_000 : age < 60_000)) return cached.keys;
    const keys = await fetchJwks();
    if (!keys || !Array.isArray(keys.keys)) throw new Error('malformed JWKS');
    cached = { keys, at: now() };
    return keys;
  };
}
