import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { deGrootDischarge, deGrootPrescription, GP, PHARMACY, THUISZORG, VELUWE } from '../../src/node/ehr-sim/workflow-stories.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { recordInEhr, workflowCaller } from '../e2e/notified-pull-helpers.ts';
import { startTestSandbox } from '../e2e/sandbox-helpers.ts';
import { checkPage, chromiumAvailable, launchBrowser } from './helpers.ts';

// The receiving professionals' screens (notified pull) in Debian's Chromium against the real
// sandbox: the home-care nurse accepts and opens De Groot's nursing handover, then completes it;
// the pharmacist accepts the GP's prescription and dispenses it.

const available = chromiumAvailable();
const JANSSEN = '900001051'; // nurse, Thuiszorg Limburg
const PETERS = '900001041'; // pharmacist, Apotheek Kerkrade

describe('handover screens for the nurse and the pharmacist in Chromium', { skip: !available && 'chromium not installed', timeout: 600_000 }, () => {
  let sandbox: Sandbox;
  let browser: Browser;
  before(async () => {
    [sandbox, browser] = await Promise.all([startTestSandbox({ overviewDeadlineMs: 30_000 }), launchBrowser()]);
    // The hospital's nurse and the GP hand over through their own systems (the API).
    const discharge = deGrootDischarge();
    await recordInEhr(sandbox, VELUWE, discharge.resources);
    const hospital = await workflowCaller(sandbox, VELUWE, '900001013', 'eoverdracht');
    const prescription = deGrootPrescription();
    await recordInEhr(sandbox, GP, prescription.resources);
    const gp = await workflowCaller(sandbox, GP, '900001031', 'medicatieoverdracht');
    try {
      const a = await hospital.call('POST', '/workflow/handovers', { exchange: 'eoverdracht', receiver: THUISZORG, patient: DE_GROOT.bsn, inputs: discharge.inputs });
      assert.equal(a.status, 201, JSON.stringify(a.body));
      const b = await gp.call('POST', '/workflow/handovers', { exchange: 'medicatieoverdracht', receiver: PHARMACY, patient: DE_GROOT.bsn, inputs: prescription.inputs });
      assert.equal(b.status, 201, JSON.stringify(b.body));
    } finally {
      await hospital.close();
      await gp.close();
    }
  });
  after(async () => {
    await browser?.close();
    await sandbox?.stop();
  });

  /** Logs a cast professional in to her organisation's viewer, as she would (the pages' CSP in force). */
  async function login(deziNumber: string): Promise<{ page: Page; viewer: string }> {
    const viewer = sandbox.manifest.users.clinicians.find((c) => c.deziNumber === deziNumber)!.viewer.replace(/\/$/, '');
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${viewer}/login`);
    await page.locator(`input[name=account][value="${deziNumber}"]`).check();
    await page.getByRole('button', { name: 'Inloggen' }).click();
    await page.waitForURL(/\/viewer\/search$/);
    return { page, viewer };
  }

  test('the home-care nurse sees the notification, accepts, opens the handover with its sources, completes', async () => {
    const { page, viewer } = await login(JANSSEN);
    // The patient search page links to the handovers, in English too.
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Find a patient' }).waitFor();
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Handovers' }).getAttribute('href'), new URL(`${viewer}/overdrachten`).pathname);
    await page.getByRole('link', { name: 'Nederlands' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patiënt zoeken' }).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Overdrachten' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overdrachten aan Thuiszorg Limburg' }).waitFor();
    const row = page.locator('tbody tr', { hasText: 'Ziekenhuis Veluwe' });
    assert.equal(await row.count(), 1);
    assert.match((await row.textContent()) ?? '', /Verpleegkundige overdracht.*Nieuw/s);
    assert.deepEqual(await checkPage(page, 'handover-1-nurse-inbox'), []);
    await row.getByRole('link', { name: 'Bekijken' }).click();
    await page.getByRole('button', { name: 'Accepteren' }).click();
    await page.getByText('Geaccepteerd').first().waitFor();
    await page.getByRole('button', { name: 'Overdracht openen' }).click();
    await page.getByRole('heading', { name: 'Inhoud van de overdracht' }).waitFor();
    const content = (await page.locator('section').last().textContent()) ?? '';
    for (const expected of ['Wondzorg', 'TIA', 'Decubitus', 'CLOPIDOGREL', 'Wijkverpleging Kerkrade-West', 'Ziekenhuis Veluwe']) assert.match(content, new RegExp(expected), expected);
    assert.deepEqual(await checkPage(page, 'handover-2-nurse-opened'), []);
    await page.getByRole('button', { name: 'Afronden' }).click();
    await page.getByText('Afgerond').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Overdracht openen' }).count(), 0, 'nothing left to open after completion');
    await page.goto(`${viewer}/overdrachten`);
    assert.match((await page.locator('tbody tr').first().textContent()) ?? '', /Afgerond/);
    await page.context().close();
  });

  test('the pharmacist accepts the prescription and dispenses it', async () => {
    const { page, viewer } = await login(PETERS);
    await page.goto(`${viewer}/overdrachten`);
    const row = page.locator('tbody tr', { hasText: 'Huisartsenpraktijk Kerkrade' });
    assert.equal(await row.count(), 1);
    await row.getByRole('link', { name: 'Bekijken' }).click();
    await page.getByRole('button', { name: 'Accepteren' }).click();
    await page.getByRole('button', { name: 'Overdracht openen' }).click();
    const content = (await page.locator('section').last().textContent()) ?? '';
    assert.match(content, /CLOPIDOGREL TABLET 75MG \(Medicatieafspraak\)/);
    assert.match(content, /Verstrekkingsverzoek/);
    await page.getByRole('button', { name: 'Verstrekken en afronden' }).click();
    await page.getByText(/Verstrekt: CLOPIDOGREL/).waitFor();
    assert.match((await page.locator('dl').textContent()) ?? '', /Afgerond/);
    assert.deepEqual(await checkPage(page, 'handover-3-pharmacist-dispensed'), []);
    await page.context().close();
  });
});
