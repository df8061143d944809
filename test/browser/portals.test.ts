import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { migrate } from '../../src/kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../src/kit/store/pglite.ts';
import type { Store } from '../../src/kit/store/store.ts';
import { clinicianViewerPlugin } from '../../src/portals/clinician/plugin.ts';
import { createPortalPart, PORTAL_MIGRATIONS } from '../../src/portals/part.ts';
import { fakePortalOptions, mountForTest } from '../../src/portals/test-fakes.ts';
import { CLINICIAN_CLAIMS, deGrootOverview, EXCHANGES, fakeLogin } from '../../src/portals/test-support.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import { checkPage, chromiumAvailable, launchBrowser, runAxe, seriousViolations } from './helpers.ts';

// The three portals clicked through in Debian's Chromium against fake ports (the full De Groot
// story through the real sandbox is wired by the lead with the same helpers). Every page visited
// is screenshotted and checked with axe-core: no serious or critical violation.

const available = chromiumAvailable();

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe('portals in Chromium', { skip: !available && 'chromium not installed' }, () => {
  let browser: Browser;
  let viewer: FastifyInstance;
  let portal: FastifyInstance;
  let viewerUrl = '';
  let portalUrl = '';
  let store: Store;
  let fakes: Awaited<ReturnType<typeof fakePortalOptions>>;

  before(async () => {
    viewer = Fastify();
    await viewer.register((scope) =>
      clinicianViewerPlugin(scope, {
        basePath: '/viewer',
        oidc: fakeLogin(CLINICIAN_CLAIMS, 'dezi-900001011', () => `${viewerUrl}/viewer/callback`),
        exchanges: EXCHANGES,
        secureCookies: false,
        overview: async () => deGrootOverview(),
      }),
    );
    viewerUrl = await listen(viewer);
    store = await openIsolatedPgliteStore('portal');
    await migrate(store, PORTAL_MIGRATIONS);
    fakes = await fakePortalOptions(DE_GROOT.bsn, () => `${portalUrl}/citizen/callback`);
    portal = await mountForTest(createPortalPart(fakes.options), { store, settings: { operator_password: 'sandbox-operator' } });
    portalUrl = await listen(portal);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await viewer?.close();
    await portal?.close();
    await fakes?.accessLog.close();
    await store?.close();
  });

  async function fresh(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } }); // tablet landscape
    return context.newPage();
  }

  test('the axe harness really runs: it reports a known serious violation', async () => {
    const page = await fresh();
    await page.setContent('<html><body><main><input type="text"><img src="data:,"></main></body></html>');
    const found = await runAxe(page);
    assert.ok(seriousViolations(found).some((v) => /label|image-alt/.test(v)), JSON.stringify(found.map((v) => v.id)));
    await page.context().close();
  });

  test('clinician: log in, BSN checked in the page, acute overview, emergency access with reason', async () => {
    const page = await fresh();
    await page.goto(`${viewerUrl}/viewer/`);
    assert.deepEqual(await checkPage(page, 'clinician-login'), []);
    await page.getByRole('link', { name: 'Inloggen met Dezi' }).click();
    await page.waitForURL(/\/viewer\/search$/);
    assert.deepEqual(await checkPage(page, 'clinician-search'), []);

    // The 11-test runs in the page: an invalid BSN never leaves the browser.
    await page.getByLabel('BSN van de patiënt').fill('123456789');
    await page.getByRole('button', { name: 'Overzicht ophalen' }).click();
    assert.match(page.url(), /\/viewer\/search$/);
    assert.equal(await page.getByLabel('BSN van de patiënt').getAttribute('aria-invalid'), 'true');

    await page.getByLabel('BSN van de patiënt').fill(DE_GROOT.bsn);
    await page.getByLabel('Gegevensuitwisseling').selectOption('acute-zorg');
    await page.getByRole('button', { name: 'Overzicht ophalen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overzicht: Acute zorg' }).waitFor();
    const headings = await page.getByRole('heading', { level: 2 }).allTextContents();
    assert.ok(headings.indexOf('Allergieën en intoleranties') < headings.indexOf('Medicatie'));
    await page.getByRole('alert').filter({ hasText: 'Thuiszorg Limburg' }).waitFor();
    assert.deepEqual(await checkPage(page, 'clinician-overview-acute'), []);

    // Emergency access: the reason is required in the page too (keyboard only).
    await page.getByRole('button', { name: 'Noodtoegang gebruiken' }).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByRole('heading', { name: 'Overzicht: Acute zorg' }).count(), 1);
    await page.getByLabel('Reden voor noodtoegang (verplicht)').fill('Bewusteloos binnengebracht');
    await page.getByRole('button', { name: 'Noodtoegang gebruiken' }).click();
    await page.getByText('U gebruikt noodtoegang. Reden: Bewusteloos binnengebracht').waitFor();
    assert.deepEqual(await checkPage(page, 'clinician-overview-emergency'), []);

    // English is one click away on the overview too: back to the search, in English.
    await page.getByRole('link', { name: 'English' }).click();
    await page.waitForURL(/\/viewer\/search$/);
    await page.getByLabel("Patient's BSN").waitFor();
    await page.context().close();
  });

  test('clinician: the same in English, on a tablet in portrait', async () => {
    const context = await browser.newContext({ viewport: { width: 768, height: 1024 } });
    const page = await context.newPage();
    await page.goto(`${viewerUrl}/viewer/`);
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('link', { name: 'Log in with Dezi' }).click();
    await page.getByLabel("Patient's BSN").fill(DE_GROOT.bsn);
    await page.getByRole('button', { name: 'Get overview' }).click();
    await page.getByRole('heading', { name: 'Allergies and intolerances' }).waitFor();
    assert.deepEqual(await checkPage(page, 'clinician-overview-en-portrait'), []);
    await context.close();
  });

  test('citizen: my data, timeline, an objection recorded in place, who accessed my data (verified)', async () => {
    const page = await fresh();
    await page.goto(`${portalUrl}/citizen/`);
    assert.deepEqual(await checkPage(page, 'citizen-login'), []);
    await page.getByRole('link', { name: 'Inloggen met DigiD (sandbox)' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mijn gegevens' }).waitFor();
    assert.deepEqual(await checkPage(page, 'citizen-data'), []);
    await page.getByRole('link', { name: 'Tijdlijn' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tijdlijn' }).waitFor();
    assert.deepEqual(await checkPage(page, 'citizen-timeline'), []);

    await page.getByRole('link', { name: 'Mijn toestemmingen' }).click();
    await page.getByLabel('Bezwaar maken').check();
    await page.getByLabel('Eén soort zorgverlener').check();
    await page.getByLabel('Soort zorgverlener', { exact: true }).selectOption('V4');
    await page.getByRole('button', { name: 'Opslaan' }).click();
    await page.getByText('Je keuze is opgeslagen.').waitFor();
    await page.getByText('Je maakt bezwaar: Ziekenhuizen mogen al je gegevens niet inzien.').waitFor();
    assert.deepEqual(await checkPage(page, 'citizen-consent'), []);
    assert.equal([...fakes.consent.all.values()].filter((c) => c.bsn === DE_GROOT.bsn && c.status === 'active').length, 1);

    await page.getByRole('link', { name: 'Wie bekeek mijn gegevens' }).click();
    await page.getByText('Het logboek is gecontroleerd').waitFor();
    assert.equal(await page.getByText('✓ staat in het logboek').count(), 2);
    assert.deepEqual(await checkPage(page, 'citizen-access'), []);
    await page.context().close();
  });

  test('operator: password login, suspend a participant, network and certificates', async () => {
    const page = await fresh();
    await page.goto(`${portalUrl}/operator/`);
    assert.deepEqual(await checkPage(page, 'operator-login'), []);
    await page.getByLabel('Wachtwoord').fill('sandbox-operator');
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Deelnemers' }).waitFor();
    assert.deepEqual(await checkPage(page, 'operator-participants'), []);
    await page.getByRole('link', { name: 'Huisartsenpraktijk Kerkrade' }).click();
    await page.getByRole('heading', { level: 1, name: 'Huisartsenpraktijk Kerkrade' }).waitFor();
    assert.deepEqual(await checkPage(page, 'operator-participant-detail'), []);
    await page.getByLabel('Reden').first().fill('Beveiligingsincident');
    await page.getByRole('button', { name: 'Schorsen' }).click();
    await page.getByText('Uitgevoerd: Huisartsenpraktijk Kerkrade: geschorst').waitFor();
    assert.equal(fakes.trust.participantsByUra.get('90000103')?.status, 'suspended');
    await page.getByRole('link', { name: 'Netwerk', exact: true }).click();
    await page.getByText('onbereikbaar').waitFor();
    assert.deepEqual(await checkPage(page, 'operator-network'), []);
    await page.getByRole('link', { name: 'Certificaten' }).click();
    assert.deepEqual(await checkPage(page, 'operator-certificates'), []);
    await page.getByRole('link', { name: 'Afsprakenstelsel' }).click();
    assert.deepEqual(await checkPage(page, 'operator-agreements'), []);
    await page.context().close();
  });
});
