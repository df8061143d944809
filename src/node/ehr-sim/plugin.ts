import type { BundleEntry, CapabilityStatement, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpError, badRequest, notFound } from '../../kit/fhir/outcome.ts';
import { pageParams, searchsetBundle, strictParams, type SearchQuery } from '../../kit/fhir/search.ts';
import { answerErrorsAsOutcomes } from '../../kit/http/service.ts';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import type { Store } from '../../kit/store/store.ts';
import { EhrFaultRegistry, type EhrFaults, parseFaults, shapeBody } from './faults.ts';
import { historyBundle } from './history.ts';
import { patientIdOf } from './resource-facts.ts';
import { parsePatientReference } from './search-params.ts';
import { includeReferences, isDateParam } from './search-extra.ts';
import { EhrSubscriptions } from './subscriptions.ts';
import {
  SUPPORTED_TYPES,
  anotherPatientId,
  assertSupportedType,
  changesSince,
  deleteResource,
  putResource,
  readResource,
  searchParamsFor,
  searchResources,
} from './store.ts';

// The simulator's FHIR R4 API, one base per organisation: [prefix]/<ura>/fhir. Plain HTTP,
// no authentication: it stands in for a vendor's EHR API behind the node, inside the sandbox
// only. The node must never depend on anything here that a real FHIR server would not offer,
// (the old /changes feed stays for scripts; the node polls the standard _history).

export interface EhrSimulatorOptions {
  /** One store per simulated organisation, keyed by URA (see openEhrStore). */
  stores: Map<string, Store>;
  /** Shared fault settings; a fresh registry when omitted. */
  faults?: EhrFaultRegistry;
  /** Expose PUT/GET/DELETE [prefix]/<ura>/admin/faults (default true). */
  admin?: boolean;
  /** CA certificates the simulator trusts when it posts Subscription notifications over https. */
  notificationCa?: string;
}

type Params = { ura: string; type?: string; id?: string };

const FHIR_JSON = 'application/fhir+json';

