import { notFound } from '../../kit/fhir/outcome.ts';
import { strictParams } from '../../kit/fhir/search.ts';
import type { CapabilityInput } from '../../kit/part.ts';
import type { Query } from './query-translation.ts';

// The gate in front of the policy decision: a search must be one the organisation's
// CapabilityStatement declares (same table, tenant-capability.ts). An undeclared type is a 404,
// an undeclared parameter a 400 not-supported; what is declared then goes to the policy decision.

const PATIENT_KEYS: Record<string, string> = { 'patient:identifier': 'patient', 'subject:identifier': 'patient' };

export function checkDeclaredSearch(capability: CapabilityInput, type: string, query: Query): void {
  const declared = capability.resources.find((r) => r.type === type && r.interactions.includes('search-type'));
  if (!declared) throw notFound(`no search on ${type} is served here (see metadata)`);
  const names = new Set((declared.searchParams ?? []).map((p) => p.name));
  const allowed = [...names, ...(declared.searchInclude?.length ? ['_include'] : [])];
  for (const [key, target] of Object.entries(PATIENT_KEYS)) if (names.has(target)) allowed.push(key);
  // Names only: which values an exchange allows is the policy decision's (403, audited).
  strictParams(query, allowed.filter((n) => n !== 'patient'));
}
