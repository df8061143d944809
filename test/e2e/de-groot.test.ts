import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import { clinicianLogin, openOverview, startTestSandbox } from './sandbox-helpers.ts';

// The acceptance story (design §2): Mr De Groot has a TIA on the Veluwe; the emergency physician
// at Ziekenhuis Veluwe logs in, opens him by BSN and sees his contrast allergy from Leiden and
// his medication from the GP and pharmacy in Kerkrade, each with its source.

const EMERGENCY_PHYSICIAN = '900001011'; // A. Bakker, SEH-arts, Ziekenhuis Veluwe

const backends = (await postgresReachable()) ? ['pglite', 'postgres'] : ['pglite'];

for (const backend of backends)
  describe(`De Groot: the emergency physician opens his overview (${backend})`, { timeout: 180_000 }, () => {
    let sandbox: Sandbox;
    before(async () => {
      sandbox = await startTestSandbox({ postgres: backend === 'postgres' });
    });
    after(async () => {
      await sandbox?.stop();
    });

    it('shows the contrast allergy from Leiden and medication from both Kerkrade holders', async () => {
      const { browser, viewer } = await clinicianLogin(sandbox, EMERGENCY_PHYSICIAN);
      try {
        // She is offered only exchanges her role and her hospital may request.
        const search = await browser.request(`${viewer}/search`);
        const offered = [...search.body.matchAll(/<option value="([a-z-]+)"/g)].map((m) => m[1]);
        assert.ok(offered.includes('acute-zorg'), offered.join());
        assert.ok(!offered.includes('citizen-access') && !offered.includes('eoverdracht'), offered.join());
        const page = await openOverview(browser, viewer, DE_GROOT.bsn);
        if (page.status !== 200) (await import('node:fs')).writeFileSync('/tmp/page.html', page.body);
        assert.equal(page.status, 200);
        assert.match(page.body, /contrast/i);
        assert.match(page.body, /Ziekenhuis Leiden/);
        assert.match(page.body, /Apotheek Kerkrade/);
        assert.match(page.body, /Huisartsenpraktijk Kerkrade/);
        assert.match(page.body, /atorvastatine|atorvastatin/i);
      } finally {
        await browser.close();
      }
    });
  });
