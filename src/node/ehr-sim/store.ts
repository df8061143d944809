import { randomUUID } from 'node:crypto';
import type { Identifier, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import { type Migration, openStore, type Store, type StoreOptions } from '../../kit/store/open.ts';
import type { Queryable } from '../../kit/store/store.ts';
import { organizationByUra } from '../../sandbox/cast.ts';
import { custodianIdentifier } from './build.ts';
import { patientIdOf, tokensOf } from './resource-facts.ts';
import { extraCondition, extraParamsFor } from './search-extra.ts';
import { dateCondition, parseDate, parsePatientReference, parseToken } from './search-params.ts';
import { TERMINOLOGY, ehrSchema } from './systems.ts';

// One simulated organisation's EHR: resources as jsonb, a token index for identifier/code/
// category searches, and an append-only change log the node polls to (de)register referrals.
// Deletes are soft (a read answers 410 Gone) so the change log can say what disappeared.

export const EHR_MIGRATIONS: Migration[] = [
  {
    id: '001_ehr_resources',
    sql: `CREATE TABLE ehr_resources (
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  patient_id text,
  deleted boolean NOT NULL DEFAULT false,
  resource jsonb,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX ehr_resources_patient ON ehr_resources (patient_id, resource_type);
CREATE INDEX ehr_resources_updated ON ehr_resources (resource_type, last_updated);
CREATE TABLE ehr_tokens (
  resource_type text NOT NULL,
  id text NOT NULL,
  param text NOT NULL,
  system text NOT NULL,
  code text NOT NULL
);
CREATE INDEX ehr_tokens_code ON ehr_tokens (resource_type, param, code);
CREATE INDEX ehr_tokens_owner ON ehr_tokens (resource_type, id);
CREATE TABLE ehr_changes (
  seq bigserial PRIMARY KEY,
  resource_type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  action text NOT NULL,
  patient_id text,
  at timestamptz NOT NULL
);`,
  },
];

/** Opens (and migrates) the store of one simulated organisation, schema ehr_<ura>. */
export function openEhrStore(ura: string, options: Omit<StoreOptions, 'schema'> = {}): Promise<Store> {
  return openStore({ ...options, schema: ehrSchema(ura) }, EHR_MIGRATIONS);
}

export const SUPPORTED_TYPES = [
  'Patient',
  'AllergyIntolerance',
  'Condition',
  'MedicationRequest',
  'MedicationStatement',
  'MedicationDispense',
  'Observation',
  'Procedure',
  'Encounter',
  'Immunization',
  'Flag',
  'ImagingStudy',
  'DiagnosticReport',
  // The nursing handover (eOverdracht): the transfer document and the receiving team.
  'Composition',
  'CareTeam',
] as const;

export function assertSupportedType(type: string): void {
  if (!(SUPPORTED_TYPES as readonly string[]).includes(type)) throw badRequest(`resource type not supported by the EHR simulator: ${type}`);
}

const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

function holderName(ura: string): string {
  return organizationByUra(ura)?.name ?? `Organisatie ${ura}`;
}

/** Adds the custodian identifier when the resource has none assigned by this organisation. */
function withCustodian(resource: Resource, ura: string): Resource {
  if (resource.resourceType === 'Patient' && !resource.id) return resource;
  const ids = ((resource as { identifier?: Identifier[] }).identifier ?? []) as Identifier[];
  if (ids.some((i) => i.assigner?.identifier?.system === SYSTEM.ura && i.assigner.identifier.value === ura)) return resource;
  return { ...resource, identifier: [...ids, custodianIdentifier({ ura, name: holderName(ura) }, resource.resourceType, resource.id as string)] } as Resource;
}

interface Row {
  resource: Resource;
  patientId: string | null;
  lastUpdated: string;
  version: number;
}

async function writeRows(tx: Queryable, rows: Row[], action: 'create' | 'update'): Promise<void> {
  // Multi-row statements keep seeding thousands of resources fast on both backends.
  for (let i = 0; i < rows.length; i += 200) {
    const chunk = rows.slice(i, i + 200);
    const p: unknown[] = [];
    const values = chunk.map((r) => {
      p.push(r.resource.resourceType, r.resource.id, r.version, r.lastUpdated, r.patientId, JSON.stringify(r.resource));
      const n = p.length;
      return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}::timestamptz, $${n - 1}, false, $${n}::jsonb)`;
    });
    await tx.query(
      `INSERT INTO ehr_resources (resource_type, id, version_id, last_updated, patient_id, deleted, resource) VALUES ${values.join(', ')}
       ON CONFLICT (resource_type, id) DO UPDATE SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated,
         patient_id = EXCLUDED.patient_id, deleted = false, resource = EXCLUDED.resource`,
      p,
    );
    const keys: unknown[] = [];
    const keyValues = chunk.map((r) => {
      keys.push(r.resource.resourceType, r.resource.id);
      return `($${keys.length - 1}, $${keys.length})`;
    });
    await tx.query(`DELETE FROM ehr_tokens WHERE (resource_type, id) IN (${keyValues.join(', ')})`, keys);
    const tp: unknown[] = [];
    const tv: string[] = [];
    for (const r of chunk) {
      for (const t of tokensOf(r.resource, TERMINOLOGY.allergyCategory)) {
        tp.push(r.resource.resourceType, r.resource.id, t.param, t.system, t.code);
        const n = tp.length;
        tv.push(`($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`);
      }
    }
    for (let j = 0; j < tv.length; j += 1000) {
      await tx.query(`INSERT INTO ehr_tokens (resource_type, id, param, system, code) VALUES ${tv.slice(j, j + 1000).join(', ')}`, tp.slice(j * 5, (j + 1000) * 5));
    }
    const cp: unknown[] = [];
    const cv = chunk.map((r) => {
      cp.push(r.resource.resourceType, r.resource.id, r.version, action, r.patientId, r.lastUpdated);
      const n = cp.length;
      return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::timestamptz)`;
    });
    await tx.query(`INSERT INTO ehr_changes (resource_type, id, version_id, action, patient_id, at) VALUES ${cv.join(', ')}`, cp);
  }
}

