import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { LdnError } from '../kit/errors.ts';
import { badRequest, HttpError, notFound, preconditionFailed, preconditionRequired } from '../kit/fhir/outcome.ts';
import type { Queryable, Store } from '../kit/store/store.ts';
import { writeTimestamp } from './clock.ts';
import { type DirectoryType, DIRECTORY_TYPES, isDirectoryType } from './codes.ts';
import { authorizeWrite, type Caller, resolveOwnerUra } from './ownership.ts';
import { rewriteReferences } from './references.ts';
import { validateEntry } from './validation.ts';

// Care Services Feed (ITI-130): create, update with optimistic locking, transaction Bundles.
// No delete: entries are withdrawn by status and identifiers are never reused.

export type DirectoryResource = Resource & { id: string; meta: { versionId: string; lastUpdated: string } };

export interface WriteResult {
  status: 200 | 201;
  resource: DirectoryResource;
}

export interface WriteRequest {
  method: 'POST' | 'PUT';
  type: DirectoryType;
  /** For PUT: the id in the URL. */
  id?: string;
  body: unknown;
  /** Raw If-Match header value. */
  ifMatch?: string;
}

const MAX_TRANSACTION_ENTRIES = 1000;
/** FHIR's id type, less `.` and `..`: an id is a URL path segment, and those two are not addressable. */
const FHIR_ID = /^(?!\.\.?$)[A-Za-z0-9\-.]{1,64}$/;

/** `W/"3"`, `"3"` or `3` → 3. */
export function parseIfMatch(value: string): number {
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!m) throw badRequest(`If-Match must be an ETag like W/"3", got ${JSON.stringify(value)}`);
  return Number(m[1]);
}

export const etag = (r: DirectoryResource): string => `W/"${r.meta.versionId}"`;

function statusOf(r: Record<string, unknown>): string | null {
  if (typeof r.status === 'string') return r.status;
  if (typeof r.active === 'boolean') return r.active ? 'active' : 'inactive';
  return null;
}

async function writeOne(tx: Queryable, caller: Caller, lastUpdated: string, req: WriteRequest): Promise<WriteResult> {
  const { type } = req;
  validateEntry(type, req.body);
  const body = req.body;
  let id: string;
  if (req.method === 'PUT') {
    if (!req.id) throw badRequest('update needs an id in the URL');
    if (!FHIR_ID.test(req.id)) throw badRequest(`the id in the URL must match [A-Za-z0-9-.]{1,64}, got ${JSON.stringify(req.id.slice(0, 80))}`);
    if (body.id !== undefined && body.id !== req.id) throw badRequest(`the body's id (${String(body.id)}) differs from the URL's (${req.id})`);
    id = req.id;
  } else {
    id = randomUUID(); // the server assigns ids on create
  }
  const existing = (
    await tx.query<{ version_id: number; owner_ura: string | null }>(
      'SELECT version_id, owner_ura FROM resources WHERE type = $1 AND id = $2 FOR UPDATE',
      [type, id],
    )
  )[0];
  if (existing) {
    if (req.ifMatch === undefined) throw preconditionRequired(`updating ${type}/${id} needs If-Match with its current ETag (W/"${existing.version_id}")`);
    const wanted = parseIfMatch(req.ifMatch);
    if (wanted !== existing.version_id) {
      throw preconditionFailed(`${type}/${id} is at version ${existing.version_id}, not ${wanted}: read it again and retry`);
    }
  } else if (req.ifMatch !== undefined) {
    throw preconditionFailed(`${type}/${id} does not exist, so If-Match cannot match`);
  }
  const owner = await resolveOwnerUra(tx, type, body);
  await authorizeWrite(tx, caller, type, owner);
  // Moving an entry to another care provider needs the right to write for both.
  if (existing?.owner_ura && existing.owner_ura !== owner) await authorizeWrite(tx, caller, type, existing.owner_ura);

  const versionId = existing ? existing.version_id + 1 : 1;
  const meta = { ...((body.meta as object | undefined) ?? {}), versionId: String(versionId), lastUpdated };
  const resource = { ...body, id, meta } as unknown as DirectoryResource;
  const json = JSON.stringify(resource);
  await tx.query(
    `INSERT INTO resources (type, id, version_id, last_updated, status, owner_ura, resource)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
     ON CONFLICT (type, id) DO UPDATE SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated,
       status = EXCLUDED.status, owner_ura = EXCLUDED.owner_ura, resource = EXCLUDED.resource`,
    [type, id, versionId, lastUpdated, statusOf(body), owner, json],
  );
  await tx.query(
    'INSERT INTO history (type, id, version_id, last_updated, method, resource) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
    [type, id, versionId, lastUpdated, existing ? 'PUT' : 'POST', json],
  );
  return { status: existing ? 200 : 201, resource };
}

/** POST [type]: create with a server-assigned id. */
export async function createEntry(store: Store, caller: Caller, type: DirectoryType, body: unknown): Promise<WriteResult> {
  return store.transaction(async (tx) => writeOne(tx, caller, await writeTimestamp(tx), { method: 'POST', type, body }));
}

/** PUT [type]/[id]: update (If-Match required, stale → 412), or create with a client id when absent. */
export async function updateEntry(
  store: Store,
  caller: Caller,
  type: DirectoryType,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
): Promise<WriteResult> {
  return store.transaction(async (tx) => writeOne(tx, caller, await writeTimestamp(tx), { method: 'PUT', type, id, body, ifMatch }));
}

