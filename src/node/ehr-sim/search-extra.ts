import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import { dateCondition, parseDate, parseToken } from './search-params.ts';

// The search parameters the agreements' allow-listed queries name beyond identifier, code and
// category (clinical-status, status, class, type, modality, date, started, _include), as a FHIR
// server matches them: read from the stored resource itself (jsonb and jsonpath, the same SQL on
// PGlite and PostgreSQL), so records written before these were supported are searched alike.

type Kind = { kind: 'status' } | { kind: 'coding'; paths: string[] } | { kind: 'date'; expr: string };

const CLINICAL_STATUS: Kind = { kind: 'coding', paths: ['$.clinicalStatus.coding[*]'] };
const STATUS: Kind = { kind: 'status' };
const iso = (e: string) => `(CASE WHEN (${e}) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}' THEN (${e})::timestamptz END)`;

const PARAMS: Record<string, Record<string, Kind>> = {
  AllergyIntolerance: { 'clinical-status': CLINICAL_STATUS },
  Condition: { 'clinical-status': CLINICAL_STATUS },
  MedicationStatement: { status: STATUS },
  MedicationRequest: { status: STATUS },
  MedicationDispense: { status: STATUS },
  Flag: { status: STATUS },
  Immunization: { status: STATUS },
  DiagnosticReport: { status: STATUS },
  CareTeam: { status: STATUS },
  Observation: { status: STATUS, date: { kind: 'date', expr: iso("COALESCE(r.resource->>'effectiveDateTime', r.resource->'effectivePeriod'->>'start', r.resource->>'effectiveInstant')") } },
  Procedure: { status: STATUS, date: { kind: 'date', expr: iso("COALESCE(r.resource->>'performedDateTime', r.resource->'performedPeriod'->>'start')") } },
  Encounter: { status: STATUS, class: { kind: 'coding', paths: ['$.class'] }, date: { kind: 'date', expr: iso("r.resource->'period'->>'start'") } },
  Composition: { status: STATUS, type: { kind: 'coding', paths: ['$.type.coding[*]'] } },
  ImagingStudy: { status: STATUS, modality: { kind: 'coding', paths: ['$.modality[*]', '$.series[*].modality'] }, started: { kind: 'date', expr: iso("r.resource->>'started'") } },
};

/** `_include` targets per type (the agreements' queries): the reference element they follow. */
const INCLUDES: Record<string, Record<string, string>> = {
  MedicationStatement: { 'MedicationStatement:medication': 'medicationReference' },
  MedicationRequest: { 'MedicationRequest:medication': 'medicationReference' },
  MedicationDispense: { 'MedicationDispense:medication': 'medicationReference' },
};

export function extraParamsFor(type: string): string[] {
  return [...Object.keys(PARAMS[type] ?? {}), ...(INCLUDES[type] ? ['_include'] : [])];
}

export function isDateParam(type: string, name: string): boolean {
  return PARAMS[type]?.[name]?.kind === 'date';
}

/** The SQL condition for one extra parameter (values OR-ed, repeats AND-ed), or undefined if not one. */
export function extraCondition(type: string, name: string, values: string[], params: unknown[]): string | undefined {
  if (name === '_include') {
    for (const v of values.flatMap((x) => x.split(','))) {
      if (!INCLUDES[type]?.[v]) throw badRequest(`unsupported _include for ${type}: ${v}`, ['_include']);
    }
    return 'TRUE';
  }
  const k = PARAMS[type]?.[name];
  if (!k) return undefined;
  if (k.kind === 'date') return values.map((v) => dateCondition(k.expr, parseDate(v), params)).join(' AND ');
  return values
    .map((v) => {
      const ors = v.split(',').map((one) => {
        const t = parseToken(one);
        if (t.code === undefined) throw badRequest(`${name} needs a code`, [name]);
        if (k.kind === 'status') return `r.resource->>'status' = $${params.push(t.code)}`;
        const filter = t.system !== undefined ? '@.code == $code && @.system == $system' : '@.code == $code';
        const vars = `jsonb_build_object('code', $${params.push(t.code)}::text, 'system', $${params.push(t.system ?? '')}::text)`;
        return k.paths.map((p) => `jsonb_path_exists(r.resource, '${p} ? (${filter})', ${vars})`).join(' OR ');
      });
      return `(${ors.join(' OR ')})`;
    })
    .join(' AND ');
}

/** Stored resources a page's matches reference through the asked `_include`s (Type/id references only). */
export function includeReferences(type: string, includes: string[], matches: Resource[]): Array<{ type: string; id: string }> {
  const out = new Map<string, { type: string; id: string }>();
  for (const inc of includes.flatMap((x) => x.split(','))) {
    const element = INCLUDES[type]?.[inc];
    if (!element) continue;
    for (const r of matches) {
      // A contained medication (#ref) travels inside the resource already.
      const ref = (r as unknown as Record<string, { reference?: string } | undefined>)[element]?.reference;
      const m = ref ? /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
      if (m) out.set(`${m[1]}/${m[2]}`, { type: m[1], id: m[2] });
    }
  }
  return [...out.values()];
}
