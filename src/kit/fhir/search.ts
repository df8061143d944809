import type { Bundle, BundleEntry, BundleLink, Resource } from '@medplum/fhirtypes';
import { badRequest, HttpError } from './outcome.ts';

// Strict search handling: a parameter the endpoint does not support is a 400, not silently
// ignored (a clinician must never get "all" when the filter was misspelled).

const ALWAYS_ALLOWED = ['_count', '_format', '_offset', '_pretty'];
// Repeating one of these has no meaning (which value wins would be an accident of parsing).
const ALWAYS_SINGLE = ['_count', '_format', '_offset', '_pretty'];

export type SearchQuery = Record<string, string | string[] | undefined>;

export interface StrictOptions {
  /** Parameters that may appear at most once (400 when repeated), besides the paging ones. */
  single?: readonly string[];
}

export function strictParams(query: SearchQuery, allowed: readonly string[], options: StrictOptions = {}): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined) continue;
    if (!allowed.includes(key) && !ALWAYS_ALLOWED.includes(key)) {
      // Code not-supported (not invalid): a client, and the conformance kit, can tell "not served
      // here" from "served, but this value is wrong".
      throw new HttpError(400, 'not-supported', `unknown or unsupported search parameter: ${key} (supported: ${allowed.join(', ')})`, { expression: [key] });
    }
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length > 1 && (ALWAYS_SINGLE.includes(key) || options.single?.includes(key))) {
      throw badRequest(`search parameter ${key} may appear only once`, [key]);
    }
    out.set(key, values);
  }
  return out;
}

export function pageParams(query: SearchQuery, options: { defaultCount?: number; maxCount?: number } = {}): { count: number; offset: number } {
  const max = options.maxCount ?? 1000;
  const count = query._count === undefined ? (options.defaultCount ?? 100) : Number(query._count);
  const offset = query._offset === undefined ? 0 : Number(query._offset);
  if (!Number.isInteger(count) || count < 0) throw badRequest('_count must be a non-negative integer', ['_count']);
  if (!Number.isInteger(offset) || offset < 0) throw badRequest('_offset must be a non-negative integer', ['_offset']);
  return { count: Math.min(count, max), offset };
}

/** A searchset Bundle with self/next/previous links built from the request's own URL. */
export function searchsetBundle(options: {
  baseUrl: string;
  path: string;
  query: SearchQuery;
  resources: Resource[];
  total?: number;
  count: number;
  offset: number;
  hasMore: boolean;
  extraEntries?: BundleEntry[];
}): Bundle {
  const link = (offset: number): string => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(options.query)) {
      if (v === undefined || k === '_offset') continue;
      for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
    }
    params.set('_count', String(options.count));
    params.set('_offset', String(offset));
    return `${options.baseUrl}${options.path}?${params.toString()}`;
  };
  const links: BundleLink[] = [{ relation: 'self', url: link(options.offset) }];
  if (options.hasMore) links.push({ relation: 'next', url: link(options.offset + options.count) });
  if (options.offset > 0) links.push({ relation: 'previous', url: link(Math.max(0, options.offset - options.count)) });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: new Date().toISOString() },
    ...(options.total !== undefined ? { total: options.total } : {}),
    link: links,
    entry: [
      ...options.resources.map((r) => ({
        fullUrl: `${options.baseUrl}/${r.resourceType}/${r.id}`,
        resource: r,
        search: { mode: 'match' as const },
      })),
      ...(options.extraEntries ?? []),
    ],
  };
}
