import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { AllowedQuery, ExchangeDefinition } from '../../trust/agreements/types.ts';

// Is this FHIR request one of the exchange's allow-listed searches for this patient?
// Only patient-scoped searches are allow-listed: GET [base]/Type?patient=… or POST [base]/Type/_search.

const PATIENT_PARAMS = ['patient', 'patient:identifier', 'subject', 'subject:identifier'];
const ALWAYS = ['_count', '_format'];

export interface QueryCheck {
  ok: boolean;
  problems: string[];
  /** Data categories of the allow-list entries that match. */
  dataCategories: string[];
}

function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A BSN named by an identifier parameter, or undefined when it names a local id. */
function bsnIn(value: string): string | undefined | null {
  if (!value.includes('|')) return undefined;
  const [system, id] = value.split('|', 2);
  return system === SYSTEM.bsn ? id : null;
}

export function checkQuery(
  exchange: ExchangeDefinition,
  request: { method: string; path: string; query_params: Record<string, string | string[] | undefined> },
  patientBsn: string,
): QueryCheck {
  const problems: string[] = [];
  const segments = request.path.split('?')[0].split('/').filter(Boolean);
  const method = request.method.toUpperCase();
  let type = segments.at(-1) ?? '';
  if (method === 'POST' && type === '_search') type = segments.at(-2) ?? '';
  else if (method !== 'GET') return { ok: false, problems: [`method ${method} is not a search`], dataCategories: [] };
  if (!/^[A-Z][A-Za-z]+$/.test(type)) return { ok: false, problems: [`${request.path} is not a type-level search`], dataCategories: [] };
  const candidates = exchange.queries.filter((q) => q.resourceType === type);
  if (candidates.length === 0) return { ok: false, problems: [`${type} is not allow-listed for ${exchange.code}`], dataCategories: [] };

  const params = Object.entries(request.query_params).filter(([, v]) => v !== undefined);
  const names = params.map(([k]) => k);
  // The patient parameter binds the search to the patient the decision is about.
  const patientParams = type === 'Patient' ? ['identifier', '_id'] : PATIENT_PARAMS;
  const bound = params.filter(([k]) => patientParams.includes(k));
  if (bound.length === 0) problems.push(`the search is not restricted to one patient (${patientParams.join(' or ')})`);
  for (const [k, v] of bound) {
    for (const value of values(v)) {
      const bsn = k.endsWith('identifier') ? bsnIn(value) : undefined;
      if (bsn === null) problems.push(`${k} must use the BSN system`);
      else if (bsn !== undefined && bsn !== patientBsn) problems.push(`${k} names another patient than the one in context`);
      else if (k === 'identifier' && bsn === undefined) problems.push('identifier must be system|value with the BSN system');
    }
  }
  const base = (n: string) => (patientParams.includes(n) ? n : n.split(':')[0]);
  const matching = candidates.filter((q: AllowedQuery) =>
    names.every((n) => patientParams.includes(n) || ALWAYS.includes(n) || q.params.includes(base(n)) || q.params.includes(n)),
  );
  if (matching.length === 0) {
    const allowed = new Set(candidates.flatMap((q) => q.params));
    const extra = names.filter((n) => !patientParams.includes(n) && !ALWAYS.includes(n) && !allowed.has(base(n)));
    problems.push(`search parameter(s) ${extra.join(', ')} not allow-listed for ${type} in ${exchange.code}`);
  }
  return { ok: problems.length === 0, problems, dataCategories: [...new Set(matching.map((q) => q.dataCategory))] };
}
