import type { Bundle } from '@medplum/fhirtypes';
import { type Context, isObject, transcodeConcept } from './concept.ts';
import { TRANSCODING, translation } from './extensions.ts';
import { entryLabel, sectionNarrative } from './narrative.ts';
import { displayIn, type Tables } from './tables.ts';
import { transcodeResource } from './walk.ts';

// transcodeSummary with the tables as a parameter (tests pass their own). Works on a deep copy:
// the input is never changed. Patient, organisations and provenance carry no clinical codes to
// translate; the Composition keeps its LOINC section codes and gains translated titles, narratives
// in the target language and one extension saying for whom it was transcoded and what was not.

type Json = Record<string, unknown>;

export interface Target {
  country: string;
  language: string;
}

const NOT_CLINICAL = new Set(['Composition', 'Patient', 'Organization', 'Practitioner', 'PractitionerRole', 'Provenance', 'OperationOutcome', 'Bundle']);
export const FAILURE_TAG = { system: 'https://ldn.example.nl/fhir/CodeSystem/ncpeh-transcoding', code: 'transcoding-failed' };

function language(raw: unknown): string {
  return typeof raw === 'string' && /^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/.test(raw) ? raw : 'en';
}

function country(raw: unknown): string {
  return typeof raw === 'string' && /^[A-Za-z]{2,3}$/.test(raw) ? raw.toUpperCase() : 'unknown';
}

export function transcodeWith(input: Bundle, rawTarget: Target, tables: Tables): Bundle {
  const target = { country: country(isObject(rawTarget) ? rawTarget.country : undefined), language: language(isObject(rawTarget) ? rawTarget.language : undefined) };
  if (!isObject(input) || input.resourceType !== 'Bundle') return failed(undefined, 'The input is not a Bundle');
  let bundle: Json;
  try {
    bundle = JSON.parse(JSON.stringify(input)) as Json;
  } catch {
    return failed(undefined, 'The input is not JSON (cyclic or not serialisable)');
  }
  const ctx: Context = { tables, language: target.language, counts: { translated: 0, untranslated: 0 } };
  const failures: string[] = [];
  const entries = Array.isArray(bundle.entry) ? bundle.entry.filter(isObject) : [];
  for (const entry of entries) {
    const r = entry.resource;
    if (!isObject(r) || NOT_CLINICAL.has(r.resourceType as string)) continue;
    const before = JSON.stringify(r);
    try {
      transcodeResource(r, ctx);
    } catch (err) {
      // Deny on error for this entry: its original stays, untranslated, and the Composition says so.
      entry.resource = JSON.parse(before);
      ctx.counts.untranslated++;
      failures.push(`${String(r.resourceType)}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const composition = entries.map((e) => e.resource).find((r): r is Json => isObject(r) && r.resourceType === 'Composition');
  if (composition) annotateComposition(composition, entries, target, ctx, tables, failures);
  return bundle as unknown as Bundle;
}

function annotateComposition(composition: Json, entries: Json[], target: Target, ctx: Context, tables: Tables, failures: string[]): void {
  const byUrl = new Map(entries.filter((e) => typeof e.fullUrl === 'string').map((e) => [e.fullUrl as string, e.resource]));
  for (const section of Array.isArray(composition.section) ? composition.section.filter(isObject) : []) {
    const code = isObject(section.code) && Array.isArray(section.code.coding) ? section.code.coding.find(isObject) : undefined;
    const m = code && typeof code.system === 'string' && typeof code.code === 'string' ? tables.get(code.system)?.get(code.code) : undefined;
    const title = m ? displayIn(m, target.language) : undefined;
    if (title && typeof section.title === 'string' && title !== section.title) {
      section._title = { extension: [...(isObject(section._title) && Array.isArray(section._title.extension) ? section._title.extension : []), translation(target.language, title)] };
    }
    const refs = Array.isArray(section.entry) ? section.entry.filter(isObject) : [];
    const items = refs.map((ref) => entryLabel(typeof ref.reference === 'string' ? byUrl.get(ref.reference) : undefined, target.language));
    section.text = sectionNarrative(items, target.language);
    // A coded reason for an empty section is a concept like any other.
    if (isObject(section.emptyReason)) transcodeConcept(section.emptyReason, { ...ctx, counts: { translated: 0, untranslated: 0 } });
  }
  const ext = {
    url: TRANSCODING,
    extension: [
      { url: 'country', valueCode: target.country },
      { url: 'language', valueCode: target.language },
      { url: 'translated', valueInteger: ctx.counts.translated },
      { url: 'untranslated', valueInteger: ctx.counts.untranslated },
      ...failures.map((f) => ({ url: 'failure', valueString: f })),
    ],
  };
  composition.extension = Array.isArray(composition.extension) ? [...composition.extension, ext] : [ext];
}

/** A Bundle that says, in a tag, that nothing could be transcoded; with the input's data when it could be copied. */
export function failed(copy: Json | undefined, why: string): Bundle {
  return {
    ...(copy ?? { resourceType: 'Bundle', type: 'collection', entry: [] }),
    resourceType: 'Bundle',
    meta: { tag: [{ ...FAILURE_TAG, display: why }] },
  } as Bundle;
}