/** Loads generated resources as they are (ids and meta kept): the sandbox seed. */
export async function seedEhr(store: Store, ura: string, resources: Iterable<Resource>): Promise<number> {
  const rows: Row[] = [];
  for (const r of resources) {
    assertSupportedType(r.resourceType);
    if (!r.id || !ID_RE.test(r.id)) throw badRequest(`seed resource without a valid id (${r.resourceType})`);
    const resource = withCustodian(r, ura);
    const lastUpdated = resource.meta?.lastUpdated ?? new Date().toISOString();
    const version = Number(resource.meta?.versionId ?? '1') || 1;
    rows.push({ resource: { ...resource, meta: { ...resource.meta, versionId: String(version), lastUpdated } } as Resource, patientId: patientIdOf(resource) ?? null, lastUpdated, version });
  }
  await store.transaction((tx) => writeRows(tx, rows, 'create'));
  return rows.length;
}

/** Creates (no id) or updates (id) one resource, as the EHR's users would: new version, now. */
export async function putResource(store: Store, ura: string, input: Resource, options: { id?: string } = {}): Promise<{ resource: Resource; created: boolean }> {
  assertSupportedType(input.resourceType);
  const id = options.id ?? input.id ?? randomUUID();
  if (!ID_RE.test(id)) throw badRequest(`invalid id: ${id}`);
  if (options.id && input.id && input.id !== options.id) throw badRequest('resource id does not match the URL');
  return store.transaction(async (tx) => {
    const [existing] = await tx.query<{ version_id: number; deleted: boolean }>(
      'SELECT version_id, deleted FROM ehr_resources WHERE resource_type = $1 AND id = $2 FOR UPDATE',
      [input.resourceType, id],
    );
    const version = existing ? Number(existing.version_id) + 1 : 1;
    const lastUpdated = new Date().toISOString();
    const resource = withCustodian({ ...input, id, meta: { ...input.meta, versionId: String(version), lastUpdated } } as Resource, ura);
    const created = !existing || existing.deleted;
    await writeRows(tx, [{ resource, patientId: patientIdOf(resource) ?? null, lastUpdated, version }], created ? 'create' : 'update');
    return { resource, created };
  });
}

