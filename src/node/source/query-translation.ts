import { badRequest } from '../../kit/fhir/outcome.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';

// The open interface names the patient by BSN (`patient:identifier=<bsn-system>|<bsn>`, or
// `identifier=` on Patient); the EHR behind the node knows its own Patient ids. Translation
// finds the BSN, checks it, and rewrites the search for the EHR.

export type Query = Record<string, string | string[] | undefined>;

const PATIENT_IDENTIFIER_PARAMS = ['patient:identifier', 'subject:identifier'];

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The BSN the search is about; 400 when absent, not the BSN system, or failing the 11-test. */
export function bsnOfQuery(type: string, query: Query): string {
  const params = type === 'Patient' ? ['identifier'] : PATIENT_IDENTIFIER_PARAMS;
  const raw = params.map((p) => first(query[p])).find((v) => v !== undefined);
  if (!raw) throw badRequest(`the search must name the patient with ${params.join(' or ')}=${SYSTEM.bsn}|<BSN>`);
  const bar = raw.indexOf('|');
  const system = bar < 0 ? '' : raw.slice(0, bar);
  const value = bar < 0 ? raw : raw.slice(bar + 1);
  if (system !== SYSTEM.bsn) throw badRequest(`the patient identifier must use the system ${SYSTEM.bsn}`);
  if (!isValidBsn(value)) throw badRequest('the patient identifier is not a valid BSN (11-test)');
  return value;
}

/** The same search for the EHR: the BSN parameter replaced by the EHR's own patient id. */
export function ehrSearchParams(type: string, query: Query, patientId: string): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || PATIENT_IDENTIFIER_PARAMS.includes(k) || (type === 'Patient' && k === 'identifier')) continue;
    for (const value of Array.isArray(v) ? v : [v]) out.append(k, value);
  }
  if (type === 'Patient') out.set('_id', patientId);
  // A typed reference: every FHIR server matches it (Medplum's does not match a bare id).
  else out.set('patient', `Patient/${patientId}`);
  return out;
}

/** Splits "Type?x=1&y=2" (a batch entry URL) into type and query. */
export function parseEntryUrl(url: string): { type: string; query: Query } {
  const [path, search = ''] = url.split('?', 2);
  const type = path.replace(/^\/+/, '');
  if (!/^[A-Z][A-Za-z]+$/.test(type)) throw badRequest(`batch entry must be a type-level search, got "${path}"`);
  const query: Query = {};
  for (const [k, v] of new URLSearchParams(search)) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { type, query };
}
