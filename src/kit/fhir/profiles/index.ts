import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { PROFILE } from '../../identifiers/systems.ts';
import { checkEndpoint } from './endpoint.ts';
import { checkHealthcareService } from './healthcare-service.ts';
import { checkLocalizationList } from './localization-list.ts';
import { checkLocation } from './location.ts';
import { checkOrganization } from './organization.ts';
import { checkOrganizationAffiliation } from './organization-affiliation.ts';
import { isObject, type ProfileRule } from './rule-kit.ts';

// Our own profile rules, keyed by canonical URL. The GF StructureDefinitions are not published in a
// registry package, so the constraints of IG 0.10 are written out as small functions instead.

const RULES: ReadonlyMap<string, ProfileRule> = new Map<string, ProfileRule>([
  [PROFILE.localizationList, checkLocalizationList],
  [PROFILE.organization, checkOrganization],
  [PROFILE.location, checkLocation],
  [PROFILE.healthcareService, checkHealthcareService],
  [PROFILE.endpoint, checkEndpoint],
  [PROFILE.organizationAffiliation, checkOrganizationAffiliation],
]);

/** Canonical URLs (without |version) this module can check. */
export const KNOWN_PROFILES: readonly string[] = [...RULES.keys()];

export function isKnownProfile(profileUrl: string): boolean {
  return RULES.has(stripVersion(profileUrl));
}

/**
 * Issues of `resource` against one of our profiles (empty = conforms). Checks profile rules only; run
 * validate.ts `validateResource` for the base R4 rules. An unknown profile URL is reported as an issue.
 */
export function validateAgainstProfile(resource: unknown, profileUrl: string): OperationOutcomeIssue[] {
  const rule = RULES.get(stripVersion(profileUrl));
  if (!rule) return [{ severity: 'error', code: 'not-supported', diagnostics: `Unknown profile ${profileUrl}` }];
  if (!isObject(resource)) {
    return [{ severity: 'error', code: 'structure', diagnostics: `A resource must be a JSON object to conform to ${profileUrl}` }];
  }
  return rule(resource);
}

function stripVersion(url: string): string {
  return url.split('|')[0];
}

export { custodianAssignedIdentifier, custodianIdentifierProblems } from './custodian-identifier.ts';
export { isPseudonymToken } from './localization-list.ts';
