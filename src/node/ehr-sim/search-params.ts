import { badRequest } from '../../kit/fhir/outcome.ts';

// Parsers for the FHIR search parameter values the simulator understands: tokens
// (`system|code`, `code`, `|code`, `system|`), `_lastUpdated` dates with prefixes, and
// patient references (`Patient/123`, `123`, or an absolute URL ending in Patient/123).

export interface TokenQuery {
  /** undefined: any system; '' : no system. */
  system?: string;
  /** undefined: any code in the system. */
  code?: string;
}

export function parseToken(value: string): TokenQuery {
  const bar = value.indexOf('|');
  if (bar < 0) {
    if (!value) throw badRequest('empty token value');
    return { code: value };
  }
  const system = value.slice(0, bar);
  const code = value.slice(bar + 1);
  if (!system && !code) throw badRequest(`invalid token value: ${value}`);
  return { system, ...(code ? { code } : {}) };
}

export type DatePrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb';

export interface DateQuery {
  prefix: DatePrefix;
  /** Inclusive start of the value's precision range (ms since epoch). */
  start: number;
  /** Exclusive end of the value's precision range. */
  end: number;
}

const DATE_RE = /^(eq|ne|gt|lt|ge|le|sa|eb)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function parseDate(value: string): DateQuery {
  const m = DATE_RE.exec(value);
  if (!m) throw badRequest(`invalid date search value: ${value}`, ['_lastUpdated']);
  const [, prefix = 'eq', y, mo, d, hh, mi, ss, frac, tz] = m;
  const year = Number(y);
  const month = mo ? Number(mo) : undefined;
  const day = d ? Number(d) : undefined;
  if (month !== undefined && (month < 1 || month > 12)) throw badRequest(`invalid month in ${value}`);
  if (day !== undefined && (day < 1 || day > 31)) throw badRequest(`invalid day in ${value}`);
  if (hh !== undefined && !tz) throw badRequest(`a time needs a time zone: ${value}`);
  let start: number;
  let end: number;
  if (hh === undefined) {
    start = Date.UTC(year, (month ?? 1) - 1, day ?? 1);
    end = day !== undefined ? Date.UTC(year, (month ?? 1) - 1, day + 1) : month !== undefined ? Date.UTC(year, month, 1) : Date.UTC(year + 1, 0, 1);
  } else {
    const iso = `${y}-${mo}-${d}T${hh}:${mi}:${ss ?? '00'}${frac ?? ''}${tz}`;
    start = Date.parse(iso);
    if (Number.isNaN(start)) throw badRequest(`invalid instant: ${value}`);
    end = start + (ss === undefined ? 60_000 : frac ? 1 : 1000);
  }
  if (Number.isNaN(start) || Number.isNaN(end)) throw badRequest(`invalid date: ${value}`);
  return { prefix: prefix as DatePrefix, start, end };
}

/** SQL condition on a timestamptz column for one date query; pushes its parameters. */
export function dateCondition(column: string, q: DateQuery, params: unknown[]): string {
  const p = (ms: number) => {
    params.push(new Date(ms).toISOString());
    return `$${params.length}::timestamptz`;
  };
  switch (q.prefix) {
    case 'eq':
      return `(${column} >= ${p(q.start)} AND ${column} < ${p(q.end)})`;
    case 'ne':
      return `(${column} < ${p(q.start)} OR ${column} >= ${p(q.end)})`;
    case 'gt':
    case 'sa':
      return `${column} >= ${p(q.end)}`;
    case 'ge':
      return `${column} >= ${p(q.start)}`;
    case 'lt':
    case 'eb':
      return `${column} < ${p(q.start)}`;
    case 'le':
      return `${column} < ${p(q.end)}`;
  }
}

export function parsePatientReference(value: string): string {
  const m = /^(?:(?:.*\/)?Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(value);
  if (!m) throw badRequest(`invalid patient reference: ${value}`, ['patient']);
  return m[1];
}
