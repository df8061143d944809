import type { Extension } from '@medplum/fhirtypes';
import { isObject } from './concept.ts';
import { primary, TRANSCODED, translationIn, UNTRANSLATED } from './extensions.ts';

// The Composition's section narratives, rewritten in the target language from the transcoded
// entries: the translated term first, the Dutch original beside it, and an item that could not be
// translated said to be so. The narrative is what a foreign viewer without FHIR parsing shows.

type Json = Record<string, unknown>;

const WORDS: Record<string, { notTranslated: string; noInformation: string; original: string }> = {
  en: { notTranslated: 'not translated', noInformation: 'No information available', original: 'Dutch' },
  fr: { notTranslated: 'non traduit', noInformation: 'Aucune information disponible', original: 'néerlandais' },
  nl: { notTranslated: 'niet vertaald', noInformation: 'Geen informatie beschikbaar', original: 'Nederlands' },
  de: { notTranslated: 'nicht übersetzt', noInformation: 'Keine Informationen verfügbar', original: 'Niederländisch' },
};

function words(language: string) {
  return WORDS[primary(language)] ?? WORDS.en;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The concept that names an entry: its code, medication, vaccine or contained Medication's code. */
function mainConcept(r: Json): Json | undefined {
  for (const key of ['code', 'medicationCodeableConcept', 'vaccineCode']) if (isObject(r[key])) return r[key] as Json;
  const ref = isObject(r.medicationReference) ? r.medicationReference.reference : undefined;
  if (typeof ref === 'string' && ref.startsWith('#') && Array.isArray(r.contained)) {
    const med = r.contained.find((c) => isObject(c) && c.id === ref.slice(1));
    if (isObject(med) && isObject(med.code)) return med.code;
  }
  return undefined;
}

function extensionsOf(v: unknown): Extension[] | undefined {
  return isObject(v) && Array.isArray(v.extension) ? (v.extension as Extension[]) : undefined;
}

/** One list item: "translated (Dutch: original)", or "original [not translated]". */
export function entryLabel(resource: unknown, language: string): string {
  if (!isObject(resource)) return '?';
  const w = words(language);
  const cc = mainConcept(resource);
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '?';
  if (!cc) return `${type} [${w.notTranslated}]`;
  const codings = Array.isArray(cc.coding) ? cc.coding.filter(isObject) : [];
  const added = codings.find((c) => extensionsOf(c)?.some((e) => e.url === TRANSCODED));
  const originalCoding = codings.find((c) => c !== added && typeof c.display === 'string');
  const original = typeof cc.text === 'string' ? cc.text : typeof originalCoding?.display === 'string' ? originalCoding.display : type;
  const marked = extensionsOf(cc)?.some((e) => e.url === UNTRANSLATED) ?? false;
  const translated =
    translationIn(extensionsOf(cc._text), language) ??
    translationIn(extensionsOf(added?._display), language) ??
    (primary(language) === 'en' && typeof added?.display === 'string' ? added.display : undefined);
  if (marked || translated === undefined) return `${original} [${w.notTranslated}]`;
  return translated === original ? translated : `${translated} (${w.original}: ${original})`;
}

export function sectionNarrative(items: string[], language: string): { status: 'generated'; div: string } {
  const lang = escapeXml(language);
  const body = items.length ? `<ul>${items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ul>` : `<p>${escapeXml(words(language).noInformation)}</p>`;
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml" lang="${lang}" xml:lang="${lang}">${body}</div>` };
}
