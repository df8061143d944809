import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { buildAuditEvent, localPatientReference } from '../../audit/event.ts';
import { checkQuery } from '../../consent/pdp/query.ts';
import { forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { PartClient } from '../../kit/http/client.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import type { PartContext } from '../../kit/part.ts';
import { formatTraceparent } from '../../kit/trace.ts';
import { remoteJwks } from '../../trust/auth/remote-jwks.ts';
import type { ExchangeDefinition } from '../../trust/agreements/types.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import type { EhrConnector } from './ehr-connector.ts';
import { credentialTooLong } from '../../kit/http/credential-limits.ts';
import { checkSearchValues } from './search-values.ts';
import { batchResponse, batchSearches, ehrFailure, searchEhr } from './holder-api.ts';
import { bsnOfQuery, type Query } from './query-translation.ts';

// The citizen's own access to what this organisation holds about her (exchange citizen-access):
//   POST /org/<URA>/citizen/$everything   (FHIR batch of GET searches, as the overview sends)
// Only the operator's central parts may call it (its citizen portal, by mTLS), and only with the
// citizen's own id_token from the citizen identity provider, for searches naming exactly the BSN
// in that token. Her right of access needs no consent question; every access is audited.

export const CITIZEN_EXCHANGE = 'citizen-access';
export const DEFAULT_OPERATOR_URA = '90000001';
const DEFAULT_AUDIENCE = 'portal';

export interface CitizenApiOptions {
  ctx: PartContext;
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  connectors: Map<string, EhrConnector>;
}

export interface VerifiedCitizen {
  bsn: string;
  loa: string;
  /** The relying party the id_token was issued to (the portal's client id). */
  clientId: string;
}

/** Verifies the citizen provider's id_token; 401 when it does not verify. */
export async function verifyCitizenToken(token: string, input: { issuer: string; jwks: JWTVerifyGetKey; audience: string }): Promise<VerifiedCitizen> {
  try {
    const tooLong = credentialTooLong("the citizen's id_token", token);
    if (tooLong) throw new Error(tooLong);
    const { payload } = await jwtVerify(token, input.jwks, { issuer: input.issuer, audience: input.audience, clockTolerance: 5, requiredClaims: ['sub', 'exp'] });
    if (typeof payload.sub !== 'string' || !isValidBsn(payload.sub)) throw new Error('the token names no valid BSN');
    if (typeof payload.acr !== 'string' || !payload.acr) throw new Error('the token states no level of assurance (acr)');
    return { bsn: payload.sub, loa: payload.acr, clientId: typeof payload.azp === 'string' ? payload.azp : input.audience };
  } catch (err) {
    const why = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : (err as Error).message;
    throw new HttpError(401, 'login', `citizen id_token refused: ${why}`, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
  }
}

export async function registerCitizenApi(app: FastifyInstance, o: CitizenApiOptions): Promise<void> {
  const { ctx } = o;
  const operatorUra = ctx.settings.operator_ura ?? DEFAULT_OPERATOR_URA;
  const audience = ctx.settings.citizen_audience ?? DEFAULT_AUDIENCE;
  const jwksClient = new PartClient({ tls: ctx.tls, maxRetries: 1 });
  app.addHook('onClose', async () => jwksClient.close());
  // The citizen provider may start after this node (the sandbox does): resolve it on first use.
  let keys: { issuer: string; jwks: JWTVerifyGetKey } | undefined;
  const issuerKeys = () => {
    const issuer = ctx.network.url('citizen-identity');
    if (keys?.issuer !== issuer) keys = { issuer, jwks: remoteJwks(`${issuer}/jwks`, jwksClient) };
    return keys;
  };

  const citizenOf = async (request: FastifyRequest): Promise<VerifiedCitizen> => {
    const m = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!m) throw new HttpError(401, 'login', "the citizen's id_token (Authorization: Bearer) is required", { headers: { 'www-authenticate': 'Bearer' } });
    if (!ctx.network.has('citizen-identity')) throw new HttpError(503, 'transient', 'no citizen identity provider in this network');
    return verifyCitizenToken(m[1], { ...issuerKeys(), audience });
  };

  const exchangeFor = (tenant: NodeTenant): ExchangeDefinition => {
    const exchange = o.env.agreements().exchanges.find((e) => e.code === CITIZEN_EXCHANGE);
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
    const exchange = exchangeFor(tenant);

    const served: Array<{ status: number; resource: Resource; categories: string[]; patientRefs?: string[] }> = [];
    try {
      for (const s of searches) served.push(await serveOne(o, tenant, exchange, s.type, s.query, citizen.bsn, ctx.baseUrl));
    } catch (err) {
      throw ehrFailure(err, request, tenant.ura);
    } finally {
      if (served.length > 0) {
        await audit(o, request, tenant, citizen, operatorUra, served, searches).catch((e) => request.log.error({ err: e }, 'audit append failed'));
      }
    }
    return reply.type('application/fhir+json').send(batchResponse(served));
  });
}

/** One allow-listed search (403 entry otherwise) answered from the EHR. */
async function serveOne(o: CitizenApiOptions, tenant: NodeTenant, exchange: ExchangeDefinition, type: string, query: Query, bsn: string, baseUrl: string) {
  const check = checkQuery(exchange, { method: 'GET', path: `/${type}`, query_params: query }, bsn);
  if (!check.ok) {
    return { status: 403, resource: forbidden(`not allow-listed for ${exchange.code}: ${check.problems.join('; ')}`).outcome, categories: [] as string[] };
  }
  const permitted = { exchange, categories: check.dataCategories };
  const { bundle, patientRefs } = await searchEhr(o.connectors.get(tenant.ura)!, `${baseUrl}/org/${tenant.ura}/fhir`, type, query, bsn, permitted);
  return { status: 200, resource: bundle as Resource, categories: check.dataCategories, patientRefs };
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
  await o.env.audit(
    buildAuditEvent({
      // The citizen herself: no professional; the portal (operator) is the other party.
      who: { organizationUra: tenant.ura, clientId: citizen.clientId, otherPartyUra: operatorUra },
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
  );
}
