import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { DE_GROOT } from '../sandbox/cast.ts';
import { createCitizenIdentityPart, CITIZEN_IDENTITY_MIGRATIONS } from './citizen.ts';
import { LOA } from './constants.ts';
import { castCitizenDirectory, castProfessionalDirectory } from '../sandbox/people.ts';
import { createIdentityPart, IDENTITY_MIGRATIONS } from './professional.ts';
import { TestBrowser } from './testing/browser.ts';
import { finishPkceLogin, startPkceLogin } from './testing/pkce.ts';
import { type VerklaringError, verifyVerklaring } from './verklaring/verify.ts';

// The DigiD-like provider, driven by openid-client, next to the professional one: a citizen
// logs in with her BSN as subject, and her token is refused wherever a verklaring is required.

const REDIRECT = 'https://citizen-portal.test/callback';
const SECRET = 'citizen-portal-secret-0123456789-abcdefgh';

describe('citizen identity provider with openid-client', () => {
  let pki: TestPki;
  let citizen: RunningService;
  let professional: RunningService;
  let browser: TestBrowser;
  let config: client.Configuration;

  before(async () => {
    pki = await createTestPki();
    // One in-memory PGlite for both parts (one schema each): creating PGlite is the slow part.
    const citizenStore = await openPgliteStore('citizen_identity');
    await migrate(citizenStore, CITIZEN_IDENTITY_MIGRATIONS);
    citizen = await createService(
      createCitizenIdentityPart({
        directory: castCitizenDirectory(),
        requirePassword: false,
        clients: [{ client_id: 'citizen-portal', client_name: 'Mijn Gezondheidsoverzicht', client_secret: SECRET, redirect_uris: [REDIRECT] }],
      }),
      { tls: await pki.identity('90000001', { name: 'citizen-identity' }), network: staticNetwork({}), store: citizenStore },
    );
    const professionalStore = await openPgliteStore('identity');
    await migrate(professionalStore, IDENTITY_MIGRATIONS);
    professional = await createService(createIdentityPart({ clients: [], directory: castProfessionalDirectory(), requirePassword: false }), {
      tls: await pki.identity('90000001', { name: 'identity' }),
      network: staticNetwork({}),
      store: professionalStore,
    });
    browser = new TestBrowser(pki.ca.certPem);
    config = await client.discovery(new URL(citizen.url), 'citizen-portal', SECRET, client.ClientSecretBasic(SECRET), {
      [client.customFetch]: browser.fetch as client.CustomFetch,
    });
  });
  after(async () => {
    await browser.close();
    await citizen.close();
    await professional.close();
    await citizen.store.close();
    await professional.store.close();
  });

  async function logIn(bsn: string) {
    const flow = await startPkceLogin(config, REDIRECT, { ui_locales: 'en' });
    const page = await browser.follow(flow.url.href, REDIRECT);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Log in with your citizen ID/); // ui_locales=en chose English
    assert.match(page.body, /Mijn Gezondheidsoverzicht/);
    assert.doesNotMatch(page.body, new RegExp(`BSN ${bsn}`)); // the list shows masked numbers only
    const done = await browser.follow(page.url, REDIRECT, { form: { account: bsn, do: 'login' } });
    assert.ok(done.location?.startsWith(REDIRECT), `${done.status} ${done.body}`);
    return finishPkceLogin(config, flow, new URL(done.location as string));
  }

  it('serves standard discovery with code flow and S256 only', () => {
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, citizen.url);
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok(meta.acr_values_supported?.includes(LOA.substantial));
  });

  it('logs a citizen in: the BSN is the subject and acr says the level of assurance', async () => {
    const tokens = await logIn(DE_GROOT.bsn);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.sub, DE_GROOT.bsn);
    assert.ok(isValidBsn(claims.sub));
    assert.equal(claims.acr, LOA.substantial);
    assert.equal(claims.verklaring, undefined);
    const jwks = (await (await browser.fetch(`${citizen.url}/jwks`)).json()) as Parameters<typeof createLocalJWKSet>[0];
    await jwtVerify(tokens.id_token as string, createLocalJWKSet(jwks), { issuer: citizen.url, audience: 'citizen-portal' });
    const info = await client.fetchUserInfo(config, tokens.access_token, DE_GROOT.bsn);
    assert.equal(info.sub, DE_GROOT.bsn);
  });

  it('refuses a citizen token presented as a professional identity', async () => {
    const tokens = await logIn(DE_GROOT.bsn);
    const options = { issuer: professional.url, jwks: `${professional.url}/dezi/jwks.json`, fetch: browser.fetch };
    await assert.rejects(verifyVerklaring(tokens.id_token as string, options), (err: VerklaringError) => err.reason === 'not-a-verklaring');
    await assert.rejects(verifyVerklaring(tokens.access_token, options), (err: VerklaringError) => err.reason === 'malformed');
  });

  it('does not log in someone who is not in the register', async () => {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      prompt: 'login',
    });
    const page = await browser.follow(url.href, REDIRECT);
    const refused = await browser.request(page.url, { form: { account: '123456782', do: 'login' } });
    assert.equal(refused.status, 401);
    assert.match(refused.body, /Onbekende gebruiker/);
  });
});