export async function readEntry(store: Queryable, type: DirectoryType, id: string): Promise<DirectoryResource> {
  const rows = await store.query<{ resource: DirectoryResource }>('SELECT resource FROM resources WHERE type = $1 AND id = $2', [type, id]);
  if (!rows[0]) throw notFound(`${type}/${id} is not in the directory`);
  return rows[0].resource;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One transaction entry → the write it asks for; 400 for anything that is not a POST or PUT of a directory type. */
function entryRequest(raw: unknown, index: number): WriteRequest & { fullUrl?: string } {
  if (!isObject(raw)) throw badRequest(`entry ${index}: an entry must be a JSON object`);
  const entry = raw as BundleEntry;
  const req: unknown = entry.request;
  if (!isObject(req) || typeof req.method !== 'string' || typeof req.url !== 'string' || req.url === '') {
    throw badRequest(`entry ${index}: request.method and request.url are required (strings)`);
  }
  if (req.ifMatch !== undefined && typeof req.ifMatch !== 'string') throw badRequest(`entry ${index}: request.ifMatch must be a string`);
  if (entry.fullUrl !== undefined && typeof entry.fullUrl !== 'string') throw badRequest(`entry ${index}: fullUrl must be a string`);
  if (!isObject(entry.resource)) throw badRequest(`entry ${index}: resource must be a FHIR resource (JSON object)`);
  const path = req.url.replace(/^\//, '').split('?')[0];
  const [type, id, extra] = path.split('/');
  if (!isDirectoryType(type)) throw badRequest(`entry ${index}: ${type} is not a directory type (${DIRECTORY_TYPES.join(', ')})`);
  if (req.method === 'POST' && id === undefined) {
    return { method: 'POST', type, body: entry.resource, fullUrl: entry.fullUrl };
  }
  if (req.method === 'PUT' && id && extra === undefined) {
    // The URL is not percent-decoded here, so an encoded id fails the id pattern in writeOne.
    return { method: 'PUT', type, id, body: entry.resource, ifMatch: req.ifMatch, fullUrl: entry.fullUrl };
  }
  throw badRequest(`entry ${index}: only POST [type] and PUT [type]/[id] are allowed (no delete in the directory)`);
}

function atEntry(err: unknown, index: number): unknown {
  if (!(err instanceof LdnError)) return err;
  const first = err.outcome.issue?.[0];
  return new HttpError(err.status, first?.code ?? 'processing', `entry ${index}: ${err.message}`, {
    code: err.code,
    headers: err.headers,
    issues: err.outcome.issue?.map((i, n) => (n === 0 ? { ...i, diagnostics: `entry ${index}: ${i.diagnostics ?? ''}` } : i)),
  });
}

/** POST / with a transaction Bundle: every entry or none (one store transaction, one timestamp). */
export async function applyTransaction(store: Store, caller: Caller, bundle: unknown): Promise<Bundle> {
  const b = bundle as Bundle;
  if (b?.resourceType !== 'Bundle') throw badRequest('POST / expects a Bundle');
  if (b.type !== 'transaction') throw badRequest(`only transaction Bundles are processed, not ${String(b.type)}`);
  const entries: unknown = b.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array');
  if (entries.length > MAX_TRANSACTION_ENTRIES) throw badRequest(`a transaction may hold at most ${MAX_TRANSACTION_ENTRIES} entries`);
  const requests = entries.map(entryRequest);
  // Creates get their ids now so that urn:uuid references between entries can be rewritten.
  const ids = new Map<string, string>();
  const refMap = new Map<string, string>();
  requests.forEach((r, i) => {
    if (r.method !== 'POST') return;
    const id = randomUUID();
    ids.set(String(i), id);
    if (r.fullUrl) refMap.set(r.fullUrl, `${r.type}/${id}`);
  });
  const prepared = requests.map((r, i) => ({
    index: i,
    req: { ...r, body: refMap.size ? rewriteReferences(r.body, refMap) : r.body },
  }));
  // Organizations first, then what refers to them, so ownership resolves inside the bundle.
  const order = [...prepared].sort((a, b) => DIRECTORY_TYPES.indexOf(a.req.type) - DIRECTORY_TYPES.indexOf(b.req.type));
  const results = await store.transaction(async (tx) => {
    const at = await writeTimestamp(tx);
    const out: WriteResult[] = new Array(prepared.length);
    for (const { index, req } of order) {
      const preset = ids.get(String(index));
      try {
        out[index] = preset
          ? await writeWithId(tx, caller, at, req, preset)
          : await writeOne(tx, caller, at, req);
      } catch (err) {
        throw atEntry(err, index);
      }
    }
    return out;
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: results.map((r) => ({
      resource: r.resource,
      response: {
        status: r.status === 201 ? '201 Created' : '200 OK',
        location: `${r.resource.resourceType}/${r.resource.id}/_history/${r.resource.meta.versionId}`,
        etag: etag(r.resource),
        lastModified: r.resource.meta.lastUpdated,
      },
    })),
  };
}

/** A transaction create whose id was chosen before the writes (for reference rewriting). */
async function writeWithId(tx: Queryable, caller: Caller, at: string, req: WriteRequest, id: string): Promise<WriteResult> {
  const body = { ...(req.body as object), id };
  const r = await writeOne(tx, caller, at, { method: 'PUT', type: req.type, id, body });
  return r;
}
