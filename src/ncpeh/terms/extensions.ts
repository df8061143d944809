import type { Extension } from '@medplum/fhirtypes';

// The extensions transcoding adds. The HL7 translation extension carries a display in another
// language beside the original string (FHIR R4 "translation", on _text, _display and _unit); the
// LDN ones say where a code came from and, out loud, where nothing could be translated.

const BASE = 'https://ldn.example.nl/fhir/StructureDefinition';

/** HL7 core extension: a string in another language (sub-extensions `lang` and `content`). */
export const TRANSLATION = 'http://hl7.org/fhir/StructureDefinition/translation';
/** On a Coding the NCPeH added: valueCanonical = the ConceptMap (url|version) it came from. */
export const TRANSCODED = `${BASE}/ncpeh-transcoded`;
/** On a CodeableConcept or Quantity that could not be (fully) translated: reason + detail. */
export const UNTRANSLATED = `${BASE}/ncpeh-untranslated`;
/** On a Quantity whose unit was recoded to UCUM: the unit coding it had before (valueCoding). */
export const ORIGINAL_UNIT = `${BASE}/ncpeh-original-unit`;
/** On the Composition: for whom the document was transcoded and how much was (not) translated. */
export const TRANSCODING = `${BASE}/ncpeh-transcoding`;

export type UntranslatedReason =
  /** Coded, but no map row for any of its codings: the original codes travel, untranslated. */
  | 'no-mapping'
  /** Only free text: nothing to map; the Dutch text travels as is. */
  | 'not-coded'
  /** Mapped to the expected code, but no display in the target language (the English one stands). */
  | 'no-display-translation'
  /** A quantity whose unit is neither UCUM nor in the unit map. */
  | 'no-unit-mapping';

export function translation(language: string, content: string): Extension {
  return {
    url: TRANSLATION,
    extension: [
      { url: 'lang', valueCode: language },
      { url: 'content', valueString: content },
    ],
  };
}

export function untranslated(reason: UntranslatedReason, detail: string): Extension {
  return {
    url: UNTRANSLATED,
    extension: [
      { url: 'reason', valueCode: reason },
      { url: 'detail', valueString: detail },
    ],
  };
}

/** The content of a translation extension in `language` among `extensions`, if any. */
export function translationIn(extensions: unknown, language: string): string | undefined {
  if (!Array.isArray(extensions)) return undefined;
  for (const e of extensions as Extension[]) {
    if (e?.url !== TRANSLATION || !Array.isArray(e.extension)) continue;
    const lang = e.extension.find((x) => x?.url === 'lang')?.valueCode;
    const content = e.extension.find((x) => x?.url === 'content')?.valueString;
    if (typeof content === 'string' && typeof lang === 'string' && sameLanguage(lang, language)) return content;
  }
  return undefined;
}

/** 'fr' matches 'fr-BE' and the other way round: a table has one French, a request may name the region. */
export function sameLanguage(a: string, b: string): boolean {
  return primary(a) === primary(b);
}

export function primary(language: string): string {
  return language.toLowerCase().split('-')[0];
}
