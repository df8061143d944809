import type { Bundle, BundleLink } from '@medplum/fhirtypes';
import { badRequest, HttpError } from '../kit/fhir/outcome.ts';
import { type SearchQuery, strictParams } from '../kit/fhir/search.ts';
import type { Store } from '../kit/store/store.ts';
import { readWatermark } from './clock.ts';
import type { DirectoryType } from './codes.ts';
import type { DirectoryResource } from './feed.ts';
import { HISTORY_PARAMS, INCLUDES, REVINCLUDES, searchParamsOf } from './search-params.ts';

// ITI-90 (search: identifier, _id, _lastUpdated; the directory does no other matching) and
// ITI-91 (type history since a moment). Both page by keyset (`_after`), not offset, so a
// national-size initial load costs the same per page at the end as at the start.

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;

function countOf(params: Map<string, string[]>): number {
  const raw = params.get('_count')?.[0];
  if (raw === undefined) return DEFAULT_COUNT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw badRequest('_count must be a positive integer', ['_count']);
  return Math.min(n, MAX_COUNT);
}

/** A FHIR date/dateTime/instant → [start, end) in ms, per its precision. */
/** Date.UTC for every year: it reads years 0–99 as 1900–1999, so count from 400 years on (a whole Gregorian cycle) and go back. */
function utc(year: number, month: number, day: number): number {
  return Date.UTC(year + 400, month, day) - GREGORIAN_CYCLE_MS;
}
const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

export function dateRange(value: string): [number, number] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?)?)?$/.exec(value);
  if (!m) throw badRequest(`not a FHIR date/dateTime: ${JSON.stringify(value)}`);
  const [, y, mo, d, time] = m;
  if (time) {
    const t = Date.parse(value);
    if (Number.isNaN(t)) throw badRequest(`not a valid moment: ${value}`);
    return [t, t + 1];
  }
  const Y = Number(y);
  const M = mo ? Number(mo) - 1 : 0;
  const start = utc(Y, M, d ? Number(d) : 1);
  const end = d ? utc(Y, M, Number(d) + 1) : mo ? utc(Y, M + 1, 1) : utc(Y + 1, 0, 1);
  if (Number.isNaN(start) || (mo && (M < 0 || M > 11))) throw badRequest(`not a valid date: ${value}`);
  return [start, end];
}

/** `_lastUpdated=ge2024-01-01` → SQL condition on last_updated with parameters appended. */
function lastUpdatedCondition(value: string, args: unknown[]): string {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(.+)$/.exec(value);
  if (!m) throw badRequest('malformed _lastUpdated');
  const prefix = m[1] ?? 'eq';
  const [start, end] = dateRange(m[2]);
  const p = (ms: number) => {
    args.push(new Date(ms).toISOString());
    return `$${args.length}::timestamptz`;
  };
  switch (prefix) {
    case 'eq':
      return `(last_updated >= ${p(start)} AND last_updated < ${p(end)})`;
    case 'ne':
      return `(last_updated < ${p(start)} OR last_updated >= ${p(end)})`;
    case 'gt':
    case 'sa':
      return `last_updated >= ${p(end)}`;
    case 'ge':
      return `last_updated >= ${p(start)}`;
    case 'lt':
    case 'eb':
      return `last_updated < ${p(start)}`;
    default:
      return `last_updated < ${p(end)}`; // le
  }
}

function identifierCondition(value: string, args: unknown[]): string {
  const any = value.split(',').map((token) => {
    const bar = token.indexOf('|');
    const probe =
      bar < 0 ? { value: token } : token.slice(bar + 1) === '' ? { system: token.slice(0, bar) } : { system: token.slice(0, bar), value: token.slice(bar + 1) };
    if (bar === 0) delete (probe as { system?: string }).system;
    args.push(JSON.stringify([probe]));
    return `resource->'identifier' @> $${args.length}::jsonb`;
  });
  return `(${any.join(' OR ')})`;
}

