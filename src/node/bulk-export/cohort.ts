import type { Medication, Patient, Resource } from '@medplum/fhirtypes';
import type { PermitCohort } from '../../secondary-use/contract.ts';

// Who belongs to a permit's cohort, decided on the holder's raw data before anything is
// de-identified: a condition with one of the SNOMED codes, a medication whose ATC code starts
// with one of the prefixes, an age in whole years within the band. Every given criterion holds.

const SNOMED = 'http://snomed.info/sct';
const ATC = 'http://www.whocc.no/atc';

interface Coding {
  system?: string;
  code?: string;
}
const codingsOf = (concept: unknown): Coding[] => ((concept as { coding?: Coding[] } | undefined)?.coding ?? []).filter((c) => typeof c?.code === 'string');

/** The ATC codes of a medication resource: its own concept or the (contained) Medication it references. */
function atcCodes(r: Resource): string[] {
  const m = r as Resource & { medicationCodeableConcept?: unknown; medicationReference?: { reference?: string }; contained?: Resource[] };
  const concepts = [m.medicationCodeableConcept];
  const ref = m.medicationReference?.reference;
  if (ref?.startsWith('#')) concepts.push((m.contained ?? []).find((c): c is Medication => c.resourceType === 'Medication' && `#${c.id}` === ref)?.code);
  return concepts.flatMap(codingsOf).filter((c) => c.system === ATC || /^[A-Z]\d{2}/.test(c.code ?? '')).map((c) => c.code as string);
}

export const MEDICATION_TYPES = ['MedicationStatement', 'MedicationRequest', 'MedicationDispense'];

/** Age in whole years on `at` (ISO date), from a birth date of any precision (missing parts count as the start). */
export function ageOn(birthDate: string, at: string): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1)];
  const [ay, amo, ad] = at.slice(0, 10).split('-').map(Number);
  return ay - y - (amo < mo || (amo === mo && ad < d) ? 1 : 0);
}

/** The types the holder must read to decide membership, besides the Patient. */
export function typesForCohort(cohort: PermitCohort): string[] {
  return [...(cohort.conditions?.length ? ['Condition'] : []), ...(cohort.medications?.length ? MEDICATION_TYPES : [])];
}

export function matchesAge(cohort: PermitCohort, patient: Patient, transactionTime: string): boolean {
  if (cohort.ageMin === undefined && cohort.ageMax === undefined) return true;
  const age = patient.birthDate ? ageOn(patient.birthDate, transactionTime) : undefined;
  if (age === undefined) return false;
  return (cohort.ageMin === undefined || age >= cohort.ageMin) && (cohort.ageMax === undefined || age <= cohort.ageMax);
}

export function matchesConditions(cohort: PermitCohort, resources: readonly Resource[]): boolean {
  if (!cohort.conditions?.length) return true;
  const wanted = new Set(cohort.conditions);
  return resources.some((r) => r.resourceType === 'Condition' && codingsOf((r as { code?: unknown }).code).some((c) => c.system === SNOMED && wanted.has(c.code as string)));
}

export function matchesMedications(cohort: PermitCohort, resources: readonly Resource[]): boolean {
  if (!cohort.medications?.length) return true;
  const prefixes = cohort.medications;
  return resources.some((r) => MEDICATION_TYPES.includes(r.resourceType) && atcCodes(r).some((code) => prefixes.some((p) => code.startsWith(p))));
}

export function inCohort(cohort: PermitCohort, patient: Patient, resources: readonly Resource[], transactionTime: string): boolean {
  return matchesAge(cohort, patient, transactionTime) && matchesConditions(cohort, resources) && matchesMedications(cohort, resources);
}
