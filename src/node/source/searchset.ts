import type { Bundle, Resource } from '@medplum/fhirtypes';

// The holder's answer to one search: the permitted resources of the searched type as matches,
// what they brought along (_include) as includes, the total counting both.

export function holderSearchset(fhirBase: string, type: string, found: Resource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: found.length,
    link: [{ relation: 'self', url: `${fhirBase}/${type}` }],
    entry: found.map((r) => ({ fullUrl: `${fhirBase}/${r.resourceType}/${r.id}`, resource: r, search: { mode: r.resourceType === type ? 'match' : 'include' } })),
  };
}
