import type { Extension } from '@medplum/fhirtypes';
import { isObject } from './concept.ts';
import { primary, TRANSCODED, translationIn, UNTRANSLATED } from './extensions.ts';

// Reading a transcoded concept back, for a viewer or a narrative: the term in the reader's
// language, the original term beside it, the code in the expected value set, and, when the
// NCPeH could not translate it, why. Works on any CodeableConcept (one not transcoded gives only
// its original term).

type Json = Record<string, unknown>;

export interface ConceptTerms {
  /** The term in the reader's language; absent when not translated. */
  translated?: string;
  /** The term as the sending country wrote it (text, else a coding's display, else a code). */
  original: string;
  /** The coding the NCPeH added from the expected value set. */
  code?: { system: string; code: string; display?: string };
  /** Set when the concept is marked untranslated (ncpeh-untranslated). */
  untranslated?: { reason: string; detail?: string };
}

function extensionsOf(v: unknown): Extension[] | undefined {
  return isObject(v) && Array.isArray(v.extension) ? (v.extension as Extension[]) : undefined;
}

export function conceptTerms(concept: unknown, language: string): ConceptTerms {
  const cc: Json = isObject(concept) ? concept : {};
  const codings = Array.isArray(cc.coding) ? cc.coding.filter(isObject) : [];
  const added = codings.find((c) => extensionsOf(c)?.some((e) => e.url === TRANSCODED));
  const originalCoding = codings.find(
    (c) => c !== added && (typeof c.display === 'string' || typeof c.code === 'string'),
  );
  const original =
    typeof cc.text === 'string'
      ? cc.text
      : typeof originalCoding?.display === 'string'
        ? originalCoding.display
        : typeof originalCoding?.code === 'string'
          ? originalCoding.code
          : '?';
  const mark = extensionsOf(cc)?.find((e) => e.url === UNTRANSLATED);
  const translated =
    translationIn(extensionsOf(cc._text), language) ??
    translationIn(extensionsOf(added?._display), language) ??
    (primary(language) === 'en' && typeof added?.display === 'string' ? added.display : undefined);
  return {
    original,
    ...(translated !== undefined && !mark ? { translated } : {}),
    ...(added && typeof added.system === 'string' && typeof added.code === 'string'
      ? {
          code: {
            system: added.system,
            code: added.code,
            ...(typeof added.display === 'string' ? { display: added.display } : {}),
          },
        }
      : {}),
    ...(mark
      ? {
          untranslated: {
            reason: String(mark.extension?.find((e) => e.url === 'reason')?.valueCode ?? 'unknown'),
            detail: mark.extension?.find((e) => e.url === 'detail')?.valueString,
          },
        }
      : {}),
  };
}
