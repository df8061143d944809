import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { migrate } from '../../src/kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../src/kit/store/pglite.ts';
import type { Store } from '../../src/kit/store/store.ts';
import { createPortalPart, PORTAL_MIGRATIONS } from '../../src/portals/part.ts';
import { fakePortalOptions, mountForTest } from '../../src/portals/test-fakes.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { CitizenApp } from '../../src/trust/apps/register.ts';
import { defaultAgreements } from '../../src/trust/agreements/default-agreements.ts';
import { checkPage, chromiumAvailable, launchBrowser } from './helpers.ts';

// The grant screen and "my apps" in Debian's Chromium: an app sends the citizen to the portal,
// she logs in and comes back to the screen, grants one of two categories with the keyboard, the
// browser lands at the app's redirect URI with a code (the CSP lets the form's answer go there),
// and she withdraws the grant again. Every page is checked with axe.

// The app's own callback page: a real listener, so the browser's navigation there ends cleanly.
let REDIRECT = 'http://127.0.0.1:0/callback';
const app: CitizenApp = {
  clientId: 'gezond-thuis',
  name: 'Gezond Thuis',
  vendor: 'PGO B.V.',
  redirectUris: [],
  scopes: ['patient/MedicationStatement.rs', 'patient/AllergyIntolerance.rs', 'patient/Observation.c'],
  status: 'active',
  statusReason: '',
  statusChangedAt: new Date().toISOString(),
};

describe('citizen apps in Chromium', { skip: !chromiumAvailable() && 'chromium not installed' }, () => {
  let browser: Browser;
  let portal: FastifyInstance;
  let portalUrl = '';
  let store: Store;
  let fakes: Awaited<ReturnType<typeof fakePortalOptions>>;
  let appSite: Server;

  before(async () => {
    appSite = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Gezond Thuis</title>'));
    await new Promise<void>((resolve) => appSite.listen(0, '127.0.0.1', resolve));
    REDIRECT = `http://127.0.0.1:${(appSite.address() as AddressInfo).port}/callback`;
    app.redirectUris = [REDIRECT];
    store = await openIsolatedPgliteStore('portal');
    await migrate(store, PORTAL_MIGRATIONS);
    fakes = await fakePortalOptions(DE_GROOT.bsn, () => `${portalUrl}/citizen/callback`);
    portal = await mountForTest(createPortalPart({ ...fakes.options, agreements: async () => defaultAgreements(), appRegister: { find: async (id) => (id === app.clientId ? app : undefined) } }), {
      store,
      settings: { operator_password: 'sandbox-operator' },
    });
    await portal.listen({ host: '127.0.0.1', port: 0 });
    portalUrl = `http://127.0.0.1:${(portal.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await portal?.close();
    await fakes?.accessLog.close();
    await store?.close();
    appSite?.close();
  });

  test('grant per category after logging in, land at the app with a code, then withdraw it', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } }); // a phone: apps live there
    const page = await context.newPage();
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    await page.goto(
      `${portalUrl}/citizen/apps/authorize?response_type=code&client_id=${app.clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&scope=${encodeURIComponent(app.scopes.join(' '))}&state=s1&code_challenge=${challenge}&code_challenge_method=S256`,
    );
    // Not logged in: the portal's login first, then straight back to the grant screen.
    await page.getByRole('heading', { level: 1, name: 'Gezond Thuis van PGO B.V. vraagt toegang tot je gegevens' }).waitFor();
    assert.deepEqual(await checkPage(page, 'citizen-app-grant'), []);
    await page.getByLabel('allergieën').uncheck();
    await page.getByRole('button', { name: 'Toegang geven' }).focus();
    await Promise.all([page.waitForURL((u) => u.href.startsWith(REDIRECT)), page.keyboard.press('Enter')]);
    const back = new URL(page.url());
    assert.ok(back.searchParams.get('code'));
    assert.equal(back.searchParams.get('state'), 's1');

    await page.goto(`${portalUrl}/citizen/apps`);
    await page.getByRole('cell', { name: 'Gezond Thuis' }).waitFor();
    await page.getByRole('cell', { name: 'medicijnen die je gebruikt' }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'allergieën' }).count(), 0, 'only what she granted');
    assert.deepEqual(await checkPage(page, 'citizen-apps'), []);
    await page.getByRole('button', { name: 'Toegang intrekken' }).click();
    await page.getByText('De toegang van de app is ingetrokken.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Toegang intrekken' }).count(), 0);
    await context.close();
  });
});