/** Soft-deletes; false when there was nothing (live) to delete. */
export async function deleteResource(store: Store, type: string, id: string): Promise<boolean> {
  assertSupportedType(type);
  return store.transaction(async (tx) => {
    const [row] = await tx.query<{ version_id: number; patient_id: string | null }>(
      'SELECT version_id, patient_id FROM ehr_resources WHERE resource_type = $1 AND id = $2 AND NOT deleted FOR UPDATE',
      [type, id],
    );
    if (!row) return false;
    const version = Number(row.version_id) + 1;
    const at = new Date().toISOString();
    await tx.query(
      'UPDATE ehr_resources SET deleted = true, version_id = $3, last_updated = $4::timestamptz, resource = NULL WHERE resource_type = $1 AND id = $2',
      [type, id, version, at],
    );
    await tx.query('DELETE FROM ehr_tokens WHERE resource_type = $1 AND id = $2', [type, id]);
    await tx.query(
      'INSERT INTO ehr_changes (resource_type, id, version_id, action, patient_id, at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz)',
      [type, id, version, 'delete', row.patient_id, at],
    );
    return true;
  });
}

export type ReadResult = { status: 'ok'; resource: Resource } | { status: 'gone' } | { status: 'missing' };

export async function readResource(store: Store, type: string, id: string): Promise<ReadResult> {
  assertSupportedType(type);
  if (!ID_RE.test(id)) return { status: 'missing' };
  const [row] = await store.query<{ deleted: boolean; resource: Resource | null }>(
    'SELECT deleted, resource FROM ehr_resources WHERE resource_type = $1 AND id = $2',
    [type, id],
  );
  if (!row) return { status: 'missing' };
  return row.deleted || !row.resource ? { status: 'gone' } : { status: 'ok', resource: row.resource };
}

/** Search parameters each type accepts (besides _count/_offset, which the kit always allows). */
export function searchParamsFor(type: string): string[] {
  const common = ['_id', '_lastUpdated', 'identifier'];
  if (type === 'Patient') return common;
  const clinical = [...common, 'patient', 'subject', 'patient.identifier', 'subject.identifier', 'subject:Patient.identifier'];
  if (type !== 'Encounter') clinical.push('code');
  if (['Condition', 'Observation', 'AllergyIntolerance', 'MedicationRequest', 'MedicationStatement', 'Flag', 'DiagnosticReport'].includes(type)) clinical.push('category');
  return [...clinical, ...extraParamsFor(type)];
}

export interface SearchResult {
  resources: Resource[];
  total: number;
}

function tokenCondition(type: string, param: string, values: string[], params: unknown[], idColumn = 'r.id'): string {
  const ors = values.flatMap((v) => v.split(',')).map((v) => {
    const t = parseToken(v);
    const parts = [`t.param = $${params.push(param)}`];
    if (t.code !== undefined) parts.push(`t.code = $${params.push(t.code)}`);
    if (t.system !== undefined) parts.push(`t.system = $${params.push(t.system)}`);
    return `(${parts.join(' AND ')})`;
  });
  return `EXISTS (SELECT 1 FROM ehr_tokens t WHERE t.resource_type = $${params.push(type)} AND t.id = ${idColumn} AND (${ors.join(' OR ')}))`;
}

/**
 * Runs a search. `criteria` has already been checked against searchParamsFor(type).
 * `patientOverride` replaces the patient the search is about (fault injection only).
 */
