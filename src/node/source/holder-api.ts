import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import type { Pdp, PdpDecision } from '../../consent/contract.ts';
import { LdnError } from '../../kit/errors.ts';
import { badRequest, forbidden, HttpError, notFound, operationOutcome } from '../../kit/fhir/outcome.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import { type AccessTokenClaims, exchangeByCode, type ExchangeDefinition, exchangeOfScopes } from '../../trust/contract.ts';
import { EMERGENCY_HEADER } from '../contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { DicomWebArchive } from '../imaging/archive-client.ts';
import { searchArchive } from '../imaging/archive-search.ts';
import type { ExchangeMetrics } from '../metrics.ts';
import type { CapabilityInput } from '../../kit/part.ts';
import { logAccessOrDeny, requesterSeenByHolder } from './access-log.ts';
import { holderSearchset } from './searchset.ts';
import { checkDeclaredSearch } from './declared-searches.ts';
import { type EhrConnector, EhrError } from './ehr-connector.ts';
import { bsnOfQuery, ehrSearchParams, parseEntryUrl, type Query } from './query-translation.ts';
import { refusalOutcome } from './refusal.ts';
import { permittedResources } from './response-filter.ts';
import { checkSearchValues } from './search-values.ts';

// The source side's open interface, behind the enforcement point. For every search:
// mutual TLS (kit) → access token bound to that certificate, for this tenant and an exchange
// scope → policy decision (agreements, qualifications, consent) → the EHR → only what was
// decided → an audit event either way. A batch Bundle carries several searches in one call.

export { EMERGENCY_HEADER };
export const MAX_BATCH_ENTRIES = 40;

export interface HolderApiOptions {
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  pdp: Pdp;
  connectors: Map<string, EhrConnector>;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  baseUrl(): string;
  metrics?: ExchangeMetrics;
  /** Image archives (DICOMweb) of the tenants that have one, by URA. */
  archives?: Map<string, DicomWebArchive>;
  /** What the organisation's CapabilityStatement declares; searches outside it are refused before the decision. */
  declared?(tenant: NodeTenant): CapabilityInput;
}

interface Served {
  status: number;
  resource: Resource;
  categories: string[];
  decision?: PdpDecision;
  /** The EHR's own references of the patient (never a BSN). */
  patientRefs?: string[];
}

function exchangeDefinition(env: NodeEnvironment, code: string): ExchangeDefinition {
  const exchange = exchangeByCode(env.agreements(), code);
  if (!exchange) throw forbidden(`the agreements define no exchange ${code}`);
  return exchange;
}

function exchangeOf(env: NodeEnvironment, claims: AccessTokenClaims): string {
  const exchange = exchangeOfScopes(env.agreements(), claims.scope.split(' '));
  if (!exchange) throw forbidden('the access token carries no exchange scope');
  return exchange.code;
}

/** The URL-encoded emergency reason header as text; 400 when it is not valid percent-encoding. */
export function decodeReason(raw: string | string[] | undefined): string | undefined {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (!v) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    throw badRequest(`${EMERGENCY_HEADER} must be URL-encoded text`);
  }
}

/** What the decision lets out of one search: the exchange's allow-list and the permitted data categories. */
export interface Permitted {
  exchange: ExchangeDefinition;
  categories: string[];
}

/**
 * One search against the tenant's EHR for the patient with this BSN, as a searchset under
 * `fhirBase`, holding only the resources the decision permits (`withheld`: how many it dropped).
 */
export async function searchEhr(
  connector: EhrConnector,
  fhirBase: string,
  type: string,
  query: Query,
  bsn: string,
  permitted: Permitted,
  signal?: AbortSignal,
): Promise<{ bundle: Bundle; patientRefs: string[]; withheld: number }> {
  const patients = await connector.patientsByBsn(bsn);
  const found: Resource[] = [];
  let withheld = 0;
  for (const p of patients) {
    const resources = await connector.search(type, ehrSearchParams(type, query, p.id!), signal);
    const answer = permittedResources(resources, type, permitted.exchange, permitted.categories);
    found.push(...answer.kept);
    withheld += answer.withheld;
  }
  return { bundle: holderSearchset(fhirBase, type, found), patientRefs: patients.map((p) => `Patient/${p.id}`), withheld };
}

