import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

// Small helpers shared by the profile rule functions: reading untrusted JSON and phrasing issues.

export type Json = Record<string, unknown>;
export type ProfileRule = (resource: Json) => OperationOutcomeIssue[];

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

export function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

/** True when the element carries something (not absent, not null, not an empty array). */
export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

export function profileIssue(
  code: OperationOutcomeIssue['code'],
  expression: string,
  diagnostics: string,
): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics, expression: [expression] };
}

/** min 1: the element must be present. */
export function requirePresent(r: Json, path: string, prop: string, profile: string): OperationOutcomeIssue[] {
  return isPresent(r[prop]) ? [] : [profileIssue('required', `${path}.${prop}`, `${path}.${prop} is required by ${profile}`)];
}

/** max 0: the element must be absent. */
export function requireAbsent(r: Json, path: string, prop: string, profile: string): OperationOutcomeIssue[] {
  return isPresent(r[prop])
    ? [profileIssue('structure', `${path}.${prop}`, `${path}.${prop} is not allowed by ${profile}`)]
    : [];
}

/** Checks resourceType before any element rule runs (a List profile applied to a Patient). */
export function wrongType(r: Json, expected: string, profile: string): OperationOutcomeIssue[] {
  return r.resourceType === expected
    ? []
    : [profileIssue('invalid', 'resourceType', `${profile} applies to ${expected}, not ${shapeOf(r.resourceType)}`)];
}

/** A value for a message; String() of an object throws when its own "toString" is not a function. */
function shapeOf(value: unknown): string {
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

export function codings(concept: unknown): Json[] {
  return isObject(concept) ? asArray(concept.coding).filter(isObject) : [];
}

export function hasCoding(concept: unknown, accept: (system: string, code: string) => boolean): boolean {
  return codings(concept).some((c) => typeof c.system === 'string' && typeof c.code === 'string' && accept(c.system, c.code));
}
