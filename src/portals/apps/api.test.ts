import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Agent, fetch } from 'undici';
import { createService, type RunningService } from '../../kit/http/service.ts';
import type { PartDefinition } from '../../kit/part.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { createTestPki, staticNetwork } from '../../kit/testing/test-pki.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import type { CitizenApp } from '../../trust/apps/register.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { generateSigningKey } from '../../trust/auth/keys.ts';
import { authMigrations } from '../../trust/auth/migrations.ts';
import { deGrootOverview } from '../test-support.ts';
import type { CitizenDataOptions } from '../ports.ts';
import { registerAppApi } from './api.ts';
import { appGrantMigrations, GrantStore } from './grant-store.ts';

// The token endpoint and the citizen FHIR API over real HTTPS (the kit's service factory), with
// the data-integration port and the register faked: what is asked of the holders is limited to
// the grant, bad input is an OAuth error or an OperationOutcome, never a 500.

const exchange = defaultAgreements().exchanges.find((e) => e.code === 'citizen-access')!;
const app: CitizenApp = {
  clientId: 'gezond-thuis',
  name: 'Gezond Thuis',
  vendor: 'PGO B.V.',
  redirectUris: ['https://app.example/cb'],
  scopes: ['patient/*.rs', 'patient/Observation.c', 'offline_access'],
  status: 'active',
  statusReason: '',
  statusChangedAt: new Date().toISOString(),
};

const keys = await generateKeyPair('ES256');
const appKeys = await generateKeyPair('ES256');
const confidential: CitizenApp = { ...app, clientId: 'kluis-app', name: 'Kluis', jwks: { keys: [{ ...(await exportJWK(appKeys.publicKey)), kid: 'a1', alg: 'ES256' }] } };

