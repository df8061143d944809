import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import type { Store } from '../../kit/store/store.ts';

// The simulator's system-level history (FHIR R4 `GET [base]/_history?_since=`), oldest first,
// from the change log every write already appends to (so whatever the resource-adding API
// writes flows here). Entries carry the current content of a resource that still exists; a
// deleted one is a DELETE entry. Paging is by the next link (its `_after` is opaque to clients).

const MAX_COUNT = 1000;

export async function historyBundle(store: Store, base: string, query: { _since?: string; _count?: string; _after?: string }): Promise<Bundle> {
  const count = query._count === undefined ? 100 : Number(query._count);
  if (!Number.isInteger(count) || count < 1) throw badRequest('_count must be a positive integer', ['_count']);
  const limit = Math.min(count, MAX_COUNT);
  const args: unknown[] = [];
  const where: string[] = [];
  if (query._since !== undefined) {
    if (Number.isNaN(Date.parse(query._since)) || !/^\d{4}-\d{2}-\d{2}T/.test(query._since)) throw badRequest('_since must be an instant', ['_since']);
    args.push(new Date(query._since).toISOString());
    where.push(`c.at >= $${args.length}::timestamptz`);
  }
  if (query._after !== undefined) {
    if (!/^\d{1,18}$/.test(query._after)) throw badRequest('_after comes from a next link', ['_after']);
    args.push(query._after);
    where.push(`c.seq > $${args.length}::bigint`);
  }
  args.push(limit + 1);
  const rows = await store.query<{ seq: string; resource_type: string; id: string; version_id: number; action: string; at: Date | string; resource: Resource | null }>(
    `SELECT c.seq, c.resource_type, c.id, c.version_id, c.action, c.at, r.resource
       FROM ehr_changes c LEFT JOIN ehr_resources r ON r.resource_type = c.resource_type AND r.id = c.id AND NOT r.deleted
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.seq LIMIT $${args.length}`,
    args,
  );
  const page = rows.slice(0, limit);
  const entry = page.map((r): BundleEntry => {
    const at = new Date(r.at).toISOString();
    const url = `${r.resource_type}/${r.id}`;
    if (r.action === 'delete') return { fullUrl: `${base}/${url}`, request: { method: 'DELETE', url }, response: { status: '204', lastModified: at } };
    return {
      fullUrl: `${base}/${url}`,
      ...(r.resource ? { resource: r.resource } : {}),
      request: { method: r.action === 'create' ? 'POST' : 'PUT', url: r.action === 'create' ? r.resource_type : url },
      response: { status: r.action === 'create' ? '201' : '200', lastModified: at, etag: `W/"${r.version_id}"` },
    };
  });
  const link = [{ relation: 'self', url: `${base}/_history?${new URLSearchParams(query as Record<string, string>).toString()}` }];
  if (rows.length > limit) {
    const next = new URLSearchParams({ ...(query._since ? { _since: query._since } : {}), _count: String(limit), _after: page[page.length - 1].seq });
    link.push({ relation: 'next', url: `${base}/_history?${next.toString()}` });
  }
  return { resourceType: 'Bundle', type: 'history', link, entry };
}
