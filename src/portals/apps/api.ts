import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, CapabilityStatement, Observation, Provenance } from '@medplum/fhirtypes';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkMeasurement, MEASUREMENT_CODES } from '../../kit/fhir/patient-reported.ts';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import type { Store } from '../../kit/store/store.ts';
import type { TraceContext } from '../../kit/trace.ts';
import type { CitizenApp, ExchangeDefinition, SigningKey } from '../../trust/contract.ts';
import type { CitizenDataPort } from '../ports.ts';
import type { AppRegister } from './app-register.ts';
import { APP_ISSUER_PATH, APP_JWKS_PATH, delegationToken } from './delegation.ts';
import { authenticateApp, ClientAuthError } from './client-auth.ts';
import { DpopError, verifyDpopProof } from './dpop.ts';
import { type Grant, type GrantStore, TokenReuseError } from './grant-store.ts';
import { APPS_BASE } from './pages.ts';
import { categoriesOfType, SHARE_SCOPE } from './scopes.ts';
import { OAuthFailure } from '../errors.ts';

// The citizen's FHIR API for her own apps, and its token endpoint (OAuth 2.1, SMART App Launch
// standalone patient): authorization code + PKCE S256 (public apps; confidential ones also sign a
// private_key_jwt client assertion with a key in their registered JWKS), every token bound to the
// app's DPoP key (RFC 9449), refresh tokens rotated (a reused one revokes the grant). Reads are
// assembled live from all holders by the same data-integration code as the portal's "my data"
// (adapters/citizen-data.ts), limited to the categories the citizen granted; a measurement goes
// to the provider she names (POST Observation?recipient=<URA>), marked patient-reported.

export const API_BASE = APP_ISSUER_PATH;
export const FHIR_BASE = `${API_BASE}/fhir`;
const TOKEN_PATH = `${API_BASE}/token`;
const DPOP_ALGS = 'ES256 ES384 PS256 RS256 EdDSA';
const URA = /^\d{8}$/;

export interface AppApiDeps {
  /** The portal's store: DPoP proof ids are consumed in it (auth_jti). */
  store: Store;
  grants: GrantStore;
  register: AppRegister;
  key: SigningKey;
  baseUrl(): string;
  citizenData: CitizenDataPort;
  exchange(): Promise<ExchangeDefinition>;
  /** Delivers a measurement to the provider's node (citizen route), with the delegation token. */
  share(ura: string, token: string, observation: Observation, trace: TraceContext): Promise<{ status: number; body: unknown }>;
}