const MAX_ENTRY_URL = 2048;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The searches of a batch Bundle (GET type-level searches only, 1 to MAX_BATCH_ENTRIES). The
 * shape is checked before anything reads it: the body is whatever the caller sent (`entry: [null]`
 * and `url: 5` used to reach the code below as if they were entries, and became 500s).
 */
export function batchSearches(body: unknown): Array<{ type: string; query: Query }> {
  if (!isObject(body) || body.resourceType !== 'Bundle' || body.type !== 'batch') throw badRequest('expected a Bundle of type batch');
  const entries = body.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array', ['Bundle.entry']);
  if (entries.length === 0 || entries.length > MAX_BATCH_ENTRIES) throw badRequest(`a batch carries 1 to ${MAX_BATCH_ENTRIES} searches`);
  return entries.map((e: unknown, i) => {
    const where = [`Bundle.entry[${i}].request`];
    if (!isObject(e) || !isObject(e.request)) throw badRequest(`entry ${i} must be an object with a request`, where);
    const { method, url } = e.request;
    if (method !== 'GET') throw badRequest(`entry ${i}: only GET searches are allowed`, where);
    if (typeof url !== 'string' || url === '' || url.length > MAX_ENTRY_URL) {
      throw badRequest(`entry ${i}: request.url must be a search of at most ${MAX_ENTRY_URL} characters`, where);
    }
    return parseEntryUrl(url);
  });
}

/**
 * The one patient a request is about. A batch naming two patients is refused: one access is
 * about one patient, and its audit event and the patient's access log must say so (a batch
 * answered for two patients was audited for the first only).
 */
export function onePatient(searches: Array<{ type: string; query: Query }>): string {
  const bsns = new Set(searches.map((s) => bsnOfQuery(s.type, s.query)));
  if (bsns.size > 1) throw badRequest(`the searches of one request must name one patient; this one names ${bsns.size}`);
  return [...bsns][0];
}

/** The distinct valid BSNs the searches name (for the audit of a request that may have been refused for naming several). */
function namedPatients(searches: Array<{ type: string; query: Query }>): string[] {
  const out = new Set<string>();
  for (const s of searches) {
    try {
      out.add(bsnOfQuery(s.type, s.query));
    } catch {
      // a search that names no valid patient names nobody to audit for
    }
  }
  return [...out];
}

/** The batch-response for searches answered in order. */
export function batchResponse(served: Array<{ status: number; resource: Resource }>): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'batch-response',
    entry: served.map((s): BundleEntry => ({ resource: s.resource, response: { status: String(s.status) } })),
  };
}

/** An EHR that did not answer is a 502 for the caller; anything else passes through. */
export function ehrFailure(err: unknown, request: FastifyRequest, ura: string): unknown {
  if (!(err instanceof EhrError)) return err;
  request.log.warn({ err: err.message, tenant: ura }, 'EHR failure');
  return new EhrError(`the organisation's record system did not answer: ${err.message}`);
}

/** The policy decision for one search by a verified requester (also used per study by the WADO-RS gate). */
export async function decideSearch(
  o: Pick<HolderApiOptions, 'env' | 'pdp'>,
  tenant: NodeTenant,
  claims: AccessTokenClaims,
  exchange: string,
  type: string,
  query: Query,
  bsn: string,
  emergencyReason: string | undefined,
): Promise<PdpDecision> {
  const requester = await o.env.participant(claims.sub);
  return o.pdp.evaluate({
    subject: {
      scope: claims.scope,
      client_id: claims.client_id,
      organization_ura: claims.sub,
      organization_name: requester?.name,
      organization_facility_type: requester?.type ?? '',
      user_id: claims.dezi_number ?? '',
      user_role: claims.role_code ?? '',
      client_qualifications: requester?.status === 'admitted' ? requester.qualifications : [],
    },
    request: { method: 'GET', path: `/${type}`, query_params: query },
    context: {
      data_holder_organization_id: tenant.ura,
      data_holder_facility_type: tenant.type,
      patient_bsn: bsn,
      purpose_of_use: 'TREAT',
      exchange,
      ...(emergencyReason !== undefined ? { emergency: { reason: emergencyReason } } : {}),
    },
  });
}

