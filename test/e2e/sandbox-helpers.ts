import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { TestBrowser } from '../../src/identity/testing/browser.ts';
import { PORTAL_CLIENT_ID } from '../../src/sandbox/central.ts';
import { createLogger } from '../../src/kit/log.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';

// End-to-end tests run the real sandbox (real HTTPS, certificates, tokens, pseudonyms) in the
// test process on free ports, and act as its users do: through the pages and the APIs.

export async function startTestSandbox(options: { postgres?: boolean; overviewDeadlineMs?: number; instances?: Record<string, number>; researchPopulation?: number } = {}): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-e2e-'));
  // On PostgreSQL each run gets a database of its own (parts use fixed schema names).
  const db = options.postgres ? await createTestDatabase() : undefined;
  const sandbox = await startSandbox({
    manifestPath: join(dir, 'sandbox.json'),
    portBase: 0,
    databaseUrl: db?.url,
    // Functional tests are not timing tests: on a shared two-core machine the first overview's cold
    // start alone can pass the production default (3 s). Suites about deadlines set their own.
    overviewDeadlineMs: options.overviewDeadlineMs ?? 10_000,
    instances: options.instances,
    researchPopulation: options.researchPopulation,
    log: createLogger('sandbox', { level: process.env.LDN_LOG_LEVEL ?? 'silent' }),
  });
  if (!db) return sandbox;
  const stop = sandbox.stop;
  return {
    ...sandbox,
    async stop() {
      await stop();
      await db.drop();
    },
  };
}

/** The overview suites' setup: a sandbox and a clinician's verklaring (default A. Bakker, SEH-arts at Veluwe). */
export async function overviewSetup(
  options: Parameters<typeof startTestSandbox>[0] = {},
  deziNumber = '900001011',
): Promise<{ sandbox: Sandbox; verklaring: string }> {
  const sandbox = await startTestSandbox(options);
  try {
    return { sandbox, verklaring: await clinicianVerklaring(sandbox, deziNumber) };
  } catch (err) {
    await sandbox.stop();
    throw err;
  }
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const { randomBytes } = await import('node:crypto');
  const { TEST_DATABASE_URL } = await import('../../src/kit/testing/backends.ts');
  const name = `ldn_e2e_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await c.end();
    },
  };
}

/** A clinician logs in to her organisation's viewer through the Dezi-like provider. */
export async function clinicianLogin(sandbox: Sandbox, deziNumber: string): Promise<{ browser: TestBrowser; viewer: string }> {
  const clinician = sandbox.manifest.users.clinicians.find((c) => c.deziNumber === deziNumber);
  if (!clinician) throw new Error(`no clinician ${deziNumber}`);
  const viewer = clinician.viewer.replace(/\/$/, '');
  const browser = new TestBrowser(sandbox.identities.operator.ca);
  const callback = `${viewer}/callback`;
  const loginPage = await browser.follow(`${viewer}/login`, callback);
  if (loginPage.status !== 200) throw new Error(`login page: ${loginPage.status} ${loginPage.body.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]+)"/.exec(loginPage.body)?.[1];
  if (!action) throw new Error(`no login form: ${loginPage.body.slice(0, 300)}`);
  const done = await browser.follow(new URL(action.replace(/&amp;/g, '&'), loginPage.url).href, callback, {
    form: { account: deziNumber, do: 'login', lang: 'nl' },
  });
  if (!done.location?.startsWith(callback)) throw new Error(`expected the viewer callback, got ${done.status} ${done.body.slice(0, 300)}`);
  const landed = await browser.request(done.location);
  if (landed.status >= 400) throw new Error(`callback failed: ${landed.status} ${landed.body.slice(0, 500)}`);
  return { browser, viewer };
}

/** Opens a patient's overview in the viewer; returns the page HTML. */
export async function openOverview(
  browser: TestBrowser,
  viewer: string,
  bsn: string,
  options: { exchange?: string; emergencyReason?: string } = {},
): Promise<{ status: number; body: string }> {
  const search = await browser.request(`${viewer}/search`);
  const csrf = /name="csrf" value="([^"]+)"/.exec(search.body)?.[1];
  if (!csrf) throw new Error(`no csrf on the search page (${search.status}): ${search.body.slice(0, 300)}`);
  const form: Record<string, string> = { csrf, bsn, exchange: options.exchange ?? 'acute-zorg' };
  if (options.emergencyReason !== undefined) {
    form.emergency = '1';
    form.emergencyReason = options.emergencyReason;
  }
  const page = await browser.request(`${viewer}/overview`, { form });
  return { status: page.status, body: page.body };
}