const pkceS256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export async function registerAppApi(app: FastifyInstance, deps: AppApiDeps): Promise<void> {
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);
  const issuer = () => `${deps.baseUrl()}${API_BASE}`;
  const fhirBase = () => `${deps.baseUrl()}${FHIR_BASE}`;

  const smartConfiguration = () => ({
    issuer: issuer(),
    authorization_endpoint: `${deps.baseUrl()}${APPS_BASE}/authorize`,
    token_endpoint: `${deps.baseUrl()}${TOKEN_PATH}`,
    jwks_uri: `${deps.baseUrl()}${APP_JWKS_PATH}`,
    grant_types_supported: ['authorization_code', 'refresh_token'],
    response_types_supported: ['code'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256', 'PS256', 'EdDSA'],
    code_challenge_methods_supported: ['S256'],
    dpop_signing_alg_values_supported: DPOP_ALGS.split(' '),
    authorization_response_iss_parameter_supported: true,
    scopes_supported: ['launch/patient', 'offline_access', 'patient/*.rs', SHARE_SCOPE],
    capabilities: ['launch-standalone', 'client-public', 'context-standalone-patient', 'permission-patient', 'permission-v2', 'permission-offline'],
    management_endpoint: `${deps.baseUrl()}${APPS_BASE}`,
  });
  for (const path of ['/.well-known/smart-configuration', `${FHIR_BASE}/.well-known/smart-configuration`, `${API_BASE}/.well-known/oauth-authorization-server`]) {
    app.get(path, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(smartConfiguration()));
  }
  app.get(APP_JWKS_PATH, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send({ keys: [deps.key.publicJwk] }));

  // ---- token endpoint ----
  const activeApp = async (clientId: string): Promise<CitizenApp> => {
    const found = await deps.register.find(clientId);
    if (!found) throw new OAuthFailure(401, 'invalid_client', 'the app is not in the register');
    if (found.status !== 'active') throw new OAuthFailure(401, 'invalid_client', `the app is ${found.status}`);
    return found;
  };

  app.post(TOKEN_PATH, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const b = (request.body ?? {}) as Record<string, unknown>;
      const text = (k: string) => (typeof b[k] === 'string' ? (b[k] as string) : '');
      const clientId = text('client_id');
      if (!clientId) throw new OAuthFailure(401, 'invalid_client', 'client_id is required (public client)');
      const found = await activeApp(clientId);
      await authenticateApp(found, b, { tokenEndpoint: `${deps.baseUrl()}${TOKEN_PATH}`, db: deps.store }).catch((err) => {
        throw err instanceof ClientAuthError ? new OAuthFailure(401, 'invalid_client', err.message) : err;
      });
      const jkt = await verifyDpopProof(request.headers.dpop, { method: 'POST', url: `${deps.baseUrl()}${TOKEN_PATH}`, db: deps.store }).catch((err) => {
        throw err instanceof DpopError ? new OAuthFailure(400, 'invalid_dpop_proof', err.message) : err;
      });
      let issued: Awaited<ReturnType<GrantStore['issue']>>;
      if (text('grant_type') === 'authorization_code') {
        const redeemed = await deps.grants.redeemCode(text('code'));
        if (!redeemed || redeemed.grant.clientId !== clientId) throw new OAuthFailure(400, 'invalid_grant', 'unknown, used or expired code');
        if (redeemed.redirectUri !== text('redirect_uri')) throw new OAuthFailure(400, 'invalid_grant', 'redirect_uri differs from the authorisation request');
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(text('code_verifier')) || pkceS256(text('code_verifier')) !== redeemed.codeChallenge) {
          throw new OAuthFailure(400, 'invalid_grant', 'PKCE verification failed');
        }
        issued = await deps.grants.issue(redeemed.grant, jkt);
      } else if (text('grant_type') === 'refresh_token') {
        const grant = await deps.grants.refresh(text('refresh_token'), jkt).catch((err) => {
          throw err instanceof TokenReuseError ? new OAuthFailure(400, 'invalid_grant', err.message) : err;
        });
        if (grant.grant.clientId !== clientId) {
          await deps.grants.revoke(grant.grant.id, 'refresh-by-other-client');
          throw new OAuthFailure(400, 'invalid_grant', 'the refresh token belongs to another app');
        }
        issued = grant;
      } else throw new OAuthFailure(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
      return reply.send({
        access_token: issued.accessToken,
        token_type: 'DPoP',
        expires_in: issued.expiresIn,
        refresh_token: issued.refreshToken,
        scope: issued.grant.scopes.join(' '),
      });
    } catch (err) {
      if (!(err instanceof OAuthFailure)) throw err;
      request.log.info({ event: 'app.token.refused', error: err.oauthError, code: err.code, reason: err.message }, 'app token refused');
      return reply.code(err.status).send({ error: err.oauthError, error_description: err.message });
    }
  });

  // ---- resource access ----
  const unauthorized = (error: string, why: string) =>
    new HttpError(401, 'login', why, { headers: { 'www-authenticate': `DPoP error="${error}", algs="${DPOP_ALGS}"` } });

  const grantOf = async (request: FastifyRequest): Promise<Grant> => {
    const m = /^DPoP (\S+)$/.exec(request.headers.authorization ?? '');
    if (!m) throw unauthorized('invalid_token', 'a DPoP-bound access token is required (Authorization: DPoP <token>, with a DPoP proof)');
    const live = await deps.grants.accessToken(m[1]);
    if (!live) throw unauthorized('invalid_token', 'the access token is unknown, expired or revoked');
    const jkt = await verifyDpopProof(request.headers.dpop, { method: request.method, url: `${deps.baseUrl()}${request.url}`, accessToken: m[1], db: deps.store }).catch(
      (err) => {
        throw err instanceof DpopError ? unauthorized('invalid_dpop_proof', err.message) : err;
      },
    );
    if (jkt !== live.jkt) throw unauthorized('invalid_token', 'the access token is bound to another key');
    const found = await deps.register.find(live.grant.clientId);
    if (!found || found.status !== 'active') throw unauthorized('invalid_token', `the app is ${found?.status ?? 'no longer registered'}`);
    return live.grant;
  };

  const assemble = async (grant: Grant, categories: string[], trace: TraceContext): Promise<Bundle> => {
    const token = await delegationToken(deps.key, issuer(), grant);
    return deps.citizenData({ bsn: grant.bsn, idToken: token }, { categories, trace });
  };

  const noParams = (request: FastifyRequest) => {
    const extra = Object.keys((request.query ?? {}) as object).filter((k) => k !== '_format');
    if (extra.length) throw badRequest(`unsupported search parameter(s): ${extra.join(', ')}; this API always answers for the citizen who granted the token`);
  };
  const fhir = (reply: FastifyReply, body: unknown, status = 200) => reply.code(status).type('application/fhir+json').send(body);

  app.get(`${FHIR_BASE}/metadata`, async (_req, reply) => fhir(reply, capability(fhirBase(), deps.baseUrl())));

  app.get(`${FHIR_BASE}/Patient/$everything`, async (request, reply) => {
    const grant = await grantOf(request);
    noParams(request);
    return fhir(reply, await assemble(grant, grant.categories, request.trace));
  });

  app.get<{ Params: { type: string } }>(`${FHIR_BASE}/:type`, async (request, reply) => {
    const grant = await grantOf(request);
    const type = request.params.type;
    const exchange = await deps.exchange();
    if (!exchange.queries.some((q) => q.resourceType === type)) throw notFound(`no resource type ${type} in this API`);
    noParams(request);
    const ofType = categoriesOfType(exchange, type);
    const categories = type === 'Patient' ? grant.categories : ofType.filter((c) => grant.categories.includes(c));
    if (categories.length === 0) throw forbidden(`the citizen did not grant this app access to ${type} (${ofType.join(', ')})`);
    return fhir(reply, searchsetOf(await assemble(grant, categories, request.trace), type, `${fhirBase()}/${type}`));
  });

  app.post<{ Querystring: { recipient?: string } }>(`${FHIR_BASE}/Observation`, async (request, reply) => {
    const grant = await grantOf(request);
    if (!grant.scopes.includes(SHARE_SCOPE)) throw forbidden('the citizen did not allow this app to share measurements');
    const recipient = request.query.recipient ?? '';
    if (!URA.test(recipient)) throw badRequest('recipient must name the care provider by URA (8 digits): POST Observation?recipient=<URA>', ['recipient']);
    const observation = checkMeasurement(request.body);
    const token = await delegationToken(deps.key, issuer(), grant, { share: true });
    const r = await deps.share(recipient, token, observation, request.trace);
    if (r.status === 201) return fhir(reply, r.body, 201);
    if (r.status === 404 || r.status === 403 || r.status === 400) return fhir(reply, r.body, r.status);
    throw new HttpError(502, 'transient', `the care provider's node did not accept the measurement (HTTP ${r.status})`);
  });
}

