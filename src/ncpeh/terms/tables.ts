import { readdirSync, readFileSync } from 'node:fs';
import type { ConceptMap, Extension } from '@medplum/fhirtypes';
import { translationIn } from './extensions.ts';

// The translation tables: FHIR ConceptMaps (conceptmaps/*.json), one per source code system, in the
// role of the MyHealth@EU Master Translation/Transcoding Catalogue. Each row maps a Dutch code to the
// code of the value set the foreign side expects, with the English display and its translations
// (HL7 translation extension on target._display). Only rows marked equivalent are used: a wider or
// narrower concept would change the clinical meaning.

export interface Mapping {
  system: string;
  code: string;
  /** English display (the master value sets' own language). */
  display: string;
  /** Displays by primary language subtag ('fr', 'nl', ...); 'en' is `display`. */
  translations: ReadonlyMap<string, string>;
  /** The ConceptMap as url|version, for provenance on the added coding. */
  source: string;
}

/** source system -> source code -> mapping. */
export type Tables = ReadonlyMap<string, ReadonlyMap<string, Mapping>>;

const LANGUAGES = ['fr', 'nl', 'de', 'en', 'it', 'es', 'pt', 'pl', 'cs', 'sk', 'hr', 'sl', 'el', 'mt', 'lt', 'lv', 'et', 'fi', 'sv', 'da', 'hu', 'ro', 'bg', 'ga', 'lb'];

export function buildTables(maps: ConceptMap[]): Tables {
  const tables = new Map<string, Map<string, Mapping>>();
  for (const map of maps) {
    const source = `${map.url ?? map.id ?? 'unknown'}|${map.version ?? ''}`;
    for (const group of map.group ?? []) {
      if (!group.source || !group.target) continue;
      const bySystem = tables.get(group.source) ?? new Map<string, Mapping>();
      for (const element of group.element ?? []) {
        const target = (element.target ?? []).find((t) => t.equivalence === 'equivalent' || t.equivalence === 'equal');
        if (!element.code || !target?.code || !target.display) continue;
        const ext = (target as { _display?: { extension?: Extension[] } })._display?.extension;
        const translations = new Map<string, string>();
        for (const lang of LANGUAGES) {
          const text = translationIn(ext, lang);
          if (text) translations.set(lang, text);
        }
        bySystem.set(element.code, { system: group.target, code: target.code, display: target.display, translations, source });
      }
      tables.set(group.source, bySystem);
    }
  }
  return tables;
}

const DIR = new URL('./conceptmaps/', import.meta.url);

/** The ConceptMaps shipped beside this file. */
export function shippedConceptMaps(): ConceptMap[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, DIR), 'utf8')) as ConceptMap);
}

let shipped: Tables | undefined;

/** The shipped tables, read once. */
export function shippedTables(): Tables {
  shipped ??= buildTables(shippedConceptMaps());
  return shipped;
}

/** The display of a mapping in `language` (primary subtag), or undefined when the table has none. */
export function displayIn(m: Mapping, language: string): string | undefined {
  const lang = language.toLowerCase().split('-')[0];
  return lang === 'en' ? m.display : m.translations.get(lang);
}
