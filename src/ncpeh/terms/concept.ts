import type { Extension } from '@medplum/fhirtypes';
import { ORIGINAL_UNIT, TRANSCODED, translation, type UntranslatedReason, untranslated } from './extensions.ts';
import { displayIn, type Mapping, type Tables } from './tables.ts';

// One coded element at a time. A CodeableConcept keeps every original coding, in place, and gains
// the expected coding in front (so a foreign reader that takes the first coding takes it), with the
// English display and, on _display and _text, the target-language display. A Quantity keeps its
// value; a unit that is not yet UCUM becomes UCUM only when the table has a unit of identical meaning,
// the unit coding it had kept in an extension. Whatever cannot be translated is marked, never dropped.

export const UCUM = 'http://unitsofmeasure.org';
/** The unit map's source system: unit labels as Dutch holders write them. */
export const UNIT_LABELS = 'https://ldn.example.nl/fhir/CodeSystem/nl-unit-label';

/** FHIR's own code systems (statuses, categories, v2/v3 tables, languages): international already. */
const STRUCTURAL_PREFIXES = ['http://terminology.hl7.org/', 'http://hl7.org/fhir/', 'urn:ietf:bcp:', 'urn:iso:std:iso:'];

export interface Counts {
  translated: number;
  untranslated: number;
}

export interface Context {
  tables: Tables;
  language: string;
  counts: Counts;
}

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStructural(system: unknown): boolean {
  return typeof system === 'string' && STRUCTURAL_PREFIXES.some((p) => system.startsWith(p));
}

function addExtension(holder: Json, ext: Extension): void {
  const current = holder.extension;
  holder.extension = current === undefined ? [ext] : Array.isArray(current) ? [...current, ext] : [current, ext];
}

/** Adds a translation to the primitive's sibling `_name` (e.g. _text), keeping what was there. */
function addTranslation(holder: Json, name: string, language: string, content: string): void {
  const key = `_${name}`;
  const sibling = isObject(holder[key]) ? { ...(holder[key] as Json) } : {};
  addExtension(sibling, translation(language, content));
  holder[key] = sibling;
}

function mark(holder: Json, reason: UntranslatedReason, detail: string, ctx: Context): void {
  addExtension(holder, untranslated(reason, detail));
  ctx.counts.untranslated++;
}

function describe(c: Json): string {
  const display = typeof c.display === 'string' ? ` "${c.display}"` : '';
  return `${typeof c.system === 'string' ? c.system : '(no system)'}|${typeof c.code === 'string' ? c.code : '(no code)'}${display}`;
}

function alreadyTranscoded(c: Json): boolean {
  return Array.isArray(c.extension) && c.extension.some((e) => isObject(e) && e.url === TRANSCODED);
}

/** Transcodes one CodeableConcept in place (the caller works on a copy). */
export function transcodeConcept(cc: unknown, ctx: Context): void {
  if (!isObject(cc)) return;
  const all = Array.isArray(cc.coding) ? cc.coding : [];
  const codings = all.filter(isObject);
  if (codings.some(alreadyTranscoded)) return;
  const clinical = codings.filter((c) => !isStructural(c.system));
  if (codings.length > 0 && clinical.length === 0) return; // a status or category: nothing to translate
  if (codings.length === 0) {
    if (typeof cc.text === 'string' && cc.text.trim() !== '') mark(cc, 'not-coded', `Free text only, not translated: "${cc.text}"`, ctx);
    return;
  }
  let found: Mapping | undefined;
  for (const c of clinical) {
    if (typeof c.system !== 'string' || typeof c.code !== 'string') continue;
    found = ctx.tables.get(c.system)?.get(c.code);
    if (found) break;
  }
  if (!found) {
    mark(cc, 'no-mapping', `No translation for ${clinical.map(describe).join(', ')}; the original coding is kept`, ctx);
    return;
  }
  const display = displayIn(found, ctx.language);
  const translated = display !== undefined && !ctx.language.toLowerCase().startsWith('en');
  const target: Json = {
    extension: [{ url: TRANSCODED, valueCanonical: found.source }],
    system: found.system,
    code: found.code,
    display: found.display,
    ...(translated ? { _display: { extension: [translation(ctx.language, display)] } } : {}),
  };
  cc.coding = [target, ...all];
  if (display === undefined) {
    mark(cc, 'no-display-translation', `${found.system}|${found.code} "${found.display}" has no display in '${ctx.language}'`, ctx);
    return;
  }
  if (typeof cc.text === 'string') addTranslation(cc, 'text', ctx.language, display);
  ctx.counts.translated++;
}

/** Transcodes one Quantity (or Age, Duration, ...) in place. */
export function transcodeQuantity(q: unknown, ctx: Context): void {
  if (!isObject(q)) return;
  const unit = typeof q.unit === 'string' ? q.unit : undefined;
  const code = typeof q.code === 'string' ? q.code : undefined;
  if (unit === undefined && code === undefined) return; // a bare number: no unit to translate
  const labels = ctx.tables.get(UNIT_LABELS);
  const byLabel = unit !== undefined ? labels?.get(unit) : undefined;
  if (q.system === UCUM && code !== undefined) {
    // Already the expected code; a Dutch unit label of the same unit gets its translation.
    const display = byLabel && byLabel.code === code ? displayIn(byLabel, ctx.language) : undefined;
    if (display !== undefined && display !== unit) addTranslation(q, 'unit', ctx.language, display);
    return;
  }
  const m = byLabel ?? (code !== undefined ? labels?.get(code) : undefined);
  if (!m || (q.system !== undefined && typeof q.system !== 'string')) {
    mark(q, 'no-unit-mapping', `Unit ${describe({ system: q.system, code: code ?? unit })} has no UCUM equivalent in the tables; kept as is`, ctx);
    return;
  }
  // What the unit was before, always: the recoding can be seen and undone.
  const original: Json = {};
  if (typeof q.system === 'string') original.system = q.system;
  if (code !== undefined) original.code = code;
  if (unit !== undefined) original.display = unit;
  addExtension(q, { url: ORIGINAL_UNIT, valueCoding: original });
  q.system = UCUM;
  q.code = m.code;
  const display = displayIn(m, ctx.language);
  if (unit !== undefined && display !== undefined && display !== unit) addTranslation(q, 'unit', ctx.language, display);
  ctx.counts.translated++;
}
