import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../../kit/store/store.ts';
import { isDirectoryType } from '../codes.ts';
import { referencedId } from '../references.ts';

// Applying directory entries to the replica: one statement per batch, idempotent, and an entry
// only replaces what is there when it is newer (meta.lastUpdated, then versionId), so pages
// that arrive twice or out of order leave the replica as if they had come once and in order.
// References are stored as they are: the replica accepts what it cannot resolve (yet).

const ORG_LINK: Record<string, string> = {
  Organization: 'partOf',
  Location: 'managingOrganization',
  HealthcareService: 'providedBy',
  Endpoint: 'managingOrganization',
  OrganizationAffiliation: 'organization',
};

export interface ReplicaRow {
  type: string;
  id: string;
  v: number;
  t: string;
  s: string | null;
  o: string | null;
  r: Resource;
}

function versionNumber(v: string | undefined): number {
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** A directory resource as a replica row, or null if it is not one the replica keeps. */
export function toRow(resource: Resource | undefined): ReplicaRow | null {
  if (!resource || !isDirectoryType(resource.resourceType) || !resource.id) return null;
  const lastUpdated = resource.meta?.lastUpdated;
  if (!lastUpdated || Number.isNaN(Date.parse(lastUpdated))) return null;
  const r = resource as unknown as Record<string, unknown>;
  const status = typeof r.status === 'string' ? r.status : typeof r.active === 'boolean' ? (r.active ? 'active' : 'inactive') : null;
  return {
    type: resource.resourceType,
    id: resource.id,
    v: versionNumber(resource.meta?.versionId),
    t: new Date(Date.parse(lastUpdated)).toISOString(),
    s: status,
    o: referencedId(r[ORG_LINK[resource.resourceType]] as Reference | undefined, 'Organization') ?? null,
    r: resource,
  };
}

const newer = (a: ReplicaRow, b: ReplicaRow) => (a.t !== b.t ? a.t > b.t : a.v > b.v);

/** Keeps the newest row per (type, id), in chronological order. */
export function newestPerEntry(rows: ReplicaRow[]): ReplicaRow[] {
  const byKey = new Map<string, ReplicaRow>();
  for (const row of rows) {
    const key = `${row.type}/${row.id}`;
    const seen = byKey.get(key);
    if (!seen || newer(row, seen)) byKey.set(key, row);
  }
  return [...byKey.values()].sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.v - b.v));
}

/** Upserts resources; returns how many rows changed. */
export async function applyResources(q: Queryable, resources: Array<Resource | undefined>, batchSize = 2000): Promise<number> {
  const rows = newestPerEntry(resources.map(toRow).filter((r): r is ReplicaRow => r !== null));
  let changed = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    const [res] = await q.query<{ n: string | number }>(
      `WITH changed AS (
         INSERT INTO dir_entries (type, id, version_num, last_updated, status, org_id, resource)
         SELECT e->>'type', e->>'id', (e->>'v')::bigint, (e->>'t')::timestamptz, e->>'s', e->>'o', e->'r'
         FROM jsonb_array_elements($1::jsonb) AS e
         ON CONFLICT (type, id) DO UPDATE SET version_num = EXCLUDED.version_num, last_updated = EXCLUDED.last_updated,
           status = EXCLUDED.status, org_id = EXCLUDED.org_id, resource = EXCLUDED.resource
         WHERE (dir_entries.last_updated, dir_entries.version_num) < (EXCLUDED.last_updated, EXCLUDED.version_num)
         RETURNING 1)
       SELECT count(*) AS n FROM changed`,
      [JSON.stringify(batch)],
    );
    changed += Number(res.n);
  }
  return changed;
}
