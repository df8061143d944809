import type { Identifier, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { SYSTEM } from '../../identifiers/systems.ts';
import { PROVENANCE_PARTICIPANT_TYPE_SYSTEM } from './gf-codes.ts';
import { asArray, codings, isNonEmptyString, isObject, type Json, profileIssue } from './rule-kit.ts';

// CustodianAssignedIdentifier (nl-gf-custodianassignedidentifier): the identifier the original custodian gave
// a directory entry. Organization, Location, HealthcareService and OrganizationAffiliation carry exactly one
// (slice AssignedId 1..1, discriminated by conformance to this profile).

const ASSIGNER_SYSTEMS = new Set<string>([SYSTEM.ura, SYSTEM.kvk]);

/** Why one identifier does not conform; empty when it does. Paths are relative to the identifier. */
export function custodianIdentifierProblems(identifier: unknown): { at: string; problem: string }[] {
  if (!isObject(identifier)) return [{ at: '', problem: 'is not an object' }];
  const problems: { at: string; problem: string }[] = [];
  if (identifier.use !== 'official') problems.push({ at: '.use', problem: "must be 'official'" });
  if (!isNonEmptyString(identifier.system)) problems.push({ at: '.system', problem: 'is required' });
  if (!isNonEmptyString(identifier.value)) problems.push({ at: '.value', problem: 'is required' });
  const assigner = isObject(identifier.assigner) ? identifier.assigner.identifier : undefined;
  if (!isObject(assigner)) {
    problems.push({ at: '.assigner.identifier', problem: 'is required (the custodian, by URA or KvK)' });
    return problems;
  }
  if (typeof assigner.system !== 'string' || !ASSIGNER_SYSTEMS.has(assigner.system)) {
    problems.push({ at: '.assigner.identifier.system', problem: `must be the URA (${SYSTEM.ura}) or KvK (${SYSTEM.kvk}) system` });
  }
  if (!isNonEmptyString(assigner.value)) problems.push({ at: '.assigner.identifier.value', problem: 'is required' });
  const typeCodings = codings(assigner.type);
  const custodian = typeCodings.length === 1 && typeCodings[0].system === PROVENANCE_PARTICIPANT_TYPE_SYSTEM && typeCodings[0].code === 'custodian';
  if (!custodian) {
    problems.push({ at: '.assigner.identifier.type', problem: `must have exactly one coding ${PROVENANCE_PARTICIPANT_TYPE_SYSTEM}|custodian` });
  }
  return problems;
}

/** The AssignedId slice: exactly one identifier conforms. Unfit attempts are explained element by element. */
export function checkAssignedIdentifierSlice(r: Json, profile: string): OperationOutcomeIssue[] {
  const path = `${String(r.resourceType)}.identifier`;
  const identifiers = asArray(r.identifier);
  const results = identifiers.map((id) => custodianIdentifierProblems(id));
  const conforming = results.filter((p) => p.length === 0).length;
  if (conforming === 1) return [];
  if (conforming > 1) {
    return [profileIssue('structure', path, `${profile} allows one custodian-assigned identifier, found ${conforming}`)];
  }
  // Identifiers that name an assigner were meant as the custodian-assigned one: say what is wrong with them.
  const attempts = identifiers.flatMap((id, i) => (isObject(id) && isObject(id.assigner) ? [i] : []));
  if (attempts.length === 0) {
    return [
      profileIssue(
        'required',
        path,
        `${profile} requires one custodian-assigned identifier (use 'official', system, value, assigner.identifier with a URA or KvK system and type custodian)`,
      ),
    ];
  }
  return attempts.flatMap((i) =>
    results[i].map(({ at, problem }) =>
      profileIssue('value', `${path}[${i}]${at}`, `Custodian-assigned identifier: ${path}[${i}]${at} ${problem}`),
    ),
  );
}

/** Builds a conforming custodian-assigned identifier, for parts that publish directory entries. */
export function custodianAssignedIdentifier(
  system: string,
  value: string,
  custodian: { system: typeof SYSTEM.ura | typeof SYSTEM.kvk; value: string },
): Identifier {
  return {
    use: 'official',
    system,
    value,
    assigner: {
      identifier: {
        type: { coding: [{ system: PROVENANCE_PARTICIPANT_TYPE_SYSTEM, code: 'custodian' }] },
        system: custodian.system,
        value: custodian.value,
      },
    },
  };
}
