import * as oidc from 'openid-client';
import type { TestBrowser } from '../../identity/testing/browser.ts';
import type { PartClient } from '../../kit/http/client.ts';

// For tests and benchmarks: a citizen app as a real one is built, on openid-client (PKCE + DPoP),
// and the citizen's answer on the portal's grant screen, through a browser that is logged in.

export const TEST_REDIRECT = 'http://127.0.0.1:9/callback';

export interface TestApp {
  clientId: string;
  config: oidc.Configuration;
  dpop: oidc.DPoPHandle;
}

/** The operator registers an app in the trust part's register (its own certificate). */
export async function registerTestApp(operator: PartClient, trustUrl: string, app: { clientId: string; name: string; scopes: string[] }): Promise<void> {
  const r = await operator.call(`${trustUrl}/citizen-apps`, {
    method: 'POST',
    body: { ...app, vendor: 'PGO Test B.V.', redirectUris: [TEST_REDIRECT] },
  });
  if (r.status !== 201) throw new Error(`registering ${app.clientId}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
}

/** An app configured from the API's SMART discovery document, with a fresh DPoP key. */
export async function testAppClient(fhirBase: string, clientId: string, fetch: typeof globalThis.fetch): Promise<TestApp> {
  const metadata = (await (await fetch(`${fhirBase}/.well-known/smart-configuration`)).json()) as oidc.ServerMetadata;
  const config = new oidc.Configuration(metadata, clientId, { redirect_uris: [TEST_REDIRECT] }, oidc.None());
  config[oidc.customFetch] = fetch as oidc.CustomFetch;
  return { clientId, config, dpop: oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair()) };
}

const htmlText = (s: string) =>
  s.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The app sends the citizen to the grant screen; she grants `grant` (category codes) or refuses. */
export async function authoriseApp(app: TestApp, citizen: TestBrowser, input: { portal: string; fhirBase: string; scope: string; grant: string[] | 'deny' }) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(app.config, {
    redirect_uri: TEST_REDIRECT,
    scope: input.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    aud: input.fhirBase,
  });
  const screen = await citizen.request(url.href);
  if (screen.status !== 200) throw new Error(`grant screen: ${screen.status} ${screen.body.slice(0, 300)}`);
  const form = /<form method="post" action="\/citizen\/apps\/authorize">([\s\S]*?)<\/form>/.exec(screen.body)?.[1] ?? '';
  const fields: Array<[string, string]> = [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], htmlText(m[2])]);
  for (const c of input.grant === 'deny' ? [] : input.grant) fields.push(['category', c]);
  fields.push(['decision', input.grant === 'deny' ? 'deny' : 'allow']);
  const answer = await citizen.request(`${input.portal}/citizen/apps/authorize`, { form: fields });
  if (answer.status !== 303 || !answer.location?.startsWith(TEST_REDIRECT)) throw new Error(`grant answer: ${answer.status} ${answer.body.slice(0, 300)}`);
  return { callback: new URL(answer.location), verifier, state, screen: screen.body };
}

/** Authorise and redeem the code: the app's DPoP-bound tokens. */
export async function appTokens(app: TestApp, citizen: TestBrowser, input: { portal: string; fhirBase: string; scope: string; grant: string[] }) {
  const { callback, verifier, state } = await authoriseApp(app, citizen, input);
  return oidc.authorizationCodeGrant(app.config, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP: app.dpop });
}