import { clinicianVerklaring } from '../../src/sandbox/clinician-login.ts';

export { clinicianVerklaring };

/** A citizen logs in to the portal through the DigiD-like provider; returns the citizen portal's base URL. */
export async function citizenPortalLogin(sandbox: Pick<Sandbox, 'manifest' | 'identities'>, bsn: string): Promise<{ browser: TestBrowser; base: string }> {
  const base = `${(sandbox.manifest.portal?.url ?? '').replace(/\/$/, '')}/citizen`;
  const callback = `${base}/callback`;
  const browser = new TestBrowser(sandbox.identities.operator.ca);
  const loginPage = await browser.follow(`${base}/login`, callback);
  if (loginPage.status !== 200) throw new Error(`citizen login page: ${loginPage.status} ${loginPage.body.slice(0, 300)}`);
  const action = /<form method="post" action="([^"]+)"/.exec(loginPage.body)?.[1];
  if (!action) throw new Error(`no login form: ${loginPage.body.slice(0, 300)}`);
  const done = await browser.follow(new URL(action.replace(/&amp;/g, '&'), loginPage.url).href, callback, { form: { account: bsn, do: 'login', lang: 'nl' } });
  if (!done.location?.startsWith(callback)) throw new Error(`expected the portal callback, got ${done.status} ${done.body.slice(0, 300)}`);
  const landed = await browser.request(done.location);
  if (landed.status !== 302) throw new Error(`portal callback: ${landed.status} ${landed.body.slice(0, 300)}`);
  return { browser, base };
}

/** The overview as the organisation's own EHR asks its node for it (API, JSON Bundle). */
export async function apiOverview(
  sandbox: Sandbox,
  input: { ura: string; verklaring: string; bsn: string; exchange?: string; emergencyReason?: string; trace?: import('../../src/kit/trace.ts').TraceContext },
): Promise<{ status: number; body: import('@medplum/fhirtypes').Bundle & import('@medplum/fhirtypes').OperationOutcome; ms: number }> {
  const { PartClient } = await import('../../src/kit/http/client.ts');
  const { TrustTokenProvider } = await import('../../src/trust/auth/token-provider.ts');
  const participant = sandbox.manifest.participants.find((p) => p.ura === input.ura)!;
  const nodeUrl = new URL(participant.nodeUrl!).origin;
  const identity = sandbox.identities.participants.get(input.ura)!;
  const tokens = new TrustTokenProvider({ tls: identity, ura: input.ura, tokenEndpoint: `${nodeUrl}/oauth/token` });
  const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
  try {
    const exchange = input.exchange ?? 'acute-zorg';
    const started = Date.now();
    const r = await client.call<import('@medplum/fhirtypes').Bundle & import('@medplum/fhirtypes').OperationOutcome>(
      `${participant.nodeUrl}/fhir/Patient/$overview?identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${input.bsn}`)}&exchange=${exchange}`,
      {
        scope: exchange,
        resource: participant.nodeUrl,
        userAssertion: input.verklaring,
        trace: input.trace,
        headers: {
          'dezi-verklaring': input.verklaring,
          ...(input.emergencyReason ? { 'ldn-emergency-reason': encodeURIComponent(input.emergencyReason) } : {}),
        },
      },
    );
    return { status: r.status, body: r.body, ms: Date.now() - started };
  } finally {
    await client.close();
    await tokens.close?.();
  }
}

/** A citizen id_token as the portal obtains it (code flow with PKCE, as the portal's client). */
export async function citizenIdToken(sandbox: Sandbox, bsn: string): Promise<string> {
  const callback = `${(sandbox.manifest.portal?.url ?? '').replace(/\/$/, '')}/citizen/callback`;
  const browser = new TestBrowser(sandbox.identities.operator.ca);
  try {
    const config = await oidc.discovery(new URL(sandbox.network.url('citizen-identity')), PORTAL_CLIENT_ID, undefined, oidc.None(), {
      [oidc.customFetch]: browser.fetch as oidc.CustomFetch,
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: callback,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      prompt: 'login',
    });
    const page = await browser.follow(url.href, callback);
    const done = await browser.follow(page.url, callback, { form: { account: bsn, do: 'login', lang: 'nl' } });
    if (!done.location?.startsWith(callback)) throw new Error(`login did not reach the callback: ${done.status}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.location as string), { pkceCodeVerifier: verifier, expectedState: state });
    if (!tokens.id_token) throw new Error('no id_token');
    return tokens.id_token;
  } finally {
    await browser.close();
  }
}
