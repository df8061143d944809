import type { Bundle, BundleEntry, Endpoint, HealthcareService, Organization, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import { pageParams, type SearchQuery, searchsetBundle, strictParams } from '../../kit/fhir/search.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/index.ts';
import type { Queryable } from '../../kit/store/store.ts';
import { type DirectoryType, isDirectoryType } from '../codes.ts';
import { periodContains } from '../ownership.ts';
import { referencedId } from '../references.ts';

// Queries on the local replica: the richer query-directory set (Nuts GF IG ITI-90 list), plus
// the helper every consumer needs: "endpoints of care provider X for exchange Y, active now".
// Entries marked entered-in-error are never returned.

const PARAMS: Record<DirectoryType, string[]> = {
  Organization: ['_id', 'identifier', 'name', 'name:contains', 'name:exact', 'type', 'active', '_include'],
  Location: ['_id', 'identifier', 'name', 'name:contains', 'organization', 'status'],
  HealthcareService: ['_id', 'identifier', 'organization', 'service-type', 'location', 'active'],
  Endpoint: ['_id', 'identifier', 'organization', 'status'],
  OrganizationAffiliation: ['_id', 'identifier', 'primary-organization', 'participating-organization', 'active'],
};

function token(value: string): { system?: string; code: string } {
  const bar = value.indexOf('|');
  return bar < 0 ? { code: value } : { ...(bar > 0 ? { system: value.slice(0, bar) } : {}), code: value.slice(bar + 1) };
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

class Sql {
  readonly where: string[] = [];
  readonly args: unknown[] = [];
  arg(v: unknown): string {
    this.args.push(v);
    return `$${this.args.length}`;
  }
  anyOf(values: string, build: (v: string) => string): void {
    this.where.push(`(${values.split(',').map(build).join(' OR ')})`);
  }
}

function referenceIds(value: string, type: string): string {
  const id = referencedId({ reference: value.includes('/') ? value : `${type}/${value}` }, type);
  if (!id) throw badRequest(`not a ${type} reference: ${value}`);
  return id;
}

/** Search the replica: GET-style parameters, strict (unknown → 400), paged with _count/_offset. */
export async function searchReplica(q: Queryable, type: string, query: SearchQuery, baseUrl = ''): Promise<Bundle> {
  if (!isDirectoryType(type)) throw badRequest(`the replica holds no ${type}`);
  const params = strictParams(query, PARAMS[type]);
  const { count, offset } = pageParams(query, { defaultCount: 50, maxCount: 500 });
  const sql = new Sql();
  sql.where.push(`type = ${sql.arg(type)}`, "coalesce(status, '') <> 'entered-in-error'");
  let includeEndpoints = false;
  for (const [name, values] of params) {
    for (const v of values) {
      switch (name) {
        case '_count':
        case '_offset':
        case '_format':
        case '_pretty':
          break;
        case '_id':
          sql.where.push(`id = ANY(${sql.arg(v.split(','))}::text[])`);
          break;
        case 'identifier':
          sql.anyOf(v, (t) => {
            const { system, code } = token(t);
            return `resource->'identifier' @> ${sql.arg(JSON.stringify([{ ...(system ? { system } : {}), value: code }]))}::jsonb`;
          });
          break;
        case 'name':
          sql.anyOf(v, (s) => `lower(resource->>'name') LIKE ${sql.arg(`${likeEscape(s.toLowerCase())}%`)}`);
          break;
        case 'name:contains':
          sql.anyOf(v, (s) => `lower(resource->>'name') LIKE ${sql.arg(`%${likeEscape(s.toLowerCase())}%`)}`);
          break;
        case 'name:exact':
          sql.anyOf(v, (s) => `resource->>'name' = ${sql.arg(s)}`);
          break;
        case 'type':
        case 'service-type':
          sql.anyOf(v, (t) => `resource->'type' @> ${sql.arg(JSON.stringify([{ coding: [token(t)] }]))}::jsonb`);
          break;
        case 'active':
          if (v !== 'true' && v !== 'false') throw badRequest('active must be true or false', ['active']);
          sql.where.push(v === 'true' ? "status = 'active'" : "status = 'inactive'");
          break;
        case 'status':
          sql.where.push(`status = ANY(${sql.arg(v.split(','))}::text[])`);
          break;
        case 'organization':
        case 'primary-organization':
          sql.where.push(`org_id = ANY(${sql.arg(v.split(',').map((r) => referenceIds(r, 'Organization')))}::text[])`);
          break;
        case 'participating-organization':
          sql.anyOf(v, (r) => `resource->'participatingOrganization'->>'reference' LIKE ${sql.arg(`%Organization/${likeEscape(referenceIds(r, 'Organization'))}`)}`);
          break;
        case 'location':
          sql.anyOf(v, (r) => `resource->'location' @> ${sql.arg(JSON.stringify([{ reference: `Location/${referenceIds(r, 'Location')}` }]))}::jsonb`);
          break;
        case '_include':
          if (v !== 'Organization:endpoint') throw badRequest(`unsupported _include: ${v}`, ['_include']);
          includeEndpoints = true;
          break;
        default:
          throw badRequest(`unsupported search parameter: ${name}`, [name]);
      }
    }
  }
  const rows = await q.query<{ resource: Resource }>(
    `SELECT resource FROM dir_entries WHERE ${sql.where.join(' AND ')} ORDER BY id LIMIT ${sql.arg(count + 1)} OFFSET ${sql.arg(offset)}`,
    sql.args,
  );
  const resources = rows.slice(0, count).map((r) => r.resource);
  let extraEntries: BundleEntry[] = [];
  if (includeEndpoints) {
    const ids = [...new Set(resources.flatMap((o) => ((o as Organization).endpoint ?? []).map((e) => referencedId(e, 'Endpoint'))))].filter(
      (x): x is string => !!x,
    );
    const endpoints = await loadById(q, 'Endpoint', ids);
    extraEntries = endpoints.map((e) => ({ fullUrl: `${baseUrl}/Endpoint/${e.id}`, resource: e, search: { mode: 'include' as const } }));
  }
  return searchsetBundle({ baseUrl, path: `/${type}`, query, resources, count, offset, hasMore: rows.length > count, extraEntries });
}

async function loadById<T extends Resource>(q: Queryable, type: string, ids: string[]): Promise<T[]> {
  if (ids.length === 0) return [];
  const rows = await q.query<{ resource: T }>(
    "SELECT resource FROM dir_entries WHERE type = $1 AND id = ANY($2::text[]) AND coalesce(status, '') <> 'entered-in-error' ORDER BY id",
    [type, ids],
  );
  return rows.map((r) => r.resource);
}

export interface EndpointQuery {
  /** The care provider. */
  ura: string;
  /** An LDN exchange code (CODE_SYSTEM.exchange) the endpoint must serve. */
  exchange?: string;
  /** Any payloadType, as `code` or `system|code` (e.g. a GF data category). */
  payloadType?: string;
  /** e.g. "4.0": only endpoints declaring application/fhir+json with this fhirVersion. */
  fhirVersion?: string;
  /** connectionType code, e.g. hl7-fhir-rest. */
  connectionType?: string;
  at?: Date;
}

/** The fhirVersion parameters of an endpoint's payloadMimeTypes ("application/fhir+json; fhirVersion=4.0"). */
export function fhirVersionsOf(e: Endpoint): string[] {
  return (e.payloadMimeType ?? []).flatMap((m) => {
    const v = /;\s*fhirVersion\s*=\s*"?([0-9.]+)"?/i.exec(m);
    return v ? [v[1]] : [];
  });
}

const sameVersion = (declared: string, wanted: string) =>
  declared === wanted || declared.startsWith(`${wanted}.`) || wanted.startsWith(`${declared}.`);

function hasCode(e: Endpoint, system: string | undefined, code: string): boolean {
  return (e.payloadType ?? []).some((c) => (c.coding ?? []).some((x) => x.code === code && (!system || x.system === system)));
}

/**
 * Endpoints of care provider `ura` (referenced from its Organization or its HealthcareServices,
 * or managed by it) that are active with a period containing now and match the filters.
 * Without a declared fhirVersion an endpoint does not match a fhirVersion filter (strict).
 */
export async function findEndpoints(q: Queryable, query: EndpointQuery): Promise<Endpoint[]> {
  const orgs = await q.query<{ id: string; resource: Organization }>(
    "SELECT id, resource FROM dir_entries WHERE type = 'Organization' AND resource->'identifier' @> $1::jsonb AND coalesce(status, '') <> 'entered-in-error'",
    [JSON.stringify([{ system: SYSTEM.ura, value: query.ura }])],
  );
  if (orgs.length === 0) return [];
  const orgIds = orgs.map((o) => o.id);
  const services = await q.query<{ resource: HealthcareService }>(
    "SELECT resource FROM dir_entries WHERE type = 'HealthcareService' AND org_id = ANY($1::text[]) AND coalesce(status, '') <> 'inactive'",
    [orgIds],
  );
  const refs = [...orgs.flatMap((o) => o.resource.endpoint ?? []), ...services.flatMap((s) => s.resource.endpoint ?? [])];
  const ids = new Set(refs.map((r) => referencedId(r, 'Endpoint')).filter((x): x is string => !!x));
  const managed = await q.query<{ id: string }>("SELECT id FROM dir_entries WHERE type = 'Endpoint' AND org_id = ANY($1::text[])", [orgIds]);
  for (const m of managed) ids.add(m.id);
  const at = query.at ?? new Date();
  const wanted = query.payloadType ? (query.payloadType.includes('|') ? token(query.payloadType) : { code: query.payloadType }) : null;
  return (await loadById<Endpoint>(q, 'Endpoint', [...ids]))
    .filter((e) => e.status === 'active' && periodContains(e.period, at))
    .filter((e) => !query.exchange || hasCode(e, CODE_SYSTEM.exchange, query.exchange))
    .filter((e) => !wanted || hasCode(e, wanted.system, wanted.code))
    .filter((e) => !query.connectionType || e.connectionType?.code === query.connectionType)
    .filter((e) => !query.fhirVersion || fhirVersionsOf(e).some((v) => sameVersion(v, query.fhirVersion as string)))
    .sort((a, b) => (b.period?.start ?? '').localeCompare(a.period?.start ?? ''));
}