export async function ehrSimulatorPlugin(app: FastifyInstance, options: EhrSimulatorOptions): Promise<void> {
  const faults = options.faults ?? new EhrFaultRegistry();
  const hanging = new Set<() => void>();

  if (!app.hasContentTypeParser(FHIR_JSON)) {
    app.addContentTypeParser(FHIR_JSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  }
  answerErrorsAsOutcomes(app);
  // A hanging request must not keep the server from closing.
  app.addHook('preClose', async () => {
    for (const release of [...hanging]) release();
  });

  const storeOf = (ura: string): Store => {
    const store = options.stores.get(ura);
    if (!store) throw notFound(`no simulated EHR for URA ${ura}`);
    return store;
  };

  const baseUrl = (request: FastifyRequest, ura: string): string => {
    const path = request.url.split('?')[0];
    const marker = `/${ura}/fhir`;
    return `${request.protocol}://${request.host}${path.slice(0, path.indexOf(marker))}${marker}`;
  };

  // Topic-based Subscriptions (R4 Backport): what a modern EHR offers besides _history.
  const subscriptions = new EhrSubscriptions({ ca: options.notificationCa, log: app.log as unknown as Logger });
  subscriptions.register(app, { storeOf, baseUrl });
  app.addHook('onClose', () => subscriptions.close());

  /** Latency, hang and error faults; resolves when the request may proceed. */
  const beforeRead = async (request: FastifyRequest, reply: FastifyReply, ura: string): Promise<EhrFaults> => {
    storeOf(ura);
    const f = faults.get(ura);
    if (f.latencyMs) await waitOrClose(reply, f.latencyMs, hanging);
    if (f.hang) {
      await waitOrClose(reply, Number.POSITIVE_INFINITY, hanging);
      throw new HttpError(503, 'transient', 'simulated EHR stopped hanging because the server is closing');
    }
    const status = faults.errorFor(ura);
    if (status) throw new HttpError(status, 'exception', `simulated EHR fault: HTTP ${status}`);
    request.log.debug({ ura }, 'ehr-sim read');
    return f;
  };

  const send = (reply: FastifyReply, f: EhrFaults, body: unknown, status = 200) =>
    reply.code(status).type(FHIR_JSON).send(shapeBody(body, f));

  app.get<{ Params: Params }>('/:ura/fhir/metadata', async (request, reply) => {
    storeOf(request.params.ura);
    return reply.type(FHIR_JSON).send(capability(request.params.ura));
  });

  app.get<{ Params: Params; Querystring: { since?: string; _count?: string } }>('/:ura/fhir/changes', async (request, reply) => {
    const { ura } = request.params;
    const f = await beforeRead(request, reply, ura);
    const since = request.query.since === undefined ? 0 : Number(request.query.since);
    const count = request.query._count === undefined ? 500 : Number(request.query._count);
    if (!Number.isInteger(since) || since < 0) throw badRequest('since must be a non-negative integer (a seq from this feed)');
    if (!Number.isInteger(count) || count < 1) throw badRequest('_count must be a positive integer');
    const changes = await changesSince(storeOf(ura), since, count);
    return send(reply, f, { changes, next: changes.length > 0 ? changes[changes.length - 1].seq : since });
  });

  // System history (FHIR _history): what the node's connector polls, as it would a real EHR.
  app.get<{ Params: Params; Querystring: { _since?: string; _count?: string; _after?: string } }>('/:ura/fhir/_history', async (request, reply) => {
    const { ura } = request.params;
    const f = await beforeRead(request, reply, ura);
    return send(reply, f, await historyBundle(storeOf(ura), baseUrl(request, ura), request.query));
  });

  app.get<{ Params: Params; Querystring: SearchQuery }>('/:ura/fhir/:type', async (request, reply) => {
    const { ura, type = '' } = request.params;
    const f = await beforeRead(request, reply, ura);
    assertSupportedType(type);
    const store = storeOf(ura);
    const criteria = strictParams(request.query, searchParamsFor(type));
    const page = pageParams(request.query, { defaultCount: 50, maxCount: 1000 });
    const override = f.wrongPatient ? await wrongPatientFor(store, type, criteria) : undefined;
    const result = await searchResources(store, type, criteria, page, override?.id);
    const resources = override?.rewrite ? result.resources.map((r) => pointAt(r, override.rewrite as string)) : result.resources;
    const path = `/${type}`;
    // _include: the stored resources the page's matches reference (contained ones are inside already).
    const included: BundleEntry[] = [];
    for (const ref of includeReferences(type, criteria.get('_include') ?? [], resources)) {
      if (!(SUPPORTED_TYPES as readonly string[]).includes(ref.type)) continue;
      const found = await readResource(store, ref.type, ref.id);
      if (found.status === 'ok') included.push({ fullUrl: `${baseUrl(request, ura)}/${ref.type}/${ref.id}`, resource: found.resource, search: { mode: 'include' } });
    }
    const bundle = searchsetBundle({ baseUrl: baseUrl(request, ura), path, query: request.query, resources, total: result.total, ...page, hasMore: page.offset + resources.length < result.total, extraEntries: included });
    return send(reply, f, bundle);
  });

  app.get<{ Params: Params }>('/:ura/fhir/:type/:id', async (request, reply) => {
    const { ura, type = '', id = '' } = request.params;
    const f = await beforeRead(request, reply, ura);
    const store = storeOf(ura);
    const found = await readResource(store, type, id);
    if (found.status === 'missing') throw notFound(`${type}/${id} not found`);
    if (found.status === 'gone') throw new HttpError(410, 'deleted', `${type}/${id} was deleted`);
    let resource = found.resource;
    if (f.wrongPatient) {
      const other = await anotherPatientId(store, patientIdOf(resource), type);
      if (type === 'Patient' && other) {
        const r = await readResource(store, 'Patient', other);
        if (r.status === 'ok') resource = r.resource;
      } else {
        resource = pointAt(resource, other ?? `not-${patientIdOf(resource) ?? 'x'}`);
      }
    }
    reply.header('etag', `W/"${resource.meta?.versionId ?? '1'}"`);
    if (resource.meta?.lastUpdated) reply.header('last-modified', new Date(resource.meta.lastUpdated).toUTCString());
    return send(reply, f, resource);
  });

  app.post<{ Params: Params; Body: Resource }>('/:ura/fhir/:type', async (request, reply) => {
    const { ura, type = '' } = request.params;
    const body = bodyOf(request.body, type);
    const { resource } = await putResource(storeOf(ura), ura, { ...body, id: undefined } as Resource);
    subscriptions.changed(ura, `${type}/${resource.id}`, 'POST');
    reply.header('location', `${baseUrl(request, ura)}/${type}/${resource.id}/_history/${resource.meta?.versionId}`);
    return reply.code(201).type(FHIR_JSON).send(resource);
  });

  app.put<{ Params: Params; Body: Resource }>('/:ura/fhir/:type/:id', async (request, reply) => {
    const { ura, type = '', id = '' } = request.params;
    const body = bodyOf(request.body, type);
    const { resource, created } = await putResource(storeOf(ura), ura, body, { id });
    subscriptions.changed(ura, `${type}/${resource.id}`, 'PUT');
    return reply.code(created ? 201 : 200).type(FHIR_JSON).send(resource);
  });

  app.delete<{ Params: Params }>('/:ura/fhir/:type/:id', async (request, reply) => {
    const { ura, type = '', id = '' } = request.params;
    await deleteResource(storeOf(ura), type, id);
    subscriptions.changed(ura, `${type}/${id}`, 'DELETE');
    return reply.code(204).send();
  });

  if (options.admin !== false) {
    app.get<{ Params: Params }>('/:ura/admin/faults', async (request) => {
      storeOf(request.params.ura);
      return faults.get(request.params.ura);
    });
    app.put<{ Params: Params; Body: unknown }>('/:ura/admin/faults', async (request) => {
      storeOf(request.params.ura);
      const parsed = parseFaults(request.body);
      faults.set(request.params.ura, parsed);
      return parsed;
    });
    app.delete<{ Params: Params }>('/:ura/admin/faults', async (request, reply) => {
      storeOf(request.params.ura);
      faults.clear(request.params.ura);
      return reply.code(204).send();
    });
  }
}

function bodyOf(body: unknown, type: string): Resource {
  assertSupportedType(type);
  if (!body || typeof body !== 'object' || (body as Resource).resourceType !== type) throw badRequest(`body must be a ${type} resource`);
  return body as Resource;
}

/** Waits ms (Infinity: forever) unless the client goes away or the server closes first. */
function waitOrClose(reply: FastifyReply, ms: number, hanging: Set<() => void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      if (timer) clearTimeout(timer);
      hanging.delete(done);
      reply.raw.off('close', done);
      resolve();
    };
    if (Number.isFinite(ms)) timer = setTimeout(done, ms);
    hanging.add(done);
    reply.raw.on('close', done);
  });
}

