import { badRequest, unprocessable } from '../kit/fhir/outcome.ts';
import { DATA_CATEGORY_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { type ApplicationView, DATE_PRECISIONS, type DatePrecision, DEFAULT_MIN_CELL, type PermitCohort } from './contract.ts';

// A research organisation's application for a data permit, as the HDAB's API and portal take it.
// Everything the permit will say is checked here; a broken field is a 422 naming it, never a
// half-understood application.

/** Resource types a permit may ask for (what holders can de-identify under the contract). */
export const PERMIT_RESOURCE_TYPES = ['Patient', 'Condition', 'MedicationStatement', 'MedicationRequest', 'Observation', 'Procedure', 'AllergyIntolerance', 'Encounter'] as const;
/** The longest a permit may run. */
export const MAX_PERMIT_DAYS = 5 * 366;

/** The application as the HDAB holds it: the wire form with its period as dates. */
export interface PermitApplication extends Omit<ApplicationView, 'periodStart' | 'periodEnd'> {
  /** When the permit may first be used, and when it ends (its workspace is destroyed then). */
  periodStart: Date;
  periodEnd: Date;
}

const SNOMED = /^\d{6,18}$/;
const ATC_PREFIX = /^[A-Z](\d{2}([A-Z]([A-Z](\d{2})?)?)?)?$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function parsePermitApplication(body: unknown, now = new Date()): PermitApplication {
  if (!isObject(body)) throw badRequest('body must be a JSON object with the permit application');
  const problems: string[] = [];
  const text = (key: string, max: number): string => {
    const v = body[key];
    if (typeof v !== 'string' || !v.trim()) problems.push(`${key} is required (text)`);
    else if (v.length > max) problems.push(`${key} is longer than ${max} characters`);
    return typeof v === 'string' ? v.trim() : '';
  };
  const codes = (key: string, valid: (c: string) => boolean, required: boolean, container: Record<string, unknown> = body): string[] | undefined => {
    const v = container[key];
    if (v === undefined && !required) return undefined;
    if (!Array.isArray(v) || (required && v.length === 0) || v.length > 50 || !v.every((c) => typeof c === 'string' && valid(c))) {
      problems.push(`${key} must be a${required ? ' non-empty' : 'n'} list of valid codes (at most 50)`);
      return [];
    }
    return [...new Set(v as string[])];
  };
  const age = (key: string, container: Record<string, unknown>): number | undefined => {
    const v = container[key];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 130) problems.push(`cohort.${key} must be a whole number of years, 0 to 130`);
    return v as number;
  };
  const date = (key: string): Date => {
    const v = body[key];
    const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? new Date(v) : new Date(Number.NaN);
    if (Number.isNaN(d.getTime())) problems.push(`${key} must be a date (YYYY-MM-DD) or dateTime`);
    return d;
  };

  const purpose = text('purpose', 2000);
  const legalBasis = text('legalBasis', 500);
  const categories = codes('categories', (c) => DATA_CATEGORY_CODES.has(c), true) ?? [];
  const types = codes('types', (c) => (PERMIT_RESOURCE_TYPES as readonly string[]).includes(c), true) ?? [];
  if (types.length && !types.includes('Patient')) problems.push('types must include Patient (every row is about a pseudonymous patient)');
  const cohort: PermitCohort = {};
  if (body.cohort !== undefined && !isObject(body.cohort)) problems.push('cohort must be an object');
  const c = isObject(body.cohort) ? body.cohort : {};
  for (const key of Object.keys(c)) if (!['conditions', 'medications', 'ageMin', 'ageMax'].includes(key)) problems.push(`cohort.${key} is not a cohort criterion`);
  const conditions = codes('conditions', (x) => SNOMED.test(x), false, c);
  const medications = codes('medications', (x) => ATC_PREFIX.test(x), false, c);
  if (conditions?.length) cohort.conditions = conditions;
  if (medications?.length) cohort.medications = medications;
  const ageMin = age('ageMin', c);
  const ageMax = age('ageMax', c);
  if (ageMin !== undefined) cohort.ageMin = ageMin;
  if (ageMax !== undefined) cohort.ageMax = ageMax;
  if (ageMin !== undefined && ageMax !== undefined && ageMin > ageMax) problems.push('cohort.ageMin is above cohort.ageMax');
  const datePrecision = (body.datePrecision ?? 'year') as DatePrecision;
  if (!DATE_PRECISIONS.includes(datePrecision)) problems.push(`datePrecision must be one of ${DATE_PRECISIONS.join(', ')}`);
  const minCell = body.minCell ?? DEFAULT_MIN_CELL;
  // A researcher may ask for larger cells, never smaller than the network's floor.
  if (!Number.isInteger(minCell) || (minCell as number) < DEFAULT_MIN_CELL || (minCell as number) > 10_000) {
    problems.push(`minCell must be a whole number from ${DEFAULT_MIN_CELL} to 10000`);
  }
  const periodStart = date('periodStart');
  const periodEnd = date('periodEnd');
  if (!Number.isNaN(periodStart.getTime()) && !Number.isNaN(periodEnd.getTime())) {
    if (periodEnd <= periodStart) problems.push('periodEnd must be after periodStart');
    if (periodEnd <= now) problems.push('periodEnd is in the past');
    if (periodEnd.getTime() - periodStart.getTime() > MAX_PERMIT_DAYS * 86_400_000) problems.push(`a permit runs at most ${MAX_PERMIT_DAYS} days`);
  }
  for (const key of Object.keys(body)) {
    if (!['purpose', 'legalBasis', 'categories', 'cohort', 'types', 'datePrecision', 'minCell', 'periodStart', 'periodEnd'].includes(key)) problems.push(`${key} is not part of an application`);
  }
  if (problems.length) throw unprocessable(problems.join('; '), problems.map((p) => ({ severity: 'error', code: 'business-rule', diagnostics: p })));
  return { purpose, legalBasis, categories, cohort, types, datePrecision, minCell: minCell as number, periodStart, periodEnd };
}