export async function registerHolderApi(app: FastifyInstance, o: HolderApiOptions): Promise<void> {
  const tenantOf = (ura: string): NodeTenant => {
    const t = o.tenants.get(ura);
    if (!t) throw notFound(`this node serves no organisation with URA ${ura}`);
    return t;
  };

  async function serveSearch(
    signal: AbortSignal,
    log: FastifyBaseLogger,
    decisions: PdpDecision[],
    tenant: NodeTenant,
    claims: AccessTokenClaims,
    exchange: string,
    type: string,
    query: Query,
    emergencyReason: string | undefined,
  ): Promise<Served> {
    const bsn = bsnOfQuery(type, query);
    const decision = await decideSearch(o, tenant, claims, exchange, type, query, bsn, emergencyReason);
    decisions.push(decision);
    if (!decision.allow) {
      return { status: 403, resource: refusalOutcome(decision), categories: decision.dataCategories ?? [], decision };
    }
    const permitted = { exchange: exchangeDefinition(o.env, exchange), categories: decision.dataCategories ?? [] };
    const fhirBase = `${o.baseUrl()}/org/${tenant.ura}/fhir`;
    // Images are answered from the organisation's image archive, when it has one (imaging/archive-search.ts).
    const archive = type === 'ImagingStudy' ? o.archives?.get(tenant.ura) : undefined;
    const { bundle, patientRefs, withheld } = archive
      ? await searchArchive(archive, o.connectors.get(tenant.ura)!, fhirBase, query, bsn, permitted, signal)
      : await searchEhr(o.connectors.get(tenant.ura)!, fhirBase, type, query, bsn, permitted, signal);
    if (withheld > 0) log.info({ tenant: tenant.ura, type, withheld }, 'EHR answer held resources outside the decision; withheld');
    return { status: 200, resource: bundle, categories: permitted.categories, decision, patientRefs };
  }

  async function audit(
    request: FastifyRequest,
    tenant: NodeTenant,
    claims: AccessTokenClaims,
    exchange: string | undefined,
    served: Served[],
    decisions: PdpDecision[],
    searches: Array<{ type: string; query: Query }>,
    queries: string[],
    emergencyReason: string | undefined,
    failure: HttpError | undefined,
  ) {
    const allowed = !failure && served.some((s) => s.status === 200);
    const emergency = decisions.some((d) => d.allow && d.emergency);
    const failedSearches = served.filter((s) => s.status >= 500).length;
    const event = buildAuditEvent({
      who: requesterSeenByHolder(claims, tenant),
      what: {
        exchange: exchange ?? 'none',
        dataCategories: [...new Set([...served.flatMap((s) => s.categories), ...decisions.flatMap((d) => d.dataCategories ?? [])])],
        interaction: 'search-type',
        query: queries.join(' ; '),
        side: 'holder',
      },
      patient: {
        localReference: localPatientReference(served.find((s) => s.patientRefs?.length)?.patientRefs?.[0], 'request', request.trace.traceId),
      },
      why: { purposeOfUse: emergency ? 'ETREAT' : 'TREAT', emergencyReason: emergency ? emergencyReason : undefined },
      outcome: allowed ? 'success' : failure && failure.status >= 500 ? 'serious-failure' : 'minor-failure',
      outcomeDescription: failure
        ? `failed: ${failure.message}`
        : !allowed
          ? 'access denied by the policy decision'
          : failedSearches > 0
            ? `${failedSearches} of ${served.length} searches failed at the record system`
            : undefined,
      traceparent: formatTraceparent(request.trace),
    });
    // The BSN goes to the outbox only, sealed; the PRS token naming the patient to the
    // transparency part is fetched at delivery, so a PRS outage now does not lose the log line.
    // Every patient the request names gets the event in her access log (one, unless the request
    // was refused for naming several); a request that named none is logged locally only.
    await logAccessOrDeny(o.env, event, namedPatients(searches).map((bsn) => ({ bsn })), request.log);
  }

  async function run(request: FastifyRequest, reply: FastifyReply, ura: string, searches: Array<{ type: string; query: Query }>) {
    const tenant = tenantOf(ura);
    // A requester that gives up (its overview deadline passed) closes the connection: stop
    // asking the EHR on its behalf rather than finish work nobody will read.
    const gaveUp = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) gaveUp.abort();
    };
    reply.raw.once('close', onClose);
    let claims: AccessTokenClaims | undefined;
    let exchange: string | undefined;
    let emergencyReason: string | undefined;
    let failure: HttpError | undefined;
    let auditRefusal: unknown;
    const decisions: PdpDecision[] = [];
    const served: Served[] = [];
    try {
      claims = await o.verifyToken(request, tenant);
      exchange = exchangeOf(o.env, claims);
      emergencyReason = decodeReason(request.headers[EMERGENCY_HEADER]);
      // The caller's mistakes are 400s before the policy or the EHR is asked.
      // What the organisation's CapabilityStatement does not declare is unsupported (404/400
      // not-supported) before its values are judged.
      if (o.declared) for (const s of searches) checkDeclaredSearch(o.declared(tenant), s.type, s.query);
      onePatient(searches);
      for (const s of searches) checkSearchValues(s.type, s.query);
      // The searches of one batch run in parallel: the holder's answer time is its slowest
      // search, not their sum. The patient lookup is shared (the connector memoises it).
      const results = await Promise.allSettled(
        searches.map((s) => serveSearch(gaveUp.signal, request.log, decisions, tenant, claims!, exchange!, s.type, s.query, emergencyReason)),
      );
      // A search the EHR could not answer fails on its own entry; the others still count. Only
      // when nothing was answered, or on any other error, does the whole request fail.
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      const other = rejected.find((r) => !(r.reason instanceof EhrError));
      if (other || rejected.length === results.length) throw (other ?? rejected[0]).reason;
      for (const r of results) {
        if (r.status === 'fulfilled') served.push(r.value);
        else {
          const e = ehrFailure(r.reason, request, ura) as LdnError;
          served.push({ status: e.status, resource: e.outcome, categories: [] });
        }
      }
      o.metrics?.record(exchange, served.some((x) => x.status === 200) ? 'ok' : 'refused');
    } catch (err) {
      if (exchange) o.metrics?.record(exchange, 'failed');
      const thrown = ehrFailure(err, request, ura);
      failure = thrown instanceof LdnError ? thrown : new HttpError(500, 'exception', 'internal error');
      throw thrown;
    } finally {
      reply.raw.off('close', onClose);
      // Every access by a verified requester is audited, also one that failed half-way.
      if (claims) {
        const queries = searches.map((s) => `${s.type}?${Object.keys(s.query).join('&')}`);
        await audit(request, tenant, claims, exchange, served, decisions, searches, queries, emergencyReason, failure).catch((e: unknown) => {
          auditRefusal = e;
        });
      }
    }
    // Deny on error: an access that could not be logged releases nothing (a request already
    // failing keeps its own answer, which releases nothing either).
    if (auditRefusal) throw auditRefusal;
    return served;
  }

  app.get<{ Params: { ura: string; type: string }; Querystring: Query }>('/org/:ura/fhir/:type', async (request, reply) => {
    if (!/^[A-Z][A-Za-z]+$/.test(request.params.type)) throw notFound(`no such resource type: ${request.params.type}`);
    const [served] = await run(request, reply, request.params.ura, [{ type: request.params.type, query: request.query }]);
    return reply.code(served.status).type('application/fhir+json').send(served.resource);
  });

  app.post<{ Params: { ura: string }; Body: unknown }>('/org/:ura/fhir', async (request, reply) => {
    const served = await run(request, reply, request.params.ura, batchSearches(request.body));
    return reply.type('application/fhir+json').send(batchResponse(served));
  });
}

export { operationOutcome };
