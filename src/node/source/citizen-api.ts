import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildAuditEvent, localPatientReference } from '../../audit/contract.ts';
import { checkQuery } from '../../consent/contract.ts';
import { operatorUraOf } from '../../kit/common-settings.ts';
import { forbidden, notFound } from '../../kit/fhir/outcome.ts';
import type { PartContext } from '../../kit/part.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import { exchangeByCode, type ExchangeDefinition } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { logAccessOrDeny } from './access-log.ts';
import { checkSearchValues } from './search-values.ts';
import { batchResponse, batchSearches, ehrFailure, searchEhr } from './holder-api.ts';
import { bsnOfQuery, type Query } from './query-translation.ts';
import { citizenTokenVerifier, type VerifiedCitizen } from './citizen-tokens.ts';

// The citizen's own access to what this organisation holds about her (exchange citizen-access):
//   POST /org/<URA>/citizen/$everything   (FHIR batch of GET searches, as the overview sends)
// Only the operator's central parts may call it (its citizen portal, by mTLS), and only with the
// citizen's own id_token from the citizen identity provider, or the portal's delegation token for
// an app she authorised (citizen-tokens.ts), for searches naming exactly the BSN in that token; an
// app gets only the categories she granted it. Her right of access needs no consent question;
// every access is audited (an app's by its name).

export const CITIZEN_EXCHANGE = 'citizen-access';

export interface CitizenApiOptions {
  ctx: PartContext;
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  connectors: Map<string, EhrConnector>;
}

export { verifyCitizenToken, type VerifiedCitizen } from './citizen-tokens.ts';

export async function registerCitizenApi(app: FastifyInstance, o: CitizenApiOptions): Promise<void> {
  const { ctx } = o;
  const operatorUra = operatorUraOf(ctx.settings);
  const citizenOf = citizenTokenVerifier(app, ctx);

  const exchangeFor = (tenant: NodeTenant): ExchangeDefinition => {
    const exchange = exchangeByCode(o.env.agreements(), CITIZEN_EXCHANGE);
    if (!exchange) throw forbidden(`the agreements define no ${CITIZEN_EXCHANGE} exchange`);
    if (!exchange.holderOrganizationTypes.includes(tenant.type)) throw forbidden(`organisation type ${tenant.type} holds no data for ${CITIZEN_EXCHANGE}`);
    return exchange;
  };

  app.post<{ Params: { ura: string }; Body: Bundle }>('/org/:ura/citizen/$everything', async (request, reply) => {
    const tenant = o.tenants.get(request.params.ura);
    if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
    const peer = request.peer;
    if (!peer || peer.ura !== operatorUra) throw forbidden("only the network operator's citizen portal may ask on a citizen's behalf");
    const citizen = await citizenOf(request);
    const searches = batchSearches(request.body);
    // Every search must be about her, before anything is read.
    for (const s of searches) {
      if (bsnOfQuery(s.type, s.query) !== citizen.bsn) throw forbidden('a citizen may only see her own data: a search names another BSN than her token');
      checkSearchValues(s.type, s.query);
    }
    if (citizen.app && !citizen.app.categories.length) throw forbidden(`the citizen granted ${citizen.app.name} no data categories`);
    const exchange = exchangeFor(tenant);

    const served: Array<{ status: number; resource: Resource; categories: string[]; patientRefs?: string[] }> = [];
    let failure: unknown;
    try {
      for (const s of searches) served.push(await serveOne(o, tenant, exchange, s.type, s.query, citizen, ctx.baseUrl));
    } catch (err) {
      failure = ehrFailure(err, request, tenant.ura);
    }
    // Audited before anything is released: an access whose event cannot be written releases
    // nothing (ERR_NODE_AUDIT_UNAVAILABLE), whatever the EHR answered.
    if (served.length > 0) await audit(o, request, tenant, citizen, operatorUra, served, searches);
    if (failure) throw failure;
    return reply.type('application/fhir+json').send(batchResponse(served));
  });
}

/** One allow-listed search (403 entry otherwise) answered from the EHR. */
async function serveOne(o: CitizenApiOptions, tenant: NodeTenant, exchange: ExchangeDefinition, type: string, query: Query, citizen: VerifiedCitizen, baseUrl: string) {
  const bsn = citizen.bsn;
  const check = checkQuery(exchange, { method: 'GET', path: `/${type}`, query_params: query }, bsn);
  if (!check.ok) {
    return { status: 403, resource: forbidden(`not allow-listed for ${exchange.code}: ${check.problems.join('; ')}`).outcome, categories: [] as string[] };
  }
  // An app sees only what its citizen granted it (Patient is always part of the answer).
  const categories = citizen.app ? check.dataCategories.filter((c) => c === 'Patient' || citizen.app!.categories.includes(c)) : check.dataCategories;
  if (categories.length === 0) {
    return { status: 403, resource: forbidden(`the citizen did not grant ${citizen.app!.name} access to ${check.dataCategories.join(', ')}`).outcome, categories: [] as string[] };
  }
  const permitted = { exchange, categories };
  const { bundle, patientRefs } = await searchEhr(o.connectors.get(tenant.ura)!, `${baseUrl}/org/${tenant.ura}/fhir`, type, query, bsn, permitted);
  return { status: 200, resource: bundle as Resource, categories, patientRefs };
}

async function audit(
  o: CitizenApiOptions,
  request: FastifyRequest,
  tenant: NodeTenant,
  citizen: VerifiedCitizen,
  operatorUra: string,
  served: Array<{ status: number; categories: string[]; patientRefs?: string[] }>,
  searches: Array<{ type: string; query: Query }>,
): Promise<void> {
  const allowed = served.some((s) => s.status === 200);
  await logAccessOrDeny(
    o.env,
    buildAuditEvent({
      // The citizen herself: no professional; the portal (operator) is the other party. When her
      // app asks, the app's name is the one who looked ("your app <name>" in her access log).
      who: { organizationUra: tenant.ura, clientId: citizen.clientId, otherPartyUra: operatorUra, professionalName: citizen.app ? citizen.app.name : undefined },
      what: {
        exchange: CITIZEN_EXCHANGE,
        dataCategories: [...new Set(served.flatMap((s) => s.categories))],
        interaction: 'search-type',
        query: searches.map((s) => `${s.type}?${Object.keys(s.query).join('&')}`).join(' ; '),
        side: 'holder',
      },
      patient: {
        localReference: localPatientReference(served.find((s) => s.patientRefs?.length)?.patientRefs?.[0], 'request', request.trace.traceId),
      },
      why: { purposeOfUse: 'PATRQT' },
      outcome: allowed ? 'success' : 'minor-failure',
      outcomeDescription: allowed ? undefined : 'no search was allow-listed for citizen-access',
      traceparent: formatTraceparent(request.trace),
    }),
    // Sealed in the outbox only; the transparency part's PRS token is fetched at delivery.
    { bsn: citizen.bsn },
    request.log,
  );
}
