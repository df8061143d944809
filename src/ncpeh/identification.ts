import type { Bundle, Patient } from '@medplum/fhirtypes';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { DemographicsError } from './errors.ts';

// Patient identification as MyHealth@EU does it: the country of treatment sends the national
// identifier (BSN) and the demographics the patient showed; the Dutch side confirms only when the
// record it finds agrees on all of them. Unknown and mismatched get the same answer, so the
// foreign side never learns whether the BSN exists.

export interface Demographics {
  bsn: string;
  family: string;
  given: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

export { DemographicsError };

/** Checks the shape of what the foreign side sent (a 400 for the caller, not a lookup). */
export function parseDemographics(input: unknown): Demographics {
  const d = (input ?? {}) as Record<string, unknown>;
  const str = (k: string, max: number) => {
    const v = d[k];
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) throw new DemographicsError(`patient.${k} is required (text up to ${max} characters)`);
    return v.trim();
  };
  const bsn = str('bsn', 9);
  if (!isValidBsn(bsn)) throw new DemographicsError('patient.bsn is not a valid BSN');
  const birthDate = str('birthDate', 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate) || Number.isNaN(Date.parse(birthDate))) throw new DemographicsError('patient.birthDate must be YYYY-MM-DD');
  return { bsn, family: str('family', 200), given: str('given', 200), birthDate };
}

/** Lower case, accents and separators dropped: "De Groot" and "de groot" agree, "Hendrik-Jan" and "hendrik jan" too. */
export function normalizeName(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

function familyNames(p: Patient): string[] {
  return (p.name ?? []).flatMap((n) => [n.family ?? '', ...(n.text ? [n.text.split(' ').slice(1).join(' ')] : [])].filter(Boolean));
}

function givenNames(p: Patient): string[] {
  return (p.name ?? []).flatMap((n) => [...(n.given ?? []), ...(n.text ? [n.text.split(' ')[0]] : [])]);
}

/** True when one of the record's patients agrees with every demographic sent. */
export function demographicsMatch(d: Demographics, patients: Patient[]): boolean {
  const family = normalizeName(d.family);
  const given = normalizeName(d.given);
  return patients.some(
    (p) =>
      p.birthDate === d.birthDate &&
      familyNames(p).some((f) => normalizeName(f) === family || normalizeName(f).endsWith(family)) &&
      givenNames(p).some((g) => normalizeName(g) === given),
  );
}

/** The Patient resources of an assembled document or overview. */
export function patientsOf(bundle: Bundle): Patient[] {
  return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Patient => r?.resourceType === 'Patient');
}
