import { readdirSync, readFileSync } from 'node:fs';
import type { Bundle, ConceptMap } from '@medplum/fhirtypes';
import { translationIn } from './extensions.ts';
import { buildTables, type Mapping, shippedConceptMaps, type Tables } from './tables.ts';
import { failed, transcodeWith } from './transcode.ts';

// The other direction: the Netherlands as country of treatment. A foreign summary arrives coded
// in the MyHealth@EU master value sets (SNOMED CT, ATC, LOINC, with the sending country's own
// codes beside them) and displayed in the sender's language; a Dutch clinician reads it in the
// Dutch terms her viewer shows. The tables are the outgoing ConceptMaps read backwards (each row
// is an equivalence, so it holds both ways; the Dutch term is the row's source display) plus
// conceptmaps-inbound/ for foreign national codes that have no counterpart in them (Belgian CNK
// product codes). The same engine does the work, so the foreign coding stays in place, the
// Dutch coding is added in front with its provenance, and whatever has no row is marked, never
// dropped. Units are left as sent: the master value sets already use UCUM.

const INBOUND_DIR = new URL('./conceptmaps-inbound/', import.meta.url);
const UNIT_SOURCE = 'https://ldn.example.nl/fhir/CodeSystem/nl-unit-label';

export function inboundConceptMaps(): ConceptMap[] {
  return readdirSync(INBOUND_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, INBOUND_DIR), 'utf8')) as ConceptMap);
}

/**
 * The outgoing maps reversed: target code -> the Dutch source code, with the English display
 * and the Dutch term as its 'nl' display. When two Dutch codes share one target, the first row wins.
 */
export function reversedTables(maps: ConceptMap[]): Map<string, Map<string, Mapping>> {
  const tables = new Map<string, Map<string, Mapping>>();
  for (const map of maps) {
    const source = `${map.url ?? map.id ?? 'unknown'}|${map.version ?? ''}`;
    for (const group of map.group ?? []) {
      if (!group.source || !group.target || group.source === UNIT_SOURCE) continue;
      const bySystem = tables.get(group.target) ?? new Map<string, Mapping>();
      for (const element of group.element ?? []) {
        const target = (element.target ?? []).find((t) => t.equivalence === 'equivalent' || t.equivalence === 'equal');
        if (!element.code || !target?.code || !target.display || bySystem.has(target.code)) continue;
        const ext = (target as { _display?: { extension?: unknown } })._display?.extension;
        const dutch = element.display ?? translationIn(ext, 'nl');
        const translations = new Map<string, string>(dutch ? [['nl', dutch]] : []);
        bySystem.set(target.code, { system: group.source, code: element.code, display: target.display, translations, source });
      }
      tables.set(group.target, bySystem);
    }
  }
  return tables;
}

/** Reversed outgoing maps, then the inbound maps (a foreign national code has its own row). */
export function buildInboundTables(outgoing: ConceptMap[], inbound: ConceptMap[]): Tables {
  const tables = reversedTables(outgoing);
  for (const [system, rows] of buildTables(inbound)) {
    const merged = tables.get(system) ?? new Map<string, Mapping>();
    for (const [code, m] of rows) if (!merged.has(code)) merged.set(code, m);
    tables.set(system, merged);
  }
  return tables;
}

let shipped: Tables | undefined;
export function inboundTables(): Tables {
  shipped ??= buildInboundTables(shippedConceptMaps(), inboundConceptMaps());
  return shipped;
}

/**
 * A foreign IPS document for a Dutch reader: every clinical concept with the Dutch term (coding
 * added in front, Dutch display on _display and _text), the foreign coding and text kept. Pure and
 * never throws, like transcodeSummary.
 */
export function transcodeIncoming(bundle: Bundle, tables: Tables = inboundTables()): Bundle {
  try {
    return transcodeWith(bundle, { country: 'NL', language: 'nl' }, tables);
  } catch (err) {
    return failed(undefined, `Transcoding failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
