import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { consentResource, emptyScope } from '../../src/consent/fhir.ts';
import { ConsentRegistry } from '../../src/consent/registry.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import type { TlsIdentity } from '../../src/kit/part.ts';
import { generateResearchPopulation } from '../../src/node/ehr-sim/research-population.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { scanWorkspace } from '../../src/secondary-use/scanner.ts';
import { TIA_STATIN_APPLICATION } from '../../src/secondary-use/test-fixtures.ts';
import { chromiumAvailable, launchBrowser, screenshot } from '../browser/helpers.ts';
import { citizenPortalLogin, startTestSandbox } from './sandbox-helpers.ts';

// The sandbox story of issue 22: a university asks for TIA patients on statins; the HDAB grants;
// the holders (cast organisations with the EHR simulator's research population) deliver through
// Bulk Data; one citizen who objected is absent; the researcher gets the count per age band with
// small cells suppressed; no BSN, name or birth date in the workspace. The holders' $export is
// built on branch bulk-export: without it on this tree the story cannot run, and says so.

const PATIENTS = 600;
const holdersExport = existsSync(new URL('../../src/node/bulk-export/routes.ts', import.meta.url));
const AGE_BANDS = `SELECT p.id AS patient, CASE WHEN p.age < 70 THEN '<70' ELSE '70+' END AS age_band
FROM patient p WHERE p.id IN (SELECT patient FROM condition WHERE code = '266257000') AND p.id IN (SELECT patient FROM medication WHERE code LIKE 'C10%')`;
const COHORT_SIZE = `SELECT p.id AS patient, 'all' AS cohort FROM patient p
WHERE p.id IN (SELECT patient FROM condition WHERE code = '266257000') AND p.id IN (SELECT patient FROM medication WHERE code LIKE 'C10%')`;