/** The merged Bundle as a searchset of one type: its matches, their Provenance, and every outcome. */
export function searchsetOf(merged: Bundle, type: string, self: string): Bundle {
  const entries = merged.entry ?? [];
  const matches = entries.filter((e) => e.resource?.resourceType === type);
  const urls = new Set(matches.map((e) => e.fullUrl));
  const provenance = entries.filter(
    (e) => e.resource?.resourceType === 'Provenance' && (e.resource as Provenance).target.some((t) => urls.has(t.reference)),
  );
  const outcomes = entries.filter((e) => e.resource?.resourceType === 'OperationOutcome');
  const entry: BundleEntry[] = [
    ...matches.map((e) => ({ ...e, search: { mode: 'match' as const } })),
    ...provenance.map((e) => ({ ...e, search: { mode: 'include' as const } })),
    ...outcomes.map((e) => ({ ...e, search: { mode: 'outcome' as const } })),
  ];
  return { resourceType: 'Bundle', type: 'searchset', timestamp: merged.timestamp, total: matches.length, link: [{ relation: 'self', url: self }], entry };
}

function capability(base: string, portal: string): CapabilityStatement {
  const read = ['AllergyIntolerance', 'Condition', 'MedicationStatement', 'MedicationDispense', 'MedicationRequest', 'Observation', 'Flag', 'Procedure', 'Encounter', 'Immunization', 'Patient'];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString().slice(0, 10),
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    implementation: { description: "LDN citizen API: the citizen's own data from every holder, for the apps she authorised", url: base },
    rest: [
      {
        mode: 'server',
        security: {
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'authorize', valueUri: `${portal}${APPS_BASE}/authorize` },
                { url: 'token', valueUri: `${portal}${TOKEN_PATH}` },
              ],
            },
          ],
          description: `OAuth 2.1 authorization code + PKCE, DPoP-bound tokens. Measurements (LOINC ${MEASUREMENT_CODES.join(', ')}) via POST Observation?recipient=<URA>.`,
        },
        resource: read.map((type) => ({
          type: type as 'Patient',
          interaction: [{ code: 'search-type' as const }, ...(type === 'Observation' ? [{ code: 'create' as const }] : [])],
        })),
        operation: [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }],
      },
    ],
  };
}
