import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROFILE } from '../../identifiers/systems.ts';

// Test data: the GF IG example instances, with the profile each must conform to. gf-examples/ is a copy of
// the shared fixtures (shared/fixtures/gf-ig-examples) so the tests run in a fresh clone.

const FIXTURES_DIR = new URL('./gf-examples/', import.meta.url).pathname;

const PROFILE_BY_TYPE: Record<string, string> = {
  List: PROFILE.localizationList,
  Organization: PROFILE.organization,
  Endpoint: PROFILE.endpoint,
  Location: PROFILE.location,
  HealthcareService: PROFILE.healthcareService,
  OrganizationAffiliation: PROFILE.organizationAffiliation,
};

export interface GfExample {
  file: string;
  profile: string;
  resource: Record<string, unknown>;
}

/** A pseudonym token of the right shape (base64url JSON with evaluated_output and blind_factor). */
export const SAMPLE_PSEUDONYM_TOKEN = Buffer.from(
  JSON.stringify({ evaluated_output: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ct.tag', blind_factor: 'c2FtcGxlLWJsaW5k' }),
).toString('base64url');

/** Every example, fresh copies; the localization List gets a real-shaped token (see the fixtures README). */
export function loadGfExamples(options: { keepPlaceholder?: boolean } = {}): GfExample[] {
  return readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const resource = JSON.parse(readFileSync(join(FIXTURES_DIR, file), 'utf8')) as Record<string, unknown>;
      if (resource.resourceType === 'List' && !options.keepPlaceholder) {
        (resource.subject as { identifier: { value: string } }).identifier.value = SAMPLE_PSEUDONYM_TOKEN;
      }
      return { file, profile: PROFILE_BY_TYPE[String(resource.resourceType)], resource };
    });
}