export async function searchResources(
  store: Store,
  type: string,
  criteria: Map<string, string[]>,
  page: { count: number; offset: number },
  patientOverride?: string,
): Promise<SearchResult> {
  assertSupportedType(type);
  const params: unknown[] = [type];
  const where = ['r.resource_type = $1', 'NOT r.deleted'];
  for (const [name, values] of criteria) {
    // A substituted Patient answers in place of whoever the identifier named.
    if (type === 'Patient' && patientOverride && (name === 'identifier' || name === '_id')) continue;
    switch (name) {
      case '_count':
      case '_offset':
        break;
      case '_id': {
        const ids = values.flatMap((v) => v.split(','));
        where.push(`r.id = ANY($${params.push(ids)}::text[])`);
        break;
      }
      case '_lastUpdated':
        for (const v of values) where.push(dateCondition('r.last_updated', parseDate(v), params));
        break;
      case 'identifier':
      case 'code':
      case 'category':
        where.push(tokenCondition(type, name, values, params));
        break;
      case 'patient':
      case 'subject': {
        for (const v of values) {
          const ids = v.split(',').map(parsePatientReference);
          where.push(`r.patient_id = ANY($${params.push(patientOverride ? [patientOverride] : ids)}::text[])`);
        }
        break;
      }
      case 'patient.identifier':
      case 'subject.identifier':
      case 'subject:Patient.identifier': {
        if (patientOverride) {
          where.push(`r.patient_id = $${params.push(patientOverride)}`);
          break;
        }
        const cond = tokenCondition('Patient', 'identifier', values, params, 'p.id');
        where.push(`r.patient_id IN (SELECT p.id FROM ehr_resources p WHERE p.resource_type = 'Patient' AND NOT p.deleted AND ${cond})`);
        break;
      }
      default: {
        const extra = extraCondition(type, name, values, params);
        if (extra === undefined) throw badRequest(`unsupported search parameter: ${name}`);
        where.push(extra);
      }
    }
  }
  if (type === 'Patient' && patientOverride) where.push(`r.id = $${params.push(patientOverride)}`);
  const whereSql = where.join(' AND ');
  const [{ n }] = await store.query<{ n: string | number }>(`SELECT count(*) AS n FROM ehr_resources r WHERE ${whereSql}`, params);
  const rows =
    page.count === 0
      ? []
      : await store.query<{ resource: Resource }>(
          `SELECT r.resource FROM ehr_resources r WHERE ${whereSql} ORDER BY r.last_updated DESC, r.id LIMIT ${page.count} OFFSET ${page.offset}`,
          params,
        );
  return { resources: rows.map((r) => r.resource), total: Number(n) };
}

export interface Change {
  seq: number;
  action: 'create' | 'update' | 'delete';
  resourceType: string;
  id: string;
  versionId: string;
  /** Reference to the local Patient it is about. */
  patient?: string;
  at: string;
}

/** Changes after `since` (exclusive), oldest first; poll with the last seq you saw. */
export async function changesSince(store: Store, since: number, limit = 500): Promise<Change[]> {
  const rows = await store.query<{ seq: string; resource_type: string; id: string; version_id: number; action: Change['action']; patient_id: string | null; at: Date | string }>(
    `SELECT seq, resource_type, id, version_id, action, patient_id, at FROM ehr_changes WHERE seq > $1 ORDER BY seq LIMIT ${Math.max(1, Math.min(limit, 5000))}`,
    [since],
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    action: r.action,
    resourceType: r.resource_type,
    id: r.id,
    versionId: String(r.version_id),
    ...(r.patient_id ? { patient: `Patient/${r.patient_id}` } : {}),
    at: new Date(r.at).toISOString(),
  }));
}

/**
 * Another live patient than `notId` (fault injection: "data about another patient"),
 * preferring one with resources of `type` so the wrong answer is not simply empty.
 */
export async function anotherPatientId(store: Store, notId: string | undefined, type?: string): Promise<string | undefined> {
  if (type && type !== 'Patient') {
    const [withData] = await store.query<{ id: string }>(
      `SELECT r.patient_id AS id FROM ehr_resources r JOIN ehr_resources p ON p.resource_type = 'Patient' AND p.id = r.patient_id AND NOT p.deleted
       WHERE r.resource_type = $1 AND NOT r.deleted AND r.patient_id <> $2 ORDER BY r.patient_id LIMIT 1`,
      [type, notId ?? ''],
    );
    if (withData) return withData.id;
  }
  const [row] = await store.query<{ id: string }>(
    `SELECT id FROM ehr_resources WHERE resource_type = 'Patient' AND NOT deleted AND id <> $1 ORDER BY id LIMIT 1`,
    [notId ?? ''],
  );
  return row?.id;
}
