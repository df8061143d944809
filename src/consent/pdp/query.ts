import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { AllowedQuery, ExchangeDefinition } from '../../trust/contract.ts';

// Is this FHIR request one of the exchange's allow-listed searches for this patient?
// Only patient-scoped searches are allow-listed: GET [base]/Type?patient=… or POST [base]/Type/_search.

const PATIENT_PARAMS = ['patient', 'patient:identifier', 'subject', 'subject:identifier'];
const ALWAYS = ['_count', '_format'];
const INCLUDES = ['_include', '_revinclude'];
const JSON_FORMATS = ['json', 'application/json', 'application/fhir+json'];

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
  const free = (n: string) => patientParams.includes(n) || ALWAYS.includes(n);
  problems.push(...builtInProblems(params.filter(([k]) => !patientParams.includes(k))));
  const byName = candidates.filter((q: AllowedQuery) => names.every((n) => free(n) || q.params.includes(base(n)) || q.params.includes(n)));
  if (byName.length === 0) {
    const allowed = new Set(candidates.flatMap((q) => q.params));
    const extra = names.filter((n) => !free(n) && !allowed.has(base(n)));
    problems.push(`search parameter(s) ${extra.join(', ')} not allow-listed for ${type} in ${exchange.code}`);
  }
  const open = params.filter(([k]) => !free(k));
  const matching = byName.filter((q) => open.every(([k, v]) => valuesFit(q, k, v)));
  if (byName.length > 0 && matching.length === 0) problems.push(...valueProblems(byName, open, type, exchange.code));
  return { ok: problems.length === 0, problems, dataCategories: [...new Set(matching.map((q) => q.dataCategory))] };
}

/** Checks that hold whatever the agreements say: no wildcard or iterating includes, sane paging. */
function builtInProblems(params: Array<[string, string | string[] | undefined]>): string[] {
  const problems: string[] = [];
  for (const [k, v] of params) {
    const name = k.split(':')[0];
    if (INCLUDES.includes(name)) {
      if (k !== name) problems.push(`${k}: modifiers on ${name} are not allow-listed`);
      if (values(v).some((x) => x.includes('*'))) problems.push(`${name}=* is never allow-listed: name the reference to include`);
    }
    if (k === '_count' && !values(v).every((x) => /^\d{1,4}$/.test(x))) problems.push('_count must be a whole number below 10000');
    if (k === '_format' && !values(v).every((x) => JSON_FORMATS.includes(x))) problems.push('_format must ask for JSON');
  }
  return problems;
}

/** The listed values of parameter `name` in this entry, or undefined when any value is allowed. */
function limitOf(q: AllowedQuery, name: string): string[] | undefined {
  return q.values?.[name] ?? q.values?.[name.split(':')[0]];
}

/** A search value (one item of a comma-separated OR list) against the listed ones; `system|code` matches a listed code. */
function valueListed(value: string, listed: string[]): boolean {
  if (listed.includes(value)) return true;
  const bar = value.indexOf('|');
  return bar >= 0 && listed.includes(value.slice(bar + 1));
}

function valuesFit(q: AllowedQuery, name: string, v: string | string[] | undefined): boolean {
  const listed = limitOf(q, name);
  if (!listed) return true;
  // A modifier (:not, :missing, :text…) would change what the listed values mean.
  if (name.includes(':')) return false;
  return values(v).every((x) => x.split(',').every((item) => valueListed(item, listed)));
}

function valueProblems(entries: AllowedQuery[], params: Array<[string, string | string[] | undefined]>, type: string, exchange: string): string[] {
  const problems: string[] = [];
  for (const [k, v] of params) {
    const lists = entries.map((q) => limitOf(q, k));
    if (lists.some((l) => l === undefined)) continue;
    const allowed = [...new Set(lists.flat() as string[])];
    if (k.includes(':')) {
      problems.push(`${k}: modifiers are not allow-listed on ${k.split(':')[0]} for ${type} in ${exchange}`);
      continue;
    }
    const bad = values(v).flatMap((x) => x.split(',')).filter((item) => !valueListed(item, allowed));
    if (bad.length) problems.push(`${k}=${bad.join(',')} is not allow-listed for ${type} in ${exchange} (allowed: ${allowed.join(', ')})`);
  }
  if (problems.length === 0) problems.push(`the values of this ${type} search fit no single allow-listed search in ${exchange}: search them separately`);
  return problems;
}
