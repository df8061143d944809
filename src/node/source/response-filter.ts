import type { Resource } from '@medplum/fhirtypes';
import type { AllowedQuery, ExchangeDefinition } from '../../trust/contract.ts';

// The last gate before data leaves the node: whatever the EHR answered, only resources in a
// data category the decision permits go out. A resource's category follows from the
// exchange's allow-list (its type, and for e.g. Observation its category codes), never from
// what was asked. A Medication or Device goes along only when a resource that goes out points to it.

/** Resource types without a category of their own, and the types whose references carry them along. */
const COMPANIONS: Record<string, string[]> = {
  Medication: ['MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'MedicationAdministration'],
  Device: ['DeviceUseStatement'],
};

interface Coding {
  system?: string;
  code?: string;
}

/** The codes of `resource.category`: CodeableConcept(s), or plain codes (AllergyIntolerance). */
function categoryCodings(resource: Resource): Coding[] {
  const raw = (resource as { category?: unknown }).category;
  const items = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return items.flatMap((c): Coding[] => {
    if (typeof c === 'string') return [{ code: c }];
    const codings = (c as { coding?: unknown } | null)?.coding;
    return Array.isArray(codings) ? codings.filter((x): x is Coding => typeof x?.code === 'string') : [];
  });
}

function fits(entry: AllowedQuery, resource: Resource): boolean {
  const listed = entry.values?.category;
  if (!listed) return true;
  return categoryCodings(resource).some((c) => listed.includes(c.code!) || (c.system !== undefined && listed.includes(`${c.system}|${c.code}`)));
}

/** The GF data categories a resource belongs to under this exchange's allow-list (none: not servable). */
export function dataCategoriesOf(resource: Resource, exchange: Pick<ExchangeDefinition, 'queries'>): string[] {
  const entries = exchange.queries.filter((q) => q.resourceType === resource.resourceType && fits(q, resource));
  return [...new Set(entries.map((q) => q.dataCategory))];
}

/** "Type/id" of every reference in the resource (absolute URLs and _history suffixes reduced). */
function referencesIn(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        const m = /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(v);
        if (m) out.add(`${m[1]}/${m[2]}`);
      } else referencesIn(v, out);
    }
  }
  return out;
}

export interface FilteredAnswer {
  kept: Resource[];
  /** How many resources the EHR answered that may not leave (logged, never their content). */
  withheld: number;
}

/**
 * The resources of one search answer that may leave: of the searched type and in a permitted
 * category, plus companions (Medication, Device) referenced by those.
 */
export function permittedResources(resources: Resource[], searchedType: string, exchange: ExchangeDefinition, permitted: string[]): FilteredAnswer {
  const allowed = new Set(permitted);
  // Every category a resource is in must be permitted: a lab result also coded as a vital sign
  // must not leave when the patient withheld vital signs.
  const primary = resources.filter((r) => {
    if (r.resourceType !== searchedType) return false;
    const categories = dataCategoriesOf(r, exchange);
    return categories.length > 0 && categories.every((c) => allowed.has(c));
  });
  const referenced = new Set<string>();
  for (const r of primary) {
    if (Object.values(COMPANIONS).some((types) => types.includes(r.resourceType))) referencesIn(r, referenced);
  }
  const companions = resources.filter((r) => {
    const carriers = COMPANIONS[r.resourceType];
    if (!carriers || r.resourceType === searchedType || !carriers.includes(searchedType)) return false;
    return r.id !== undefined && referenced.has(`${r.resourceType}/${r.id}`);
  });
  const kept = [...primary, ...companions];
  return { kept, withheld: resources.length - kept.length };
}
