import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import * as oidc from 'openid-client';
import { TestBrowser } from '../../src/identity/testing/browser.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { appTokens, authoriseApp, registerTestApp, TEST_REDIRECT, type TestApp, testAppClient } from '../../src/portals/testing/citizen-app.ts';
import { citizenPortalLogin, clinicianLogin, openOverview, startTestSandbox } from './sandbox-helpers.ts';

// A citizen's own app (PGO), end to end, with an OAuth/OpenID client library nobody here wrote
// (openid-client, with PKCE and DPoP): the operator registers the app, De Groot authorises it in
// the portal per data category, the app fetches his medication and allergies assembled from all
// holders, is refused what he did not grant, shares a blood pressure with his GP (stored in the
// GP's EHR, shown as patient-reported to a clinician), and loses access when he revokes it or the
// operator suspends it. Another app cannot use its code or token; no app can name another citizen.

const GP = '90000103';
const REDIRECT = TEST_REDIRECT;
const OTHER = CITIZENS.find((c) => c.bsn !== DE_GROOT.bsn)!;

describe('a citizen app authorised through the network', { timeout: 600_000 }, () => {
  let sandbox: Sandbox;
  let portal: string;
  let operator: PartClient;
  let citizen: { browser: TestBrowser; base: string };
  let fhirBase: string;
  const browsers: TestBrowser[] = [];

  const registerApp = (clientId: string, name: string, scopes: string[]) => registerTestApp(operator, sandbox.network.url('trust'), { clientId, name, scopes });
  const appClient = async (clientId: string): Promise<TestApp> => {
    const b = new TestBrowser(sandbox.identities.operator.ca);
    browsers.push(b);
    return testAppClient(fhirBase, clientId, b.fetch);
  };
  const authorise = (a: TestApp, scope: string, grant: string[] | 'deny') => authoriseApp(a, citizen.browser, { portal, fhirBase, scope, grant });
  const tokensFor = (a: TestApp, scope: string, grant: string[]) => appTokens(a, citizen.browser, { portal, fhirBase, scope, grant });

  const get = async (a: TestApp, token: string, path: string) => {
    try {
      const r = await oidc.fetchProtectedResource(a.config, token, new URL(`${fhirBase}/${path}`), 'GET', undefined, undefined, { DPoP: a.dpop });
      return { status: r.status, body: (await r.json()) as Bundle };
    } catch (err) {
      // openid-client turns a 401 with a WWW-Authenticate challenge into an error.
      if (err instanceof oidc.WWWAuthenticateChallengeError) return { status: err.status, body: {} as Bundle };
      throw err;
    }
  };
  const invalidGrant = (err: Error & { cause?: { error?: string } }) => err.cause?.error === 'invalid_grant';

  const READ = 'launch/patient offline_access patient/MedicationStatement.rs patient/MedicationDispense.rs patient/AllergyIntolerance.rs patient/Condition.rs';

  before(async () => {
    sandbox = await startTestSandbox();
    portal = (sandbox.manifest.portal?.url ?? '').replace(/\/$/, '');
    fhirBase = `${portal}/citizen-api/fhir`;
    operator = new PartClient({ tls: sandbox.identities.operator, maxRetries: 0, defaultDeadlineMs: 20_000 });
    await registerApp('gezond-thuis', 'Gezond Thuis', [...READ.split(' '), 'patient/Observation.rs', 'patient/Observation.c']);
    await registerApp('andere-app', 'Andere App', READ.split(' '));
    citizen = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    browsers.push(citizen.browser);
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await operator?.close();
    await sandbox?.stop();
  });

  let app: TestApp;
  let tokens: oidc.TokenEndpointResponse;

  it('publishes SMART discovery and only registered, active apps reach the grant screen (in Dutch)', async () => {
    app = await appClient('gezond-thuis');
    const meta = app.config.serverMetadata();
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.ok((meta.dpop_signing_alg_values_supported ?? []).includes('ES256'));
    const { screen, callback } = await authorise(app, `${READ} patient/Observation.c`, 'deny');
    assert.match(screen, /Gezond Thuis van PGO Test B\.V\. vraagt toegang tot je gegevens/);
    assert.match(screen, /allergieën/);
    assert.match(screen, /metingen \(zoals bloeddruk/);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    const bogus = await citizen.browser.request(`${portal}/citizen/apps/authorize?client_id=onbekend&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code`);
    assert.equal(bogus.status, 400);
    assert.equal(bogus.location, undefined, 'an unknown app is never redirected to');
  });

  it("authorises with PKCE + DPoP, and fetches De Groot's medication and allergies from every holder, with sources", async () => {
    tokens = await tokensFor(app, `${READ} patient/Observation.c`, ['MedicationUse', 'AllergyIntolerance', 'share-measurements']);
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    assert.ok(tokens.refresh_token);
    assert.doesNotMatch(tokens.scope ?? '', /Condition/);
    const meds = await get(app, tokens.access_token, 'MedicationStatement');
    assert.equal(meds.status, 200, JSON.stringify(meds.body).slice(0, 500));
    assert.equal(meds.body.type, 'searchset');
    assert.ok(meds.body.entry?.every((e) => ['MedicationStatement', 'Provenance', 'OperationOutcome'].includes(e.resource?.resourceType ?? '')));
    const dispensed = await get(app, tokens.access_token, 'MedicationDispense');
    assert.equal(dispensed.status, 200);
    const text = JSON.stringify(meds.body) + JSON.stringify(dispensed.body);
    assert.match(text, /atorvastatine|atorvastatin/i);
    assert.ok(meds.body.entry?.some((e) => e.resource?.resourceType === 'Provenance'), 'every item comes with its sources');
    assert.match(text, /Huisartsenpraktijk Kerkrade|Apotheek Kerkrade/);
    const allergies = await get(app, tokens.access_token, 'AllergyIntolerance');
    assert.equal(allergies.status, 200);
    assert.match(JSON.stringify(allergies.body), /contrast/i);
    assert.match(JSON.stringify(allergies.body), /Ziekenhuis Leiden/);
    const everything = await get(app, tokens.access_token, 'Patient/$everything');
    const patient = everything.body.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient | undefined;
    assert.ok(patient?.identifier?.some((i) => i.value === DE_GROOT.bsn), 'his own record');
    assert.ok(!JSON.stringify(everything.body).match(/"resourceType":"Condition"/), 'no category he did not grant');
  });

  it('refuses a category not granted, a search naming another citizen, a token without its DPoP key', async () => {
    const conditions = await get(app, tokens.access_token, 'Condition');
    assert.equal(conditions.status, 403, JSON.stringify(conditions.body));
    const other = await get(app, tokens.access_token, `MedicationStatement?patient:identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${OTHER.bsn}`)}`);
    assert.equal(other.status, 400, 'no app can name another citizen');
    const plainBearer = await citizen.browser.fetch(`${fhirBase}/MedicationStatement`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(plainBearer.status, 401);
    const thief = await appClient('gezond-thuis'); // same client id, another key: a stolen token
    const stolen = await get(thief, tokens.access_token, 'MedicationStatement');
    assert.equal(stolen.status, 401);
  });

  it("does not let another app redeem this app's code or use its refresh token", async () => {
    const other = await appClient('andere-app');
    const { callback, verifier, state } = await authorise(app, READ, ['MedicationUse']);
    await assert.rejects(
      oidc.authorizationCodeGrant(other.config, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: other.dpop }),
      invalidGrant,
    );
    // A refresh token presented by another app (another DPoP key) was stolen: refused, and the grant ends.
    const victim = await tokensFor(app, READ, ['MedicationUse']);
    await assert.rejects(oidc.refreshTokenGrant(other.config, victim.refresh_token!, undefined, { DPoP: other.dpop }), invalidGrant);
    assert.equal((await get(app, victim.access_token, 'MedicationStatement')).status, 401);
  });

  it('rotates refresh tokens; presenting a used one again revokes the grant', async () => {
    const own = await tokensFor(app, READ, ['AllergyIntolerance']);
    const next = await oidc.refreshTokenGrant(app.config, own.refresh_token!, undefined, { DPoP: app.dpop });
    assert.notEqual(next.refresh_token, own.refresh_token);
    assert.equal((await get(app, next.access_token, 'AllergyIntolerance')).status, 200);
    await assert.rejects(oidc.refreshTokenGrant(app.config, own.refresh_token!, undefined, { DPoP: app.dpop }), invalidGrant);
    assert.equal((await get(app, next.access_token, 'AllergyIntolerance')).status, 401, 'the whole grant is gone');
  });

  it('shares a blood pressure with the GP: stored in the EHR, patient-reported in the clinician viewer', async () => {
    const reading = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
      effectiveDateTime: new Date(Date.now() - 60_000).toISOString(),
      component: [
        { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: 148, unit: 'mm[Hg]' } },
        { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: 93, unit: 'mm[Hg]' } },
      ],
    };
    const r = await oidc.fetchProtectedResource(
      app.config,
      tokens.access_token,
      new URL(`${fhirBase}/Observation?recipient=${GP}`),
      'POST',
      JSON.stringify(reading),
      new Headers({ 'content-type': 'application/fhir+json' }),
      { DPoP: app.dpop },
    );
    const stored = (await r.json()) as Observation;
    assert.equal(r.status, 201, JSON.stringify(stored));
    assert.ok(stored.id);
    // In the GP's EHR, on De Groot's record, tagged patient-reported.
    const ehr = await citizen.browser.fetch(`${sandbox.ehr.url}/${GP}/fhir/Observation/${stored.id}`, { headers: { accept: 'application/fhir+json' } });
    const inEhr = (await ehr.json()) as Observation;
    assert.equal(ehr.status, 200);
    assert.ok(inEhr.meta?.tag?.some((t) => t.code === 'patient-reported'));
    assert.equal(inEhr.component?.[0]?.valueQuantity?.value, 148);
    // A clinician sees it marked as reported by the patient (once the GP's referral for vital signs is in the index).
    const { browser, viewer } = await clinicianLogin(sandbox, '900001011');
    browsers.push(browser);
    let page = '';
    for (let i = 0; i < 30; i++) {
      page = (await openOverview(browser, viewer, DE_GROOT.bsn)).body;
      if (/door patiënt zelf gemeld/.test(page)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    assert.match(page, /door patiënt zelf gemeld[^<]*<\/span>\s*Bloeddruk/);
  });

  it('shows every app access in the citizen access log as "your app <name>"', async () => {
    let body = '';
    for (let i = 0; i < 30; i++) {
      body = (await citizen.browser.request(`${citizen.base}/access`)).body;
      if (/Jouw app Gezond Thuis/.test(body)) break;
      await new Promise((res) => setTimeout(res, 1000));
    }
    assert.match(body, /Jouw app Gezond Thuis/);
    assert.match(body, /Eigen inzage via je app/);
  });

  it('stops the app at once when the citizen revokes it in the portal', async () => {
    const mine = await tokensFor(app, READ, ['MedicationUse']);
    assert.equal((await get(app, mine.access_token, 'MedicationStatement')).status, 200);
    const list = await citizen.browser.request(`${citizen.base}/apps`);
    assert.equal(list.status, 200);
    assert.match(list.body, /Gezond Thuis/);
    const forms = [...list.body.matchAll(/action="(\/citizen\/apps\/[^"/]+\/revoke)"><input type="hidden" name="csrf" value="([^"]+)"/g)];
    assert.ok(forms.length > 0);
    for (const [, action, csrf] of forms) {
      const r = await citizen.browser.request(`${portal}${action}`, { form: { csrf } });
      assert.equal(r.status, 303);
    }
    assert.equal((await get(app, mine.access_token, 'MedicationStatement')).status, 401);
    await assert.rejects(oidc.refreshTokenGrant(app.config, mine.refresh_token!, undefined, { DPoP: app.dpop }));
  });

  it('stops the app within a minute when the operator suspends it', async () => {
    const live = await tokensFor(app, READ, ['MedicationUse']);
    assert.equal((await get(app, live.access_token, 'MedicationStatement')).status, 200);
    const r = await operator.call(`${sandbox.network.url('trust')}/citizen-apps/gezond-thuis/status`, { method: 'POST', body: { status: 'suspended', reason: 'test' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    let status = 200;
    for (let i = 0; i < 70 && status === 200; i++) {
      status = (await get(app, live.access_token, 'MedicationStatement')).status;
      if (status === 200) await new Promise((res) => setTimeout(res, 1000));
    }
    assert.equal(status, 401);
    // A participant's certificate is not the operator's: it cannot reactivate the app.
    const gp = new PartClient({ tls: sandbox.identities.participants.get(GP)!, maxRetries: 0 });
    try {
      const denied = await gp.call(`${sandbox.network.url('trust')}/citizen-apps/gezond-thuis/status`, { method: 'POST', body: { status: 'active' } });
      assert.equal(denied.status, 403);
    } finally {
      await gp.close();
    }
  });

  it('keeps no BSN in the holder audit events of app accesses', async () => {
    const leiden = sandbox.nodes.find((n) => n.name === 'leiden')!.runtime()!;
    const rows = await leiden.ctx.store.query<{ entry: string }>('SELECT entry FROM audit_log');
    const text = rows.map((r) => r.entry).join('\n');
    assert.ok(text.includes('Gezond Thuis'), 'the app is named in the holder audit');
    assert.ok(!text.includes(DE_GROOT.bsn));
  });
});
