import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { SYSTEM } from '../../src/kit/identifiers/systems.ts';
import { type HolderResult, mergeOverview } from '../../src/node/integration/merge.ts';
import { clinicianViewerPlugin } from '../../src/portals/clinician/plugin.ts';
import { CLINICIAN_CLAIMS, EXCHANGES, fakeLogin } from '../../src/portals/test-support.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import { checkPage, chromiumAvailable, launchBrowser } from './helpers.ts';

// Issue 14 in Chromium, Dutch and English, at desktop and phone width (390 px): withheld data
// said in its section, a general objection on the patient banner, units and numbers as people
// read them, the holders asked. Screenshots in test-results/, axe with no serious violation.

const available = chromiumAvailable();
const UCUM = 'http://unitsofmeasure.org';

function deGroot(): { bundle: ReturnType<typeof mergeOverview>['bundle']; holders: Array<{ name: string; status: string }> } {
  const patient: Patient = {
    resourceType: 'Patient',
    id: 'p1',
    identifier: [{ system: SYSTEM.bsn, value: DE_GROOT.bsn }],
    name: [{ given: ['Hendrik'], family: 'de Groot' }],
    gender: 'male',
    birthDate: '1974-03-12',
  };
  const bp: Observation = {
    resourceType: 'Observation',
    id: 'bp',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { text: 'Bloeddruk' },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-30T10:00:00Z',
    component: [
      { code: { text: 'systolisch' }, valueQuantity: { value: 152, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
      { code: { text: 'diastolisch' }, valueQuantity: { value: 91, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' } },
    ],
  };
  const creat: Observation = {
    resourceType: 'Observation',
    id: 'cr',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { text: 'Kreatinine' },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2026-11-29T08:00:00Z',
    valueQuantity: { value: 112.5, unit: 'umol/L', system: UCUM, code: 'umol/L' },
    interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'H' }] }],
    referenceRange: [{ low: { value: 60, system: UCUM, code: 'umol/L' }, high: { value: 110, system: UCUM, code: 'umol/L' } }],
  };
  const holders: HolderResult[] = [
    {
      ura: '90000102',
      name: 'Ziekenhuis Leiden',
      endpoint: 'https://leiden.example/fhir',
      status: 'ok',
      resources: [patient, bp, creat],
      elapsedMs: 1,
      withheld: [{ category: 'AllergyIntolerance', reason: 'patient-objection' }],
    },
  ];
  return { bundle: mergeOverview({ bsn: DE_GROOT.bsn, holders }).bundle, holders: [{ name: 'Ziekenhuis Leiden', status: 'ok' }] };
}

/** A general objection: every holder withheld everything; none is named. */
function objector() {
  const categories = ['Patient', 'AllergyIntolerance', 'MedicationUse', 'Condition', 'Alert', 'ObservationLaboratory'];
  const holders: HolderResult[] = [
    {
      ura: '90000103',
      name: 'Huisartsenpraktijk Kerkrade',
      endpoint: 'https://zuid.example/fhir',
      status: 'withheld',
      resources: [],
      elapsedMs: 1,
      withheld: categories.map((category) => ({ category, reason: 'patient-objection' as const })),
    },
  ];
  return { bundle: mergeOverview({ bsn: CITIZENS[1].bsn, holders }).bundle, holders: [] };
}

