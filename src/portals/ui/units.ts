import { createRequire } from 'node:module';
import type { Lang } from './i18n.ts';

// Quantities as people read them: the UCUM code a source sends (`mm[Hg]`, `umol/L`,
// `mL/min/{1.73_m2}`) shown with its print symbol from the UCUM tables (@lhncbc/ucum-lhc, no
// hand map), numbers in the reader's format through Intl (decimal comma in Dutch).

interface UcumUnit {
  printSymbol_?: string | null;
}
interface UcumUtils {
  getSpecifiedUnit(code: string, mode: 'validate', suggest: boolean): { unit?: UcumUnit | null };
}
// The package ships CommonJS without types; only this one call is used.
const ucum = createRequire(import.meta.url)('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } };
const utils = ucum.UcumLhcUtils.getInstance();

const SUPERSCRIPT: Record<string, string> = { '0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹', '-': '⁻' };
const superscript = (digits: string) => [...digits].map((d) => SUPERSCRIPT[d] ?? d).join('');

const numberFormat = (lang: Lang, maximumFractionDigits = 3) =>
  new Intl.NumberFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', { maximumFractionDigits, useGrouping: false });

/** The print symbol's HTML (`<sup>`) as plain text, without parentheses around a lone power. */
function plain(printSymbol: string): string {
  return printSymbol
    .replace(/<sup>([-0-9]+)<\/sup>/g, (_m, d: string) => superscript(d))
    .replace(/\(([^()/.\s]+)\)/g, '$1')
    .replace(/mm\s+Hg/g, 'mmHg'); // the clinical spelling of the table's "mm Hg"
}

/** A UCUM annotation `{1.73_m2}` as text: "1,73 m²" (numbers in the reader's format). */
function annotation(text: string, lang: Lang): string {
  return text
    .replace(/_/g, ' ')
    .replace(/\d+(?:\.\d+)?/g, (n) => numberFormat(lang).format(Number(n)))
    .replace(/([a-zA-Z])(\d)\b/g, (_m, l: string, d: string) => `${l}${superscript(d)}`);
}

/** A unit as people read it; the code itself when UCUM does not know it. */
export function displayUnit(code: string, lang: Lang = 'nl'): string {
  if (!code) return '';
  // A trailing annotation (`/{1.73_m2}`) is part of what the unit means: keep it as text.
  const annotated = /^(.*?)\/\{([^{}]+)\}$/.exec(code);
  const base = annotated ? annotated[1] : code;
  let shown = base;
  try {
    const symbol = utils.getSpecifiedUnit(base, 'validate', false)?.unit?.printSymbol_;
    if (symbol) shown = plain(symbol);
  } catch {
    shown = base;
  }
  return annotated ? `${shown}/${annotation(annotated[2], lang)}` : shown;
}

export interface QuantityLike {
  value?: number;
  unit?: string;
  code?: string;
  system?: string;
  comparator?: string;
}

const UCUM = 'http://unitsofmeasure.org';

/** "4,2 mmol/L": the UCUM code's print symbol when the quantity is coded in UCUM, else its unit text. */
export function formatQuantity(q: QuantityLike | undefined, lang: Lang): string | undefined {
  if (q?.value === undefined) return undefined;
  const unit = q.system === UCUM && q.code ? displayUnit(q.code, lang) : q.unit ? displayUnit(q.unit, lang) : '';
  const value = numberFormat(lang).format(q.value);
  // A dimensionless UCUM "1" is no unit to show.
  return `${q.comparator ?? ''}${value}${unit && unit !== '1' ? (unit === '%' ? unit : ` ${unit}`) : ''}`;
}

/** "3,5–5,0 mmol/L" from a reference range's low and high (either may be absent). */
export function formatRange(range: { low?: QuantityLike; high?: QuantityLike; text?: string } | undefined, lang: Lang): string | undefined {
  if (!range) return undefined;
  if (range.text && range.low === undefined && range.high === undefined) return range.text;
  const fmt = numberFormat(lang);
  const unitOf = (q?: QuantityLike) => (q ? formatQuantity({ ...q, value: 0 }, lang)?.replace(/^0\s?/, '') : '');
  const unit = unitOf(range.low) || unitOf(range.high);
  const low = range.low?.value;
  const high = range.high?.value;
  if (low !== undefined && high !== undefined) return `${fmt.format(low)}–${fmt.format(high)}${unit ? ` ${unit}` : ''}`;
  if (low !== undefined) return `≥ ${fmt.format(low)}${unit ? ` ${unit}` : ''}`;
  if (high !== undefined) return `≤ ${fmt.format(high)}${unit ? ` ${unit}` : ''}`;
  return undefined;
}
