import { containsBsn } from '../audit/contract.ts';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import type { DatePrecision } from './contract.ts';

// The HDAB's own check of what a holder delivered, before anything enters a workspace: the holder
// pseudonymises and generalises (contract), and the HDAB refuses a file that did not (defence in
// depth: a holder's bug must not put identifying data in front of a researcher).

/** Elements the contract removes from every resource. */
const FORBIDDEN = ['identifier', 'name', 'telecom', 'address', 'photo', 'contact', 'text'] as const;
const FULL_DATE = /^\d{4}-\d{2}-\d{2}/;
const DATE_BY_PRECISION: Record<DatePrecision, RegExp> = { year: /^\d{4}$/, month: /^\d{4}(-\d{2})?$/ };

/** Why this resource may not enter a workspace, or null when it may. */
export function identifyingContent(resource: unknown, precision: DatePrecision, allowedTypes: readonly string[]): string | null {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) return 'not a FHIR resource';
  const r = resource as Record<string, unknown>;
  if (typeof r.resourceType !== 'string' || !allowedTypes.includes(r.resourceType)) return `resource type ${String(r.resourceType)} is not in the permit`;
  for (const key of FORBIDDEN) if (r[key] !== undefined) return `${r.resourceType}.${key} must have been removed`;
  if (r.birthDate !== undefined && !(typeof r.birthDate === 'string' && DATE_BY_PRECISION[precision].test(r.birthDate))) {
    return `birthDate is not generalised to ${precision}`;
  }
  return walk(r, precision, r.resourceType);
}

/** Ids and references are opaque (pseudonyms, generated ids): only one that is a BSN is refused. */
const OPAQUE = /(^|\.)(id|reference)$/;

function walk(value: unknown, precision: DatePrecision, path: string): string | null {
  if (typeof value === 'string') {
    if (FULL_DATE.test(value)) return `${path} carries a date more precise than ${precision}`;
    const bsnLike = OPAQUE.test(path) ? isValidBsn(value.slice(value.lastIndexOf('/') + 1)) : containsBsn(value);
    if (bsnLike) return `${path} carries a number that may be a BSN`;
    return null;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const why = walk(v, precision, `${path}[${i}]`);
      if (why) return why;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const why = walk(v, precision, `${path}.${k}`);
      if (why) return why;
    }
  }
  return null;
}
