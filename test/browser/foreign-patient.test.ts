import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { startTestSandbox } from '../e2e/sandbox-helpers.ts';
import { checkPage, chromiumAvailable, launchBrowser, screenshot } from './helpers.ts';

// Dr. Bakker, in the clinician viewer, searches a patient from abroad: Mme Lambert from Belgium,
// by her national register number, name and birth date. The page says from the first line that
// the data is foreign (country, contact point, dates), and shows each item's Dutch term beside
// the term and code Belgium sent; sections Belgium refused or did not send say so.

const BAKKER = '900001011';
const available = chromiumAvailable();

describe('patient from abroad in the clinician viewer (Chromium)', { skip: !available && 'chromium unavailable', timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let browser: Browser;
  before(async () => {
    [sandbox, browser] = await Promise.all([startTestSandbox(), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  test('shows the foreign banner and a translated term with its original', async () => {
    const viewer = sandbox.manifest.users.clinicians.find((c) => c.deziNumber === BAKKER)!.viewer.replace(/\/$/, '');
    const lambert = sandbox.manifest.crossBorder!.belgium.patients!.find((p) => p.family === 'Lambert')!;
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${viewer}/login`);
    await page.locator(`input[name=account][value="${BAKKER}"]`).check();
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(/\/viewer\/search$/);
    await page.getByRole('link', { name: 'Patiënt uit het buitenland' }).click();
    await page.waitForURL(/\/viewer\/buitenland$/);
    await page.getByLabel('Land van de patiënt').selectOption('BE');
    await page.getByLabel('Nationaal identificatienummer').fill(lambert.insz);
    await page.getByLabel('Voornaam').fill(lambert.given);
    await page.getByLabel('Achternaam').fill(lambert.family);
    await page.getByLabel('Geboortedatum').fill(lambert.birthDate);
    await page.getByRole('button', { name: 'Samenvatting opvragen' }).click();
    await page.getByRole('heading', { name: 'Patiëntsamenvatting uit het buitenland' }).waitFor();
    await screenshot(page, 'foreign-patient-lambert');

    const origin = page.locator('section.foreign-origin');
    assert.match((await origin.textContent()) ?? '', /Buitenlandse gegevens: België \(BE\)/);
    assert.match((await origin.textContent()) ?? '', /Bron: NCPeH België/);
    const problems = page.locator('section[data-section=problems]');
    const row = problems.locator('tr', { hasText: 'Diabetes mellitus type 2' });
    assert.equal(await row.count(), 1, (await problems.textContent()) ?? '');
    assert.match((await row.textContent()) ?? '', /Diabète sucré de type 2/);
    assert.match((await row.textContent()) ?? '', /SNOMED CT 44054006/);
    assert.match((await page.locator('section[data-section=immunizations]').textContent()) ?? '', /niet vrijgegeven \(geweigerd\)/);
    assert.match((await page.locator('section[data-section=results]').textContent()) ?? '', /niets meegestuurd/);
    assert.deepEqual(await checkPage(page, 'foreign-patient-lambert-axe'), []);

    // A mismatch: a clear message on the search page, not a server error.
    await page.getByRole('link', { name: 'Andere buitenlandse patiënt zoeken' }).click();
    await page.getByLabel('Nationaal identificatienummer').fill(lambert.insz);
    await page.getByLabel('Voornaam').fill(lambert.given);
    await page.getByLabel('Achternaam').fill('Dubois');
    await page.getByLabel('Geboortedatum').fill(lambert.birthDate);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Samenvatting opvragen' }).click()]);
    assert.equal(response.status(), 404);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /vond geen patiënt bij dit nummer/);
    await context.close();
  });
});