describe('citizen app API', () => {
  let svc: RunningService;
  let grants: GrantStore;
  let agent: Agent;
  const asked: Array<CitizenDataOptions | undefined> = [];
  const shared: Observation[] = [];

  const part: PartDefinition = {
    name: 'portal',
    schema: 'portal',
    migrations: [...authMigrations, ...appGrantMigrations],
    publicPaths: ['/'],
    async register(fastify, ctx) {
      await migrate(ctx.store, [...authMigrations, ...appGrantMigrations]);
      grants = await GrantStore.open(ctx.store);
      await registerAppApi(fastify, {
        store: ctx.store,
        grants,
        register: { find: async (id) => [app, confidential].find((a) => a.clientId === id) },
        key: await generateSigningKey(),
        baseUrl: () => ctx.baseUrl,
        citizenData: async (_citizen, options) => {
          asked.push(options);
          return deGrootOverview();
        },
        exchange: async () => exchange,
        share: async (_ura, _token, observation) => {
          shared.push(observation);
          return { status: 201, body: { ...observation, id: 'obs-1' } };
        },
      });
    },
  };

  before(async () => {
    const pki = await createTestPki();
    svc = await createService(part, { tls: await pki.identity('90000001', { name: 'portal' }), network: staticNetwork({}), store: await openIsolatedPgliteStore('portal') });
    agent = new Agent({ connect: { ca: pki.ca.certPem } });
  });
  after(async () => {
    await agent.close();
    await svc.close();
  });

  const dpop = async (method: string, url: string, accessToken?: string) =>
    new SignJWT({ htm: method, htu: url.split('?')[0], jti: randomUUID(), ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}) })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: await exportJWK(keys.publicKey) })
      .setIssuedAt()
      .sign(keys.privateKey);
  const call = async (path: string, init: { method?: string; form?: Record<string, string>; body?: unknown; token?: string; proof?: boolean } = {}) => {
    const url = `${svc.url}${path}`;
    const method = init.method ?? (init.form || init.body ? 'POST' : 'GET');
    const headers: Record<string, string> = {};
    if (init.proof !== false) headers.dpop = await dpop(method, url, init.token);
    if (init.token) headers.authorization = `DPoP ${init.token}`;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/fhir+json';
      body = JSON.stringify(init.body);
    }
    const r = await fetch(url, { method, headers, body, dispatcher: agent });
    return { status: r.status, headers: r.headers, body: (await r.json().catch(() => ({}))) as Record<string, unknown> & Bundle };
  };

  const verifier = 'v'.repeat(50);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const codeFor = async (categories: string[], scopes: string[], clientId = app.clientId) =>
    (await grants.createGrant({ clientId, appName: app.name, bsn: DE_GROOT.bsn, loa: 'substantial', categories, scopes, redirectUri: app.redirectUris[0], codeChallenge: challenge })).code;
  const codeForm = (code: string, clientId = app.clientId) => ({ grant_type: 'authorization_code', code, redirect_uri: app.redirectUris[0], client_id: clientId, code_verifier: verifier });
  const tokenFor = async (categories: string[], scopes: string[]) => {
    const r = await call('/citizen-api/token', { form: codeForm(await codeFor(categories, scopes)) });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.token_type, 'DPoP');
    return r.body.access_token as string;
  };

  it('asks the holders only for the granted categories, and answers a searchset of the type with its Provenance', async () => {
    const token = await tokenFor(['MedicationUse'], ['patient/MedicationStatement.rs']);
    const r = await call('/citizen-api/fhir/MedicationStatement', { token });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(asked.at(-1)?.categories, ['MedicationUse']);
    assert.equal(r.body.type, 'searchset');
    assert.ok(r.body.entry?.every((e) => ['MedicationStatement', 'Provenance', 'OperationOutcome'].includes(e.resource?.resourceType ?? '')));
    const forbidden = await call('/citizen-api/fhir/AllergyIntolerance', { token });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.resourceType, 'OperationOutcome');
    const write = await call('/citizen-api/fhir/Observation?recipient=90000103', { token, body: { resourceType: 'Observation' } });
    assert.equal(write.status, 403, 'no share permission');
  });

  it('refuses a missing token, a token without its proof, an unknown token: 401 OperationOutcome with a DPoP challenge', async () => {
    const token = await tokenFor(['MedicationUse'], []);
    for (const r of [
      await call('/citizen-api/fhir/MedicationStatement'),
      await call('/citizen-api/fhir/MedicationStatement', { token, proof: false }),
      await call('/citizen-api/fhir/MedicationStatement', { token: 'made-up' }),
    ]) {
      assert.equal(r.status, 401);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.match(r.headers.get('www-authenticate') ?? '', /^DPoP /);
    }
    assert.equal((await call('/citizen-api/fhir/MedicationStatement?patient=123', { token })).status, 400);
    assert.equal((await call('/citizen-api/fhir/Basic', { token })).status, 404);
  });

  it('checks a shared measurement before it leaves, and passes on the rebuilt one', async () => {
    const token = await tokenFor(['ObservationVitalSigns'], ['patient/Observation.c']);
    const bad = await call('/citizen-api/fhir/Observation?recipient=90000103', { token, body: { resourceType: 'Observation', code: { text: 'x' } } });
    assert.equal(bad.status, 400);
    assert.equal((await call('/citizen-api/fhir/Observation?recipient=abc', { token, body: {} })).status, 400);
    const weight = { resourceType: 'Observation', code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, effectiveDateTime: '2026-12-01T08:00:00Z', valueQuantity: { value: 80, unit: 'kg' }, subject: { reference: 'Patient/someone-else' } };
    const ok = await call('/citizen-api/fhir/Observation?recipient=90000103', { token, body: weight });
    assert.equal(ok.status, 201);
    assert.equal(shared.at(-1)?.subject, undefined, 'the app cannot aim it at another record');
  });

  it('authenticates a confidential app by private_key_jwt with a key it registered, once per assertion', async () => {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'a1' })
      .setIssuer(confidential.clientId)
      .setSubject(confidential.clientId)
      .setAudience(`${svc.url}/citizen-api/token`)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(appKeys.privateKey);
    const withAssertion = (code: string) => ({ ...codeForm(code, confidential.clientId), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    const bare = await call('/citizen-api/token', { form: codeForm(await codeFor(['MedicationUse'], [], confidential.clientId), confidential.clientId) });
    assert.equal(bare.status, 401);
    assert.equal(bare.body.error, 'invalid_client');
    const ok = await call('/citizen-api/token', { form: withAssertion(await codeFor(['MedicationUse'], [], confidential.clientId)) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const replay = await call('/citizen-api/token', { form: withAssertion(await codeFor(['MedicationUse'], [], confidential.clientId)) });
    assert.equal(replay.status, 401, 'an assertion is used once');
    const forged = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'a1' }).setIssuer(confidential.clientId).setSubject(confidential.clientId).setAudience(`${svc.url}/citizen-api/token`).setIssuedAt().setExpirationTime('60s').setJti(randomUUID()).sign(keys.privateKey);
    const wrongKey = await call('/citizen-api/token', { form: { ...withAssertion(await codeFor(['MedicationUse'], [], confidential.clientId)), client_assertion: forged } });
    assert.equal(wrongKey.status, 401);
  });

  it('answers any token request with an OAuth error or tokens, never a server error (property)', async () => {
    const field = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('authorization_code', 'refresh_token', app.clientId, app.redirectUris[0], verifier));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom('grant_type', 'code', 'client_id', 'redirect_uri', 'code_verifier', 'refresh_token'), field), fc.boolean(), async (form, proof) => {
        const r = await call('/citizen-api/token', { form, proof });
        assert.ok(r.status === 400 || r.status === 401, `${r.status} ${JSON.stringify(r.body)}`);
        assert.equal(typeof r.body.error, 'string');
      }),
      { numRuns: 40 },
    );
  });
});
