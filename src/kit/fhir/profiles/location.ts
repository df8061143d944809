import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { checkAssignedIdentifierSlice } from './custodian-identifier.ts';
import { mcsdBase } from './organization.ts';
import { type Json, requirePresent, wrongType } from './rule-kit.ts';

// nl-gf-location: a physical place of a care provider, owned by exactly one managing organisation.

const P = 'nl-gf-location';

export function checkLocation(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'Location', P);
  if (type.length) return type;
  return [
    ...mcsdBase(r, 'Location', P),
    ...checkAssignedIdentifierSlice(r, P),
    ...(['name', 'type', 'status', 'managingOrganization'] as const).flatMap((prop) => requirePresent(r, 'Location', prop, P)),
  ];
}
