import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestBrowser } from '../../src/identity/testing/browser.ts';
import { createLogger } from '../../src/kit/log.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';

// End-to-end tests run the real sandbox (real HTTPS, certificates, tokens, pseudonyms) in the
// test process on free ports, and act as its users do: through the pages and the APIs.

export async function startTestSandbox(options: { databaseUrl?: string; overviewDeadlineMs?: number } = {}): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-e2e-'));
  return startSandbox({
    manifestPath: join(dir, 'sandbox.json'),
    portBase: 0,
    databaseUrl: options.databaseUrl,
    overviewDeadlineMs: options.overviewDeadlineMs,
    log: createLogger('sandbox', { level: process.env.LDN_LOG_LEVEL ?? 'silent' }),
  });
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
