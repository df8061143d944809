import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../../identifiers/systems.ts';
import { codeSystemCodes } from '../bindings.ts';
import { checkAssignedIdentifierSlice } from './custodian-identifier.ts';
import { AUTHORIZATION_TYPE_CODES, HL7_ORGANIZATION_ROLE_SYSTEM } from './gf-codes.ts';
import { mcsdBase } from './organization.ts';
import { asArray, hasCoding, type Json, profileIssue, requireAbsent, requirePresent, wrongType } from './rule-kit.ts';

// nl-gf-organizationaffiliation: the mandate by which a care provider lets a data source (its vendor)
// publish directory entries for it. The code says which mandate (nl-gf-affiliation-type-vs).

const P = 'nl-gf-organizationaffiliation';

export function checkOrganizationAffiliation(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'OrganizationAffiliation', P);
  if (type.length) return type;
  const issues = [
    ...mcsdBase(r, 'OrganizationAffiliation', P),
    ...checkAssignedIdentifierSlice(r, P),
    ...(['active', 'organization', 'participatingOrganization', 'code'] as const).flatMap((prop) =>
      requirePresent(r, 'OrganizationAffiliation', prop, P),
    ),
    ...requireAbsent(r, 'OrganizationAffiliation', 'network', P),
  ];
  const codes = asArray(r.code);
  if (codes.length && !codes.some((c) => hasCoding(c, isAffiliationType))) {
    issues.push(
      profileIssue('code-invalid', 'OrganizationAffiliation.code', `${P}: OrganizationAffiliation.code needs a coding from nl-gf-affiliation-type-vs (${CODE_SYSTEM.authorizationTypes} or HL7 organization-role)`),
    );
  }
  return issues;
}

function isAffiliationType(system: string, code: string): boolean {
  if (system === CODE_SYSTEM.authorizationTypes) return AUTHORIZATION_TYPE_CODES.has(code);
  return system === HL7_ORGANIZATION_ROLE_SYSTEM && (codeSystemCodes(system)?.has(code) ?? true);
}
