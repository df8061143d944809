import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify, SignJWT, generateKeyPair, decodeJwt } from 'jose';
import * as client from 'openid-client';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { VERKLARING_JSON_SCHEMA } from './constants.ts';
import { castProfessionalDirectory } from '../sandbox/people.ts';
import { createIdentityPart, IDENTITY_MIGRATIONS } from './professional.ts';
import { TestBrowser } from './testing/browser.ts';
import { finishPkceLogin, startPkceLogin } from './testing/pkce.ts';
import { httpStatusChecker, type VerklaringError, verifyVerklaring } from './verklaring/verify.ts';

// The Dezi-like provider over real HTTPS, driven by openid-client (a relying party nobody
// here wrote) and a cookie-keeping test browser that logs in on the sandbox page.

const SECRET = 'portal-secret-0123456789-abcdefghijklmnop';
const REDIRECT = 'https://portal.test/callback';
const OPERATOR_URA = '90000001';
const BAKKER = '900001011'; // emergency physician at Ziekenhuis Veluwe (90000101)

describe('professional identity provider with openid-client', () => {
  let pki: TestPki;
  let svc: RunningService;
  let browser: TestBrowser;
  let config: client.Configuration;
  const parts: PartClient[] = [];

  before(async () => {
    pki = await createTestPki();
    const store = await openIsolatedPgliteStore('identity');
    await migrate(store, IDENTITY_MIGRATIONS);
    const part = createIdentityPart({
      directory: castProfessionalDirectory(),
      requirePassword: false,
      operatorUra: OPERATOR_URA,
      clients: [
        { client_id: 'clinician-portal', client_name: 'Clinician portal', client_secret: SECRET, redirect_uris: [REDIRECT] },
        { client_id: 'public-app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' },
      ],
    });
    svc = await createService(part, { tls: await pki.identity(OPERATOR_URA, { name: 'identity' }), network: staticNetwork({}), store });
    browser = new TestBrowser(pki.ca.certPem);
    config = await client.discovery(new URL(svc.url), 'clinician-portal', SECRET, client.ClientSecretBasic(SECRET), {
      [client.customFetch]: browser.fetch as client.CustomFetch,
    });
  });
  after(async () => {
    for (const p of parts) await p.close();
    await browser.close();
    await svc.close();
    await svc.store.close();
  });

  const startLogin = (params: Record<string, string> = {}) => startPkceLogin(config, REDIRECT, params);

  async function logIn(deziNumber = BAKKER) {
    const flow = await startLogin();
    const page = await browser.follow(flow.url.href, REDIRECT);
    assert.equal(page.status, 200, page.body);
    const done = await browser.follow(page.url, REDIRECT, { form: { account: deziNumber, do: 'login', lang: 'nl' } });
    assert.ok(done.location?.startsWith(REDIRECT), `expected a redirect to the client, got ${done.status} ${done.body}`);
    return { ...flow, callback: new URL(done.location as string) };
  }

  it('publishes discovery with code flow, S256 PKCE and its JWKS', () => {
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, svc.url);
    assert.deepEqual(meta.response_types_supported, ['code']);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.jwks_uri, `${svc.url}/jwks`);
    assert.equal(meta.authorization_endpoint, `${svc.url}/authorize`);
  });

  it('shows the sandbox login page in Dutch, and in English with ?lang=en', async () => {
    const flow = await startLogin();
    const page = await browser.follow(flow.url.href, REDIRECT);
    assert.match(page.body, /Inloggen als zorgverlener/);
    assert.match(page.body, /Ziekenhuis Veluwe/);
    assert.match(page.body, /Spoedeisende hulp arts/);
    const en = await browser.request(`${page.url}?lang=en`);
    assert.match(en.body, /Log in as a care professional/);
  });

  it('logs a clinician in: code + PKCE, validated id_token and userinfo carrying the verklaring', async () => {
    const flow = await logIn();
    const tokens = await client.authorizationCodeGrant(config, flow.callback, {
      pkceCodeVerifier: flow.verifier,
      expectedNonce: flow.nonce,
      expectedState: flow.state,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    assert.ok(idClaims);
    assert.equal(idClaims.sub, BAKKER);
    assert.equal(idClaims.aud, 'clinician-portal');
    assert.equal(idClaims.nonce, flow.nonce);
    // openid-client checks claims; the signature we check against the published JWKS.
    const jwks = (await (await browser.fetch(`${svc.url}/jwks`)).json()) as Parameters<typeof createLocalJWKSet>[0];
    await jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks), { issuer: svc.url, audience: 'clinician-portal' });

    const verklaring = idClaims.verklaring as string;
    const claims = await verifyVerklaring(verklaring, {
      issuer: svc.url,
      jwks: `${svc.url}/dezi/jwks.json`,
      expectedUra: '90000101',
      fetch: browser.fetch,
      checkStatus: httpStatusChecker(`${svc.url}/status/`, browser.fetch),
    });
    assert.equal(claims.dezi_nummer, BAKKER);
    assert.equal(claims.abonnee_nummer, '90000101');
    assert.equal(claims.abonnee_naam, 'Ziekenhuis Veluwe');
    assert.equal(claims.rol_code, '01.045');
    assert.equal(claims.rol_naam, 'Spoedeisende hulp arts');
    assert.equal(claims.json_schema, VERKLARING_JSON_SCHEMA);
    assert.equal(claims.voorvoegsel, null);

    const info = await client.fetchUserInfo(config, tokens.access_token, BAKKER);
    assert.equal(info.verklaring, verklaring);
  });

  it('refuses an unknown client and a redirect_uri that is not registered', async () => {
    const flow = await startLogin();
    const unknown = new URL(flow.url);
    unknown.searchParams.set('client_id', 'nobody');
    const r1 = await browser.request(unknown.href);
    assert.equal(r1.status, 400);
    assert.match(r1.body, /invalid_client/);

    const wrong = new URL(flow.url);
    wrong.searchParams.set('redirect_uri', 'https://evil.test/callback');
    const r2 = await browser.request(wrong.href);
    assert.equal(r2.status, 400);
    assert.match(r2.body, /redirect_uri/);
  });

  it('refuses an authorization request without a PKCE challenge', async () => {
    const flow = await startLogin();
    const url = new URL(flow.url);
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const r = await browser.request(url.href);
    assert.ok(r.location?.startsWith(REDIRECT));
    const back = new URL(r.location as string);
    assert.equal(back.searchParams.get('error'), 'invalid_request');
    assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  });

  it('refuses a code exchange with a wrong or missing PKCE verifier', async () => {
    const flow = await logIn();
    await assert.rejects(
      client.authorizationCodeGrant(config, flow.callback, { pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedNonce: flow.nonce, expectedState: flow.state }),
      (err: client.ResponseBodyError) => err.error === 'invalid_grant',
    );
    const flow2 = await logIn();
    await assert.rejects(
      client.authorizationCodeGrant(config, flow2.callback, { expectedNonce: flow2.nonce, expectedState: flow2.state }),
      (err: client.ResponseBodyError) => err.error === 'invalid_grant',
    );
  });

  it('refuses a replayed code (and revokes what the first exchange issued)', async () => {
    const flow = await logIn();
    const checks = { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state };
    const first = await client.authorizationCodeGrant(config, flow.callback, checks);
    await assert.rejects(client.authorizationCodeGrant(config, flow.callback, checks), (err: client.ResponseBodyError) => err.error === 'invalid_grant');
    await assert.rejects(client.fetchUserInfo(config, first.access_token, BAKKER));
  });

  it('refuses a made-up code from a public client (invalid_grant)', async () => {
    const meta = config.serverMetadata();
    assert.ok(meta.token_endpoint);
    const res = await browser.fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'made-up', redirect_uri: REDIRECT, client_id: 'public-app' }).toString(),
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  });

  it('revokes a verklaring: status says so, the verifier refuses it, another organisation may not revoke', async () => {
    const flow = await logIn();
    const tokens = await finishPkceLogin(config, flow, flow.callback);
    const verklaring = tokens.claims()?.verklaring as string;
    const { verklaring_id: id, status_uri: statusUri } = decodeJwt(verklaring) as { verklaring_id: string; status_uri: string };

    const other = new PartClient({ tls: await pki.identity('90000102'), maxRetries: 0 });
    const holder = new PartClient({ tls: await pki.identity('90000101'), maxRetries: 0 });
    parts.push(other, holder);
    const refused = await other.call(`${svc.url}/admin/verklaring/${id}/revoke`, { method: 'POST', body: { reason: 'test' } });
    assert.equal(refused.status, 403);
    const ok = await holder.call<{ status: string }>(`${svc.url}/admin/verklaring/${id}/revoke`, { method: 'POST', body: { reason: 'left the job' } });
    assert.equal(ok.status, 200);

    const status = (await (await browser.fetch(statusUri)).json()) as { status: string };
    assert.equal(status.status, 'revoked');
    await assert.rejects(
      verifyVerklaring(verklaring, {
        issuer: svc.url,
        jwks: `${svc.url}/dezi/jwks.json`,
        fetch: browser.fetch,
        checkStatus: httpStatusChecker(`${svc.url}/status/`, browser.fetch),
      }),
      (err: VerklaringError) => err.reason === 'revoked',
    );
    // Its tokens die with it: userinfo no longer answers for the revoked verklaring.
    await assert.rejects(client.fetchUserInfo(config, tokens.access_token, BAKKER));
  });

  it('refuses an expired verklaring, one for another URA, and one signed with another key', async () => {
    const flow = await logIn('900001021');
    const tokens = await finishPkceLogin(config, flow, flow.callback);
    const verklaring = tokens.claims()?.verklaring as string;
    const base = { issuer: svc.url, jwks: `${svc.url}/dezi/jwks.json`, fetch: browser.fetch };
    await assert.rejects(
      verifyVerklaring(verklaring, { ...base, now: new Date(Date.now() + 9 * 3600 * 1000) }),
      (err: VerklaringError) => err.reason === 'expired',
    );
    await assert.rejects(verifyVerklaring(verklaring, { ...base, expectedUra: '90000101' }), (err: VerklaringError) => err.reason === 'wrong-ura');
    assert.equal((await verifyVerklaring(verklaring, { ...base, expectedUra: '90000102' })).dezi_nummer, '900001021');

    const { privateKey } = await generateKeyPair('RS256');
    const header = JSON.parse(Buffer.from(verklaring.split('.')[0], 'base64url').toString());
    const forged = await new SignJWT(decodeJwt(verklaring)).setProtectedHeader(header).sign(privateKey);
    await assert.rejects(verifyVerklaring(forged, base), (err: VerklaringError) => err.reason === 'bad-signature');
  });

  it('serves the verklaring status: active for a fresh one, 404 for an unknown id', async () => {
    const flow = await logIn();
    const tokens = await finishPkceLogin(config, flow, flow.callback);
    const { status_uri: statusUri } = decodeJwt(tokens.claims()?.verklaring as string) as { status_uri: string };
    assert.equal(((await (await browser.fetch(statusUri)).json()) as { status: string }).status, 'active');
    assert.equal((await browser.fetch(`${svc.url}/status/v1/verklaring/nope`)).status, 404);
  });
});
