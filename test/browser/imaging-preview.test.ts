import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { imagingUnavailable } from '../../src/sandbox/archives/cast-archives.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { startTestSandbox } from '../e2e/sandbox-helpers.ts';
import { checkPage, chromiumAvailable, launchBrowser, screenshot } from './helpers.ts';

// The emergency physician opens De Groot's images in Chromium: the images section lists his CT
// head (Veluwe) and the older X-ray (Leiden); opening the preview shows the rendered frame the
// node fetched from Veluwe's WADO-RS gate (a real PNG from Orthanc, drawn in the page).

const BAKKER = '900001011';
const imaging = imagingUnavailable();
if (imaging) console.warn(`\n!!! imaging browser test SKIPPED: ${imaging} !!!\n`);
const available = chromiumAvailable() && !imaging;

describe('image preview in the clinician viewer (Chromium)', { skip: !available && 'chromium or imaging unavailable', timeout: 400_000 }, () => {
  let sandbox: Sandbox;
  let browser: Browser;
  before(async () => {
    [sandbox, browser] = await Promise.all([startTestSandbox({ overviewDeadlineMs: 20_000 }), launchBrowser()]);
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  test("shows De Groot's CT with a rendered preview", async () => {
    const viewer = sandbox.manifest.users.clinicians.find((c) => c.deziNumber === BAKKER)!.viewer.replace(/\/$/, '');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${viewer}/login`);
    await page.locator(`input[name=account][value="${BAKKER}"]`).check();
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(/\/viewer\/search$/);
    await page.getByLabel('BSN van de patiënt').fill(DE_GROOT.bsn);
    await page.getByLabel('Gegevensuitwisseling').selectOption('beeldbeschikbaarheid');
    await page.getByRole('button', { name: 'Overzicht ophalen' }).click();
    const images = page.locator('section', { has: page.getByRole('heading', { name: 'Beelden' }) });
    await images.waitFor();
    await screenshot(page, 'imaging-preview-overview');
    const row = images.locator('tr', { hasText: 'CT hersenen blanco' });
    const banner = (await page.getByRole('alert').count()) ? (await page.getByRole('alert').allTextContents()).join(' ') : '';
    assert.equal(await row.count(), 1, `the CT row (banner: ${banner}; section: ${await images.textContent()})`);
    assert.match((await row.textContent()) ?? '', /Ziekenhuis Veluwe/);
    assert.match((await images.textContent()) ?? '', /X-buikoverzicht/);
    await row.getByText('Toon voorbeeld').click();
    const img = row.locator('img');
    await img.waitFor();
    await page.waitForFunction((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0, await img.elementHandle(), { timeout: 30_000 });
    const size = await img.evaluate((el) => [(el as HTMLImageElement).naturalWidth, (el as HTMLImageElement).naturalHeight]);
    assert.deepEqual(size, [128, 128], 'the rendered CT slice (128 × 128)');
    await screenshot(page, 'imaging-preview-de-groot');
    const findings = await checkPage(page, 'imaging-preview-de-groot-axe');
    assert.deepEqual(findings, []);
    await context.close();
  });
});
