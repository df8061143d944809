import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { checkAssignedIdentifierSlice } from './custodian-identifier.ts';
import { mcsdBase } from './organization.ts';
import { type Json, requirePresent, wrongType } from './rule-kit.ts';

// nl-gf-healthcareservice. The IG invariant that providedBy resolves (via partOf) to a URA organisation
// needs the directory's other records, so the directory checks it, not this per-resource rule.

const P = 'nl-gf-healthcareservice';

export function checkHealthcareService(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'HealthcareService', P);
  if (type.length) return type;
  return [
    ...mcsdBase(r, 'HealthcareService', P),
    ...checkAssignedIdentifierSlice(r, P),
    ...(['name', 'type', 'providedBy'] as const).flatMap((prop) => requirePresent(r, 'HealthcareService', prop, P)),
  ];
}