function links(baseUrl: string, path: string, params: Map<string, string[]>, count: number, nextAfter: string | null): BundleLink[] {
  const url = (after: string | null) => {
    const q = new URLSearchParams();
    for (const [k, vs] of params) if (k !== '_after' && k !== '_count') for (const v of vs) q.append(k, v);
    q.set('_count', String(count));
    if (after !== null) q.set('_after', after);
    return `${baseUrl}${path}?${q.toString()}`;
  };
  const self = params.get('_after')?.[0] ?? null;
  const out: BundleLink[] = [{ relation: 'self', url: url(self) }];
  if (nextAfter !== null) out.push({ relation: 'next', url: url(nextAfter) });
  return out;
}

/** GET [type]?… (ITI-90). Only the parameters of the search table (search-params.ts) are served; others are a 400. */
export async function searchEntries(store: Store, type: DirectoryType, query: SearchQuery, baseUrl: string): Promise<Bundle> {
  const table = searchParamsOf(type);
  const includes = INCLUDES[type] ?? {};
  const revIncludes = REVINCLUDES[type] ?? {};
  // A repeated _id would be ANDed (FHIR), which matches nothing unless the ids are equal: it is
  // refused as a likely mistake; several ids go comma-separated (OR) in one _id.
  const allowed = [...table.map((p) => p.name), ...(Object.keys(includes).length ? ['_include'] : []), ...(Object.keys(revIncludes).length ? ['_revinclude'] : [])];
  const params = strictParams(query, allowed, { single: ['_id', '_after'] });
  if (params.has('_offset')) throw badRequest('page with the next link (_after), not _offset');
  for (const v of params.get('_include') ?? []) if (!(v in includes)) throw unsupported('_include', v, Object.keys(includes));
  for (const v of params.get('_revinclude') ?? []) if (!(v in revIncludes)) throw unsupported('_revinclude', v, Object.keys(revIncludes));
  const count = countOf(params);
  const args: unknown[] = [type];
  const where = ['type = $1'];
  for (const v of params.get('_id') ?? []) {
    args.push(v.split(','));
    where.push(`id = ANY($${args.length}::text[])`);
  }
  for (const v of params.get('identifier') ?? []) where.push(identifierCondition(v, args));
  for (const v of params.get('_lastUpdated') ?? []) where.push(lastUpdatedCondition(v, args));
  for (const p of table) if (p.condition) for (const v of params.get(p.name) ?? []) where.push(p.condition(v, args));
  const after = params.get('_after')?.[0];
  // The total is cheap on the first page (one indexed count); later pages leave it out.
  const total =
    after === undefined
      ? Number((await store.query<{ n: string }>(`SELECT count(*) AS n FROM resources r WHERE ${where.join(' AND ')}`, args))[0].n)
      : undefined;
  if (after !== undefined) {
    args.push(after);
    where.push(`id > $${args.length}`);
  }
  const watermark = await readWatermark(store);
  args.push(count + 1);
  const rows = await store.query<{ id: string; resource: DirectoryResource }>(
    `SELECT id, resource FROM resources r WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${args.length}`,
    args,
  );
  const more = rows.length > count;
  const page = rows.slice(0, count);
  const included = await includedResources(store, type, page.map((r) => r.resource), params);
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    meta: { lastUpdated: watermark },
    ...(total !== undefined ? { total } : {}),
    link: links(baseUrl, `/${type}`, params, count, more ? page[page.length - 1].id : null),
    entry: [
      ...page.map((r) => ({ fullUrl: `${baseUrl}/${type}/${r.id}`, resource: r.resource, search: { mode: 'match' as const } })),
      ...included.map((r) => ({ fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'include' as const } })),
    ],
  };
}

function unsupported(param: string, value: string, served: string[]) {
  return new HttpError(400, 'not-supported', `${param}=${value} is not served here (served: ${served.join(', ') || 'none'})`, { expression: [param] });
}