describe('secondary use: the sandbox story (HDAB, permits, holders, workspace)', { skip: !holdersExport && "needs the holders' Bulk Data $export (branch bulk-export)" }, () => {
  let sandbox: Sandbox;
  const clients: PartClient[] = [];
  let university: PartClient;
  let operator: PartClient;
  let hdabUrl: string;
  let usedPermit = '';
  let objectorBsn = '';
  const adult = (c: (typeof population)[number]) => {
    const p = c.resources.find((r): r is Patient => r.resourceType === 'Patient');
    return !!p?.birthDate && Date.now() - Date.parse(p.birthDate) > 19 * 365.25 * 86_400_000;
  };
  const population = [...generateResearchPopulation({ patients: PATIENTS, organizations: 1, seed: 'sandbox-research', bsnBase: 7_000_000 })];

  const client = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0, defaultDeadlineMs: 120_000 });
    clients.push(c);
    return c;
  };
  const permitFor = async (): Promise<string> => {
    const end = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
    const applied = await university.call<{ id: string }>(`${hdabUrl}/permits`, { method: 'POST', body: { ...TIA_STATIN_APPLICATION, periodEnd: end }, headers: { 'content-type': 'application/json' } });
    assert.equal(applied.status, 201, applied.text);
    const id = applied.body.id;
    const granted = await operator.call(`${hdabUrl}/permits/${id}/decision`, { method: 'POST', body: { decision: 'grant', reason: 'wetenschappelijk onderzoek, grondslag EHDS' }, headers: { 'content-type': 'application/json' } });
    assert.equal(granted.status, 200, granted.text);
    const started = await operator.call(`${hdabUrl}/permits/${id}/extraction`, { method: 'POST' });
    assert.equal(started.status, 202, started.text);
    await sandbox.hdab.part.runtime()?.extraction(id);
    const permit = await university.json<{ workspace: string; extraction: { holders: Array<{ status: string; reason?: string }> } }>(`${hdabUrl}/permits/${id}`);
    assert.equal(permit.workspace, 'ready', JSON.stringify(permit));
    assert.ok(permit.extraction.holders.some((h) => h.status === 'delivered'), JSON.stringify(permit.extraction.holders));
    assert.ok(permit.extraction.holders.every((h) => h.status === 'delivered'), JSON.stringify(permit.extraction.holders));
    return id;
  };
  const query = (id: string, sql: string) =>
    university.call<{ released: Array<{ dims: Record<string, string>; n: number }>; suppressed: number }>(`${hdabUrl}/permits/${id}/query`, {
      method: 'POST',
      body: { sql },
      headers: { 'content-type': 'application/json' },
    });

  before(async () => {
    sandbox = await startTestSandbox({ researchPopulation: PATIENTS });
    const m = sandbox.manifest.secondaryUse!;
    hdabUrl = m.hdab.url;
    const ca = readFileSync(sandbox.manifest.ca.cert, 'utf8');
    const uni = m.researchOrganisations[0];
    university = client({ cert: readFileSync(uni.cert, 'utf8'), key: readFileSync(uni.key, 'utf8'), ca });
    operator = client(sandbox.identities.operator);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await sandbox?.stop();
  });

  it('a university gets the count per age band; a citizen who objected is absent from the next extraction', async () => {
    const before = await permitFor();
    const size = async (id: string) => {
      const r = await query(id, COHORT_SIZE);
      assert.equal(r.status, 200, r.text);
      return r.body.released[0].n;
    };
    const n1 = await size(before);
    usedPermit = before;
    assert.ok(n1 >= 10, `cohort of ${n1}`);

    // One citizen in the cohort objects to secondary use (a research Consent of its own kind).
    const objector = population.find((c) => JSON.stringify(c.resources).includes('266257000') && /"C10AA\d\d"/.test(JSON.stringify(c.resources)))!;
    objectorBsn = objector.bsn;
    await new ConsentRegistry(sandbox.central.consent.store).create(
      consentResource({ ...emptyScope(), bsn: objector.bsn, status: 'active', provision: 'deny', purpose: 'HRESCH' }),
      { kind: 'citizen' },
    );
    const afterObjection = await permitFor();
    assert.equal(await size(afterObjection), n1 - 1);

    const bands = await query(afterObjection, AGE_BANDS);
    assert.equal(bands.status, 200, bands.text);
    // Every cell released counts at least 10 patients; the rest are withheld, never shown as none.
    for (const cell of bands.body.released) assert.ok(cell.n >= 10);
    assert.ok(bands.body.released.length + bands.body.suppressed >= 1);
    // A listing of patients releases only small cells: refused.
    assert.equal((await query(afterObjection, 'SELECT id AS patient, id AS who FROM patient')).status, 422);
  });

  it('a citizen in the cohort sees in her access log which permit used her data, and nothing of the result', async () => {
    const id = usedPermit;
    assert.ok(id, 'the story ran first');
    const member = population.find((c) => c.bsn !== objectorBsn && JSON.stringify(c.resources).includes('266257000') && /"C10AA\d\d"/.test(JSON.stringify(c.resources)) && adult(c))!;
    const { browser, base } = await citizenPortalLogin(sandbox, member.bsn);
    try {
      const deadline = Date.now() + 60_000;
      let body = '';
      for (;;) {
        const page = await browser.request(`${base}/access`);
        assert.equal(page.status, 200);
        body = page.body;
        if (body.includes(`data-research-use="${id}"`) || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.match(body, new RegExp(`data-research-use="${id}"`), 'a "used for research" row for the permit');
      assert.match(body, /Gebruikt voor onderzoek/);
      assert.match(body, /Universiteit Utrecht/);
      assert.match(body, /Secundaire preventie na TIA/);
      assert.doesNotMatch(body, /released|suppressed/);
    } finally {
      await browser.close();
    }
  });

  it('in Chromium: a researcher applies in the portal, the operator grants it with a reason; the researcher sees a released count and the suppressed cells said', { skip: !chromiumAvailable() && 'chromium not installed' }, async () => {
    assert.ok(usedPermit, 'the story ran first (its workspace is ready)');
    const portal = sandbox.manifest.portal!.url.replace(/\/$/, '');
    const browser = await launchBrowser();
    try {
      const researcher = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      await researcher.goto(`${portal}/research/login`);
      await researcher.locator('input[name=account][value="900009601"]').check();
      await researcher.getByRole('button', { name: 'Inloggen' }).click();
      await researcher.waitForURL(/\/research\/permits$/);
      await researcher.goto(`${portal}/research/apply`);
      await researcher.getByLabel('Doel').fill('Beloop na TIA per leeftijdsgroep (browser)');
      await researcher.getByLabel('Grondslag').fill('EHDS art. 53 lid 1 onder e');
      for (const c of ['categories-Patient', 'categories-Condition', 'categories-MedicationUse', 'types-Patient', 'types-Condition', 'types-MedicationStatement']) await researcher.locator(`#${c}`).check();
      await researcher.getByLabel('Aandoeningen (SNOMED-codes, komma-gescheiden)').fill('266257000');
      await researcher.getByRole('button', { name: 'Aanvraag indienen' }).click();
      await researcher.waitForURL(/\/research\/permits\/[^/]+$/);
      const applied = researcher.url().split('/').at(-1)!;
      assert.match(await researcher.content(), /data-permit-status="applied"/);

      const operator = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
      await operator.goto(`${portal}/operator/`);
      await operator.getByRole('button', { name: 'Inloggen' }).click();
      await operator.goto(`${portal}/operator/permits`);
      await operator.getByRole('link', { name: 'Beloop na TIA per leeftijdsgroep (browser)' }).click();
      await operator.getByText('266257000').first().waitFor();
      await operator.getByLabel('Reden').fill('wetenschappelijk onderzoek, EHDS art. 53');
      await operator.getByRole('button', { name: 'Verlenen' }).click();
      await operator.locator('[data-permit-status="granted"]').first().waitFor();
      // The story's extracted permit: every holder's part shown.
      await operator.goto(`${portal}/operator/permits/${usedPermit}`);
      assert.match(await operator.content(), /data-workspace="ready"/);
      assert.ok((await operator.locator('tr[data-holder]').count()) >= 1);
      await screenshot(operator, 'hdab-operator-permit');

      await researcher.goto(`${portal}/research/permits/${applied}`);
      assert.match(await researcher.content(), /data-permit-status="granted"/, 'the researcher sees the grant');
      await researcher.goto(`${portal}/research/permits/${usedPermit}`);
      const ask = async (sql: string) => {
        await researcher.getByRole('textbox', { name: 'SQL' }).fill(sql);
        await Promise.all([researcher.waitForResponse((r) => r.url().endsWith('/query') && r.request().method() === 'POST'), researcher.getByRole('button', { name: 'Uitvoeren' }).click()]);
        await researcher.waitForLoadState('load');
        await researcher.locator('[data-suppressed-count]').waitFor();
        return {
          counts: (await researcher.locator('td[data-n]').allTextContents()).map(Number),
          suppressed: Number(await researcher.locator('[data-suppressed-count]').getAttribute('data-suppressed-count')),
          text: await researcher.content(),
        };
      };
      // The cohort's size: one released count; no cell suppressed, and that is said too.
      const size = await ask(COHORT_SIZE);
      assert.equal(size.counts.length, 1);
      assert.ok(size.counts[0] >= 10, `released count ${size.counts[0]}`);
      assert.match(size.text, /Geen groepen weggelaten \(drempel 10\)/);
      // Per age band: only cells of at least 10 shown; any smaller ones said to be left out.
      const bands = await ask(AGE_BANDS);
      for (const n of bands.counts) assert.ok(n >= 10, `released cell of ${n}`);
      if (bands.suppressed) assert.match(bands.text, new RegExp(`${bands.suppressed} groep\\(en\\) met minder dan 10 patiënten zijn weggelaten`));
      await screenshot(researcher, 'hdab-researcher-release');
    } finally {
      await browser.close();
    }
  });

  it('keeps no BSN, name or exact birth date in any workspace file', async () => {
    const patients = population.flatMap((c) => c.resources.filter((r): r is Patient => r.resourceType === 'Patient'));
    const root = sandbox.hdab.part.runtime()!.workspaces.dirOf('x').replace(/\/x$/, '');
    const findings = await scanWorkspace(root, {
      bsns: population.map((c) => c.bsn),
      names: [...new Set(patients.flatMap((p) => (p.name ?? []).map((n) => n.family ?? '')).filter((f) => f.length > 3))],
      birthDates: [...new Set(patients.map((p) => p.birthDate ?? '').filter(Boolean))],
    });
    assert.deepEqual(findings, []);
  });
});
