import { badRequest } from '../kit/fhir/outcome.ts';
import type { SearchParamDeclaration } from '../kit/part.ts';
import type { DirectoryType } from './codes.ts';

// The directory's search parameters as ONE table: the search code accepts exactly these, and the
// CapabilityStatement lists exactly these, so the two cannot drift. Each entry builds its SQL
// condition on the `resources` table (jsonb `resource`).

export interface DirectorySearchParam extends SearchParamDeclaration {
  /** SQL condition for one value; pushes its arguments onto `args`. Absent: handled by the search itself. */
  condition?: (value: string, args: unknown[]) => string;
}

/** `Organization/x`, `x` or `https://…/Organization/x` → `Organization/x`. */
export function referenceValue(value: string, target: string): string {
  const parts = value.split('/');
  const id = parts[parts.length - 1];
  const type = parts.length >= 2 ? parts[parts.length - 2] : target;
  if (!id || !/^[A-Za-z0-9\-.]{1,64}$/.test(id) || type !== target) throw badRequest(`not a reference to ${target}: ${JSON.stringify(value)}`);
  return `${type}/${id}`;
}

/**
 * Condition on the outer row `r`: the element at `element` (one reference or an array of them)
 * refers to any of the comma-separated targets, literally (`Organization/x`) or logically by an
 * identifier the target carries (the GF IG's entries often refer by URA or KvK).
 */
function referenceParam(name: string, element: string, target: string, documentation: string): DirectorySearchParam {
  return {
    name,
    type: 'reference',
    documentation,
    condition(value, args) {
      const any = value.split(',').map((v) => {
        args.push(referenceValue(v, target));
        const n = args.length;
        const literal = `(r.resource->'${element}' @> jsonb_build_object('reference', $${n}::text) OR r.resource->'${element}' @> jsonb_build_array(jsonb_build_object('reference', $${n}::text)))`;
        const logical = `EXISTS (SELECT 1 FROM resources t, jsonb_array_elements(t.resource->'identifier') ti
          WHERE t.type || '/' || t.id = $${n}::text
            AND r.resource->'${element}'->'identifier' @> jsonb_build_object('system', ti->'system', 'value', ti->'value'))`;
        return `(${literal} OR ${logical})`;
      });
      return `(${any.join(' OR ')})`;
    },
  };
}

const COMMON: DirectorySearchParam[] = [
  { name: '_id', type: 'token', documentation: 'Logical id; several comma-separated (OR); at most once' },
  { name: 'identifier', type: 'token', documentation: '[system]|[value], system| or value; comma-separated (OR)' },
  { name: '_lastUpdated', type: 'date', documentation: 'With prefix eq, ne, gt, lt, ge, le, sa, eb' },
  { name: '_after', type: 'string', documentation: 'Paging cursor: use the next link, do not build it (the directory pages by key, not by offset)' },
];

const BY_TYPE: Record<DirectoryType, DirectorySearchParam[]> = {
  Organization: [],
  Location: [referenceParam('organization', 'managingOrganization', 'Organization', 'Location.managingOrganization')],
  HealthcareService: [referenceParam('organization', 'providedBy', 'Organization', 'HealthcareService.providedBy')],
  Endpoint: [referenceParam('organization', 'managingOrganization', 'Organization', 'Endpoint.managingOrganization')],
  OrganizationAffiliation: [
    referenceParam('primary-organization', 'organization', 'Organization', 'OrganizationAffiliation.organization'),
    referenceParam('participating-organization', 'participatingOrganization', 'Organization', 'OrganizationAffiliation.participatingOrganization'),
  ],
};

/** The search parameters served on this type (the CapabilityStatement lists the same). */
export function searchParamsOf(type: DirectoryType): DirectorySearchParam[] {
  return [...COMMON, ...BY_TYPE[type]];
}

/** `_include` values served (ITI-90: an Organization with its Endpoints). */
export const INCLUDES: Partial<Record<DirectoryType, Record<string, { element: string; target: DirectoryType }>>> = {
  Organization: { 'Organization:endpoint': { element: 'endpoint', target: 'Endpoint' } },
  OrganizationAffiliation: { 'OrganizationAffiliation:endpoint': { element: 'endpoint', target: 'Endpoint' } },
};

/** `_revinclude` values served: resources of `source` whose search parameter `param` refers to a match. */
export const REVINCLUDES: Partial<Record<DirectoryType, Record<string, { source: DirectoryType; param: string }>>> = {
  Organization: {
    'OrganizationAffiliation:participating-organization': { source: 'OrganizationAffiliation', param: 'participating-organization' },
    'OrganizationAffiliation:primary-organization': { source: 'OrganizationAffiliation', param: 'primary-organization' },
    'Endpoint:organization': { source: 'Endpoint', param: 'organization' },
    'Location:organization': { source: 'Location', param: 'organization' },
    'HealthcareService:organization': { source: 'HealthcareService', param: 'organization' },
  },
};

/** The history interaction's own parameters (ITI-91), which are not search parameters. */
export const HISTORY_PARAMS = ['_since', '_after'] as const;
