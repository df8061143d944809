import { normalizeName } from '../identification.ts';
import { IdentificationError } from '../errors.ts';

// Belgium's side of patient identification (country of affiliation): the country of treatment
// sends the Belgian national register number (INSZ/NISS, 11 digits whose last two are a mod-97
// check) with the demographics the patient showed; Belgium confirms only a person whose record
// agrees on all of them. Unknown and mismatched are one answer, so nothing tells the asker
// whether the number exists.

export const INSZ_SYSTEM = 'https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin';

export interface ForeignDemographics {
  /** The national identifier in the patient's country of affiliation. */
  id: string;
  family: string;
  given: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

export interface RegisteredPerson {
  insz: string;
  family: string;
  given: string[];
  birthDate: string;
}

export { IdentificationError };

/** True for an 11-digit INSZ whose check digits agree (born before 2000, or from 2000 with the leading 2). */
export function isValidInsz(value: string): boolean {
  if (!/^\d{11}$/.test(value)) return false;
  const body = value.slice(0, 9);
  const check = Number(value.slice(9));
  return 97 - (Number(body) % 97) === check || 97 - (Number(`2${body}`) % 97) === check;
}

/** The shape of what the country of treatment sent (a 400 for the caller, not a lookup). */
export function parseForeignDemographics(input: unknown): ForeignDemographics {
  const d = (input ?? {}) as Record<string, unknown>;
  const str = (k: string, max: number) => {
    const v = d[k];
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) throw new IdentificationError(`patient.${k} is required (text up to ${max} characters)`);
    return v.trim();
  };
  const id = str('id', 32).replace(/[\s.-]/g, '');
  const birthDate = str('birthDate', 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(birthDate) || Number.isNaN(Date.parse(birthDate))) throw new IdentificationError('patient.birthDate must be YYYY-MM-DD');
  return { id, family: str('family', 200), given: str('given', 200), birthDate };
}

/**
 * The registered person the demographics identify, or undefined (unknown number, or a record
 * that disagrees on name or birth date). A family name matches whole or as the end of a longer
 * one ("Lambert" for "Dupont-Lambert"); accents, case and separators do not count.
 */
export function identify(d: ForeignDemographics, register: readonly RegisteredPerson[]): RegisteredPerson | undefined {
  if (!isValidInsz(d.id)) return undefined;
  const person = register.find((p) => p.insz === d.id);
  if (!person || person.birthDate !== d.birthDate) return undefined;
  const family = normalizeName(d.family);
  const given = normalizeName(d.given);
  const familyOk = family.length > 0 && (normalizeName(person.family) === family || normalizeName(person.family).endsWith(family));
  const givenOk = person.given.some((g) => normalizeName(g) === given);
  return familyOk && givenOk ? person : undefined;
}