/** Which patient a search is about, and whom to substitute (fault "wrongPatient"). */
async function wrongPatientFor(store: Store, type: string, criteria: Map<string, string[]>): Promise<{ id?: string; rewrite?: string }> {
  let real: string | undefined;
  const ref = criteria.get('patient')?.[0] ?? criteria.get('subject')?.[0];
  if (ref) real = parsePatientReference(ref.split(',')[0]);
  const ident = type === 'Patient' ? criteria.get('identifier') : (criteria.get('patient.identifier') ?? criteria.get('subject.identifier') ?? criteria.get('subject:Patient.identifier'));
  if (!real && ident) {
    const found = await searchResources(store, 'Patient', new Map([['identifier', ident]]), { count: 1, offset: 0 });
    real = found.resources[0]?.id;
  }
  if (!real && type !== 'Patient') return {};
  const other = await anotherPatientId(store, real, type);
  return other ? { id: other } : { rewrite: `not-${real ?? 'x'}` };
}

/** A copy of the resource pointing at another Patient (fault injection). */
function pointAt(resource: Resource, patientId: string): Resource {
  const copy = structuredClone(resource) as Resource & { patient?: { reference?: string }; subject?: { reference?: string }; identifier?: Array<{ system?: string; value?: string }> };
  if (copy.resourceType === 'Patient') {
    copy.id = patientId;
    copy.identifier = copy.identifier?.map((i) => (i.system === SYSTEM.bsn ? { ...i, value: '999999990' } : i));
    return copy;
  }
  if (copy.patient) copy.patient = { reference: `Patient/${patientId}` };
  if (copy.subject) copy.subject = { reference: `Patient/${patientId}` };
  return copy;
}

function capability(ura: string): CapabilityStatement {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2025-06-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    software: { name: 'LDN EHR simulator (sandbox only)' },
    implementation: { description: `Simulated EHR of organisation URA ${ura}` },
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'history-system' }],
        resource: [
          ...SUPPORTED_TYPES.map((type) => ({
            type,
            interaction: [{ code: 'read' as const }, { code: 'search-type' as const }, { code: 'create' as const }, { code: 'update' as const }, { code: 'delete' as const }],
            searchParam: searchParamsFor(type)
              .filter((name) => name !== '_include')
              .map((name) => ({
                name,
                type: name === '_lastUpdated' || isDateParam(type, name) ? ('date' as const) : name === 'patient' || name === 'subject' ? ('reference' as const) : ('token' as const),
              })),
            ...(searchParamsFor(type).includes('_include') ? { searchInclude: [`${type}:medication`] } : {}),
          })),
          EhrSubscriptions.capability(),
        ],
      },
    ],
  };
}