/** The resources `_include` and `_revinclude` ask for, once each, never a match again. */
async function includedResources(store: Store, type: DirectoryType, matches: DirectoryResource[], params: Map<string, string[]>): Promise<DirectoryResource[]> {
  const out = new Map<string, DirectoryResource>();
  const seen = new Set(matches.map((r) => `${r.resourceType}/${r.id}`));
  const add = (rows: Array<{ resource: DirectoryResource }>) => {
    for (const { resource } of rows) {
      const key = `${resource.resourceType}/${resource.id}`;
      if (!seen.has(key)) out.set(key, resource);
    }
  };
  if (matches.length === 0) return [];
  for (const v of params.get('_include') ?? []) {
    const spec = INCLUDES[type]![v];
    const ids = matches.flatMap((m) => {
      const refs = (m as unknown as Record<string, unknown>)[spec.element];
      return (Array.isArray(refs) ? refs : refs ? [refs] : [])
        .map((r) => (r as { reference?: string }).reference ?? '')
        .filter((ref) => ref.startsWith(`${spec.target}/`))
        .map((ref) => ref.slice(spec.target.length + 1));
    });
    if (ids.length) add(await store.query('SELECT resource FROM resources WHERE type = $1 AND id = ANY($2::text[]) ORDER BY id', [spec.target, ids]));
  }
  for (const v of params.get('_revinclude') ?? []) {
    const spec = REVINCLUDES[type]![v];
    const param = searchParamsOf(spec.source).find((p) => p.name === spec.param)!;
    const args: unknown[] = [spec.source];
    const condition = param.condition!(matches.map((m) => `${type}/${m.id}`).join(','), args);
    add(await store.query(`SELECT resource FROM resources r WHERE type = $1 AND ${condition} ORDER BY id LIMIT ${MAX_COUNT}`, args));
  }
  return [...out.values()];
}

/** GET [type]/_history?_since=&_count= (ITI-91), oldest first. */
export async function historyOf(store: Store, type: DirectoryType, query: SearchQuery, baseUrl: string): Promise<Bundle> {
  const params = strictParams(query, HISTORY_PARAMS, { single: HISTORY_PARAMS });
  const count = countOf(params);
  const args: unknown[] = [type];
  const where = ['type = $1'];
  const since = params.get('_since')?.[0];
  if (since !== undefined) {
    args.push(new Date(dateRange(since)[0]).toISOString());
    where.push(`last_updated >= $${args.length}::timestamptz`);
  }
  const after = params.get('_after')?.[0];
  if (after !== undefined) {
    if (!/^\d{1,18}$/.test(after)) throw badRequest('_after must be a history position from a next link');
    args.push(after);
    where.push(`seq > $${args.length}::bigint`);
  }
  const watermark = await readWatermark(store);
  args.push(count + 1);
  const rows = await store.query<{ seq: string | number; id: string; version_id: number; method: string; resource: DirectoryResource }>(
    `SELECT seq, id, version_id, method, resource FROM history WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${args.length}`,
    args,
  );
  const more = rows.length > count;
  const page = rows.slice(0, count);
  return {
    resourceType: 'Bundle',
    type: 'history',
    meta: { lastUpdated: watermark },
    link: links(baseUrl, `/${type}/_history`, params, count, more ? String(page[page.length - 1].seq) : null),
    entry: page.map((r) => ({
      fullUrl: `${baseUrl}/${type}/${r.id}`,
      resource: r.resource,
      request: { method: r.method as 'POST' | 'PUT', url: r.method === 'POST' ? type : `${type}/${r.id}` },
      response: {
        status: r.method === 'POST' ? '201 Created' : '200 OK',
        etag: `W/"${r.version_id}"`,
        lastModified: r.resource.meta.lastUpdated,
      },
    })),
  };
}
