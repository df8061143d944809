import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SearchQuery } from '../kit/fhir/search.ts';
import { forbidden, notFound } from '../kit/fhir/outcome.ts';
import type { CapabilityInput, PartDefinition } from '../kit/part.ts';
import { type TokenGuardOptions, tokenGuard } from '../pseudonyms/contract.ts';
import { type DirectoryType, DIRECTORY_TYPES, isDirectoryType } from './codes.ts';
import { applyTransaction, createEntry, type DirectoryResource, etag, readEntry, updateEntry } from './feed.ts';
import { DIRECTORY_MIGRATIONS } from './migrations.ts';
import type { Caller } from './ownership.ts';
import { PROFILES } from './validation.ts';
import { historyOf, searchEntries } from './query.ts';
import { HISTORY_PARAMS, INCLUDES, REVINCLUDES, searchParamsOf } from './search-params.ts';

// The national care-services directory (LRZa-like) as a part:
//   POST /[type]             create (ITI-130)                 directory:write
//   PUT  /[type]/[id]        update, If-Match required        directory:write
//   POST /                   transaction Bundle               directory:write
//   GET  /[type]/[id]        read                             directory:read
//   GET  /[type]?identifier|_id|_lastUpdated   search (ITI-90) directory:read
//   GET  /[type]/_history?_since=&_count=      history (ITI-91) directory:read
// No delete: entries are withdrawn by status.

export const DIRECTORY_READ_SCOPE = 'directory:read';
export const DIRECTORY_WRITE_SCOPE = 'directory:write';


export const DIRECTORY_CAPABILITY: CapabilityInput = {
  description: 'LDN national care-services directory (IHE mCSD as profiled by the GF IG: ITI-130 feed, ITI-90 search, ITI-91 history)',
  resources: DIRECTORY_TYPES.map((type) => ({
    type,
    // No delete: entries are withdrawn by status (DELETE answers 405).
    interactions: ['create', 'update', 'read', 'search-type', 'history-type'],
    searchParams: searchParamsOf(type).map(({ name, type: t, documentation }) => ({ name, type: t, documentation })),
    searchInclude: Object.keys(INCLUDES[type] ?? {}),
    searchRevInclude: Object.keys(REVINCLUDES[type] ?? {}),
    profile: PROFILES[type],
    documentation: `History (ITI-91): GET ${type}/_history with ${HISTORY_PARAMS.join(', ')} and _count, oldest first. Create and update need If-Match on update.`,
  })),
  systemInteractions: ['transaction'],
};

function callerOf(request: FastifyRequest): Caller {
  const peer = request.peer;
  if (!peer) throw forbidden('a network certificate is required');
  return { ...(peer.ura ? { ura: peer.ura } : {}), ...(peer.kvk ? { kvk: peer.kvk } : {}) };
}

function typeOf(raw: string): DirectoryType {
  if (!isDirectoryType(raw)) throw notFound(`the directory holds ${DIRECTORY_TYPES.join(', ')}; not ${raw}`);
  return raw;
}

function sendResource(reply: FastifyReply, baseUrl: string, status: number, r: DirectoryResource): FastifyReply {
  reply.header('etag', etag(r));
  reply.header('last-modified', new Date(r.meta.lastUpdated).toUTCString());
  if (status === 201 || status === 200) reply.header('location', `${baseUrl}/${r.resourceType}/${r.id}/_history/${r.meta.versionId}`);
  return reply.code(status).type('application/fhir+json').send(r);
}

export function createDirectoryPart(options: TokenGuardOptions = {}): PartDefinition {
  return {
    name: 'directory',
    schema: 'directory',
    migrations: DIRECTORY_MIGRATIONS,
    capability: DIRECTORY_CAPABILITY,
    async register(app, ctx) {
      const scope = tokenGuard(app, ctx, options);
      const read = { preHandler: scope(DIRECTORY_READ_SCOPE) };
      const write = { preHandler: scope(DIRECTORY_WRITE_SCOPE) };

      app.post('/', write, async (req, reply) => {
        const result = await applyTransaction(ctx.store, callerOf(req), req.body);
        return reply.type('application/fhir+json').send(result);
      });
      app.post<{ Params: { type: string } }>('/:type', write, async (req, reply) => {
        const r = await createEntry(ctx.store, callerOf(req), typeOf(req.params.type), req.body);
        return sendResource(reply, ctx.baseUrl, r.status, r.resource);
      });
      app.put<{ Params: { type: string; id: string } }>('/:type/:id', write, async (req, reply) => {
        const ifMatch = req.headers['if-match'];
        const r = await updateEntry(ctx.store, callerOf(req), typeOf(req.params.type), req.params.id, req.body, ifMatch);
        return sendResource(reply, ctx.baseUrl, r.status, r.resource);
      });
      app.get<{ Params: { type: string } }>('/:type/_history', read, async (req, reply) => {
        const bundle = await historyOf(ctx.store, typeOf(req.params.type), req.query as SearchQuery, ctx.baseUrl);
        return reply.type('application/fhir+json').send(bundle);
      });
      app.get<{ Params: { type: string; id: string } }>('/:type/:id', read, async (req, reply) => {
        const r = await readEntry(ctx.store, typeOf(req.params.type), req.params.id);
        reply.header('etag', etag(r));
        return reply.type('application/fhir+json').send(r);
      });
      app.get<{ Params: { type: string } }>('/:type', read, async (req, reply) => {
        const bundle = await searchEntries(ctx.store, typeOf(req.params.type), req.query as SearchQuery, ctx.baseUrl);
        return reply.type('application/fhir+json').send(bundle);
      });
    },
  };
}

/** The directory part with default token handling (trust part's AS when the network has one). */
export const directoryPart: PartDefinition = createDirectoryPart();
