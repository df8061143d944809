import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { SYSTEM } from '../../identifiers/systems.ts';
import { checkAssignedIdentifierSlice } from './custodian-identifier.ts';
import { asArray, isObject, isPresent, type Json, profileIssue, requireAbsent, requirePresent, wrongType } from './rule-kit.ts';

// nl-gf-organization. Type codes are an extensible binding in IG 0.10, so only presence is checked.

const P = 'nl-gf-organization';

export function checkOrganization(r: Json): OperationOutcomeIssue[] {
  const type = wrongType(r, 'Organization', P);
  if (type.length) return type;
  const issues = [
    ...mcsdBase(r, 'Organization', P),
    ...checkAssignedIdentifierSlice(r, P),
    ...requirePresent(r, 'Organization', 'name', P),
    ...requirePresent(r, 'Organization', 'type', P),
  ];
  // Invariant ura-identifier-or-partof: a care provider (URA), another legal entity (KvK), or a sub-unit.
  const registered = asArray(r.identifier).some((id) => isObject(id) && (id.system === SYSTEM.ura || id.system === SYSTEM.kvk));
  if (!registered && !isPresent(r.partOf)) {
    issues.push(profileIssue('invariant', 'Organization', `${P}: needs a URA or KvK identifier, or partOf (invariant ura-identifier-or-partof)`));
  }
  return issues;
}

/** The IHE mCSD constraints every GF directory profile repeats. */
export function mcsdBase(r: Json, path: string, profile: string): OperationOutcomeIssue[] {
  return [...requireAbsent(r, path, 'implicitRules', profile), ...requireAbsent(r, path, 'modifierExtension', profile)];
}
