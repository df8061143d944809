import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest, unprocessable } from '../kit/fhir/outcome.ts';
import { assertValidResource } from '../kit/fhir/validate.ts';
import { PROFILE, SYSTEM } from '../kit/identifiers/index.ts';
import { type DirectoryType, isDirectoryType } from './codes.ts';

// Validation of feed entries: the kit's R4 + GF profile validator first, then the few rules the
// directory itself depends on (it resolves owners from identifiers and serves Endpoint.address).

type Json = Record<string, unknown>;

const ID = /^[A-Za-z0-9\-.]{1,64}$/;

function issue(expression: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code: 'required', diagnostics, expression: [expression] };
}

const present = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

const REQUIRED: Record<DirectoryType, string[]> = {
  Organization: ['identifier', 'name'],
  Location: ['identifier', 'name', 'managingOrganization'],
  HealthcareService: ['identifier', 'providedBy', 'type'],
  Endpoint: ['status', 'connectionType', 'payloadType', 'address', 'managingOrganization'],
  OrganizationAffiliation: ['identifier', 'organization', 'participatingOrganization', 'code'],
};

/** The profile each directory resource type is validated against and declared with. */
export const PROFILES: Record<DirectoryType, string> = {
  Organization: PROFILE.organization,
  Location: PROFILE.location,
  HealthcareService: PROFILE.healthcareService,
  Endpoint: PROFILE.endpoint,
  OrganizationAffiliation: PROFILE.organizationAffiliation,
};

const STATUS: Partial<Record<DirectoryType, string[]>> = {
  Endpoint: ['active', 'suspended', 'error', 'off', 'entered-in-error', 'test'],
  Location: ['active', 'suspended', 'inactive'],
};

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const MAX_DEPTH = 64;

/**
 * The path of a key or string PostgreSQL's jsonb cannot hold (NUL, or a lone UTF-16 surrogate,
 * which JSON can spell as an escape but is no text), or null. Nesting beyond MAX_DEPTH is no
 * FHIR resource and is refused rather than walked.
 */
function unstorableText(value: unknown, path: string, depth = 0): string | null {
  const bad = (t: string) => t.includes('\u0000') || LONE_SURROGATE.test(t);
  if (typeof value === 'string') return bad(value) ? path : null;
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) throw badRequest(`${path}: the resource is nested more than ${MAX_DEPTH} levels deep`);
  for (const [k, v] of Object.entries(value)) {
    const at = Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`;
    if (bad(k)) return at;
    const found = unstorableText(v, at, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Checks `body` is a well-formed `type` entry; 400 for the wrong kind of body, 422 for profile violations. */
export function validateEntry(type: DirectoryType, body: unknown): asserts body is Json & { resourceType: DirectoryType } {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a FHIR resource (JSON object)');
  const r = body as Json;
  if (r.resourceType !== type) {
    if (isDirectoryType(r.resourceType)) throw badRequest(`expected a ${type}, got ${String(r.resourceType)}`);
    throw unprocessable(`the directory holds ${type} here, not ${String(r.resourceType)}`);
  }
  const unstorable = unstorableText(r, type);
  if (unstorable) throw badRequest(`${unstorable} holds a NUL character or a lone surrogate, which is not valid text`, [unstorable]);
  assertValidResource(r, { expectedType: type, profiles: [PROFILES[type]] });
  const issues: OperationOutcomeIssue[] = [];
  if (r.id !== undefined && (typeof r.id !== 'string' || !ID.test(r.id))) issues.push(issue(`${type}.id`, 'id must match [A-Za-z0-9-.]{1,64}'));
  for (const f of REQUIRED[type]) if (!present(r[f])) issues.push(issue(`${type}.${f}`, `${type}.${f} is required by the GF IG profile`));
  const allowed = STATUS[type];
  if (allowed && r.status !== undefined && !allowed.includes(String(r.status))) {
    issues.push({ severity: 'error', code: 'code-invalid', diagnostics: `${type}.status must be one of ${allowed.join(', ')}`, expression: [`${type}.status`] });
  }
  if (type === 'Organization') {
    const ids = Array.isArray(r.identifier) ? (r.identifier as Json[]) : [];
    const national = ids.some((i) => (i.system === SYSTEM.ura || i.system === SYSTEM.kvk) && present(i.value));
    if (!national && !present(r.partOf)) {
      issues.push(issue('Organization.identifier', 'an Organization needs a URA or KvK identifier, or partOf'));
    }
  }
  if (Array.isArray(r.identifier)) {
    (r.identifier as Json[]).forEach((i, n) => {
      if (!i || typeof i !== 'object' || !present(i.system) || !present(i.value)) {
        issues.push(issue(`${type}.identifier[${n}]`, 'identifier needs system and value'));
      }
    });
  }
  if (type === 'Endpoint' && typeof r.address === 'string' && !/^[a-z][a-z0-9+.-]*:/.test(r.address)) {
    issues.push({ severity: 'error', code: 'value', diagnostics: 'Endpoint.address must be an absolute URL', expression: ['Endpoint.address'] });
  }
  if (issues.length > 0) throw unprocessable(`${type} does not conform to the GF IG profile`, issues);
}