describe('what a clinician sees is safe, in Chromium', { skip: !available && 'chromium not installed' }, () => {
  let browser: Browser;
  let viewer: FastifyInstance;
  let viewerUrl = '';

  before(async () => {
    viewer = Fastify();
    await viewer.register((scope) =>
      clinicianViewerPlugin(scope, {
        basePath: '/viewer',
        oidc: fakeLogin(CLINICIAN_CLAIMS, 'dezi-900001011', () => `${viewerUrl}/viewer/callback`),
        exchanges: EXCHANGES,
        secureCookies: false,
        servesOrganisation: (ura) => ura === CLINICIAN_CLAIMS.abonnee_nummer,
        overview: async (input) => (input.bsn === DE_GROOT.bsn ? deGroot() : objector()),
      }),
    );
    await viewer.listen({ host: '127.0.0.1', port: 0 });
    viewerUrl = `http://127.0.0.1:${(viewer.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await viewer?.close();
  });

  for (const [lang, width] of [
    ['nl', 1280],
    ['nl', 390],
    ['en', 1280],
    ['en', 390],
  ] as const) {
    test(`${lang} at ${width} px: withheld said per section, patient banner, units, holders asked`, async () => {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      const failed: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${viewerUrl}/viewer/?lang=${lang}`);
      await page.getByRole('link', { name: lang === 'nl' ? 'Inloggen met Dezi' : 'Log in with Dezi' }).click();
      await page.waitForURL(/\/viewer\/search$/);
      // The role of the logged-in professional is in the header.
      await page.getByText(/A\. Bakker, Spoedeisende hulp arts, Ziekenhuis Veluwe/).waitFor();
      await page.getByLabel(lang === 'nl' ? 'BSN van de patiënt' : "Patient's BSN").fill(DE_GROOT.bsn);
      await page.getByRole('button', { name: lang === 'nl' ? 'Overzicht ophalen' : 'Get overview' }).click();
      const allergies = page.locator('section[data-section="allergies"]');
      await allergies.getByText(lang === 'nl' ? 'Niet gedeeld op verzoek van de patiënt.' : "Not shared at the patient's request.").waitFor();
      assert.equal(await allergies.getByText(lang === 'nl' ? 'Geen gegevens.' : 'No data.').count(), 0);
      const card = page.locator('section.patient-card');
      assert.match(await card.innerText(), lang === 'nl' ? /Hendrik de Groot[\s\S]*12 mrt 1974 \(\d+ jaar\)[\s\S]*man[\s\S]*\*{5}0010/ : /Hendrik de Groot[\s\S]*12 Mar 1974 \(\d+ years\)[\s\S]*male[\s\S]*\*{5}0010/);
      const results = await page.locator('section[data-section="results"]').innerText();
      assert.match(results, lang === 'nl' ? /152 mmHg \/ 91 mmHg/ : /152 mmHg \/ 91 mmHg/);
      assert.match(results, lang === 'nl' ? /112,5 μmol\/L · hoog · ref\. 60–110 μmol\/L/ : /112\.5 μmol\/L · high · ref\. 60–110 μmol\/L/);
      assert.match(results, lang === 'nl' ? /Gemeten op/ : /Measured on/);
      assert.match(await page.locator('section.holders').innerText(), lang === 'nl' ? /1 van 1 zorgaanbieders antwoordden/ : /1 of 1 care providers answered/);
      // Nothing wider than the phone: the page does not scroll sideways (tables scroll inside their wrapper).
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow} px`);
      assert.deepEqual(await checkPage(page, `safety-overview-${lang}-${width}`), []);

      // A general objection: the banner and every section say why; no holder is named.
      await page.getByRole('link', { name: lang === 'nl' ? 'Andere patiënt zoeken' : 'Find another patient' }).click();
      await page.getByLabel(lang === 'nl' ? 'BSN van de patiënt' : "Patient's BSN").fill(CITIZENS[1].bsn);
      await page.getByRole('button', { name: lang === 'nl' ? 'Overzicht ophalen' : 'Get overview' }).click();
      await page.locator('section.patient-card').getByText(lang === 'nl' ? 'Niet gedeeld op verzoek van de patiënt.' : "Not shared at the patient's request.").waitFor();
      for (const group of ['allergies', 'medication', 'problems', 'results', 'alerts']) {
        assert.match(await page.locator(`section[data-section="${group}"]`).innerText(), lang === 'nl' ? /Niet gedeeld op verzoek van de patiënt/ : /Not shared at the patient's request/);
      }
      assert.doesNotMatch(await page.content(), /Huisartsenpraktijk Kerkrade/);
      assert.deepEqual(await checkPage(page, `safety-objection-${lang}-${width}`), []);
      // No /favicon.ico or other failed request on the way.
      assert.deepEqual(failed, []);
      await context.close();
    });
  }

  test('a professional of another organisation gets a clear refusal at login', async () => {
    const other = Fastify();
    let url = '';
    await other.register((scope) =>
      clinicianViewerPlugin(scope, {
        basePath: '/viewer',
        oidc: fakeLogin({ ...CLINICIAN_CLAIMS, abonnee_nummer: '90000102', abonnee_naam: 'Ziekenhuis Leiden' }, 'dezi-x', () => `${url}/viewer/callback`),
        exchanges: EXCHANGES,
        secureCookies: false,
        servesOrganisation: (ura) => ura === '90000101',
        overview: async () => deGroot(),
      }),
    );
    await other.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(other.server.address() as AddressInfo).port}`;
    const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
    const page = await context.newPage();
    try {
      await page.goto(`${url}/viewer/`);
      await page.getByRole('link', { name: 'Inloggen met Dezi' }).click();
      await page.getByText('U bent ingelogd voor Ziekenhuis Leiden.', { exact: false }).waitFor();
      assert.deepEqual(await checkPage(page, 'safety-other-organisation'), []);
    } finally {
      await context.close();
      await other.close();
    }
  });
});
