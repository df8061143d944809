import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBrowser } from '../../src/identity/testing/browser.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { citizenPortalLogin, clinicianLogin, openOverview, startTestSandbox } from './sandbox-helpers.ts';

// "Who viewed my data", end to end: A. Bakker (Ziekenhuis Veluwe) opens De Groot's overview,
// which leaves an event at Veluwe and one at each holder; De Groot looks at his own data. His
// access page must show one line for Bakker's access (Veluwe looked, the holders' data was read),
// one line for his own look, and every line proven to be in the log. Every holder's event arrives
// (the outbox fetches the PRS token at delivery and retries), so all three holders are named.

const BAKKER = '900001011';

/** The access table as rows of cell texts. */
function accessTable(body: string): string[][] {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
  return [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<br>/g, ' · ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()),
  );
}

/** What the nodes still hold for the log or had refused (for a failure message). */
async function outboxState(sandbox: Sandbox): Promise<string> {
  const lines: string[] = [];
  for (const node of sandbox.nodes) {
    const store = node.runtime()?.ctx.store;
    if (!store) continue;
    const pending = await store.query<{ event_id: string; last_error: string | null }>('SELECT event_id, last_error FROM audit_outbox').catch(() => []);
    const refused = await store.query<{ event_id: string; status: number; error: string }>('SELECT event_id, status, error FROM audit_outbox_rejected').catch(() => []);
    lines.push(`${node.name}: pending ${JSON.stringify(pending)} refused ${JSON.stringify(refused)}`);
  }
  return lines.join('\n');
}

describe("the citizen's access log groups one access and names who looked", { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  before(async () => {
    // A generous fan-out deadline: a holder that gives up is shown as refused, not as read.
    sandbox = await startTestSandbox({ overviewDeadlineMs: 30_000 });
  });
  after(async () => {
    await sandbox?.stop();
  });

  /** Polls the access page until `ready(rows)` holds and every line is proven (outboxes deliver within seconds). */
  async function waitForRows(browser: TestBrowser, base: string, ready: (rows: string[][]) => boolean): Promise<string[][]> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const page = await browser.request(`${base}/access`);
      assert.equal(page.status, 200);
      const rows = accessTable(page.body);
      if (ready(rows) && rows.every((r) => r[5].includes('staat in het logboek'))) return rows;
      if (Date.now() > deadline) assert.fail(`access log incomplete: ${JSON.stringify(rows, null, 1)}\n${await outboxState(sandbox)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const bakkerRows = (rows: string[][]) => rows.filter((r) => r.some((c) => c.includes('A. Bakker')));
  const ownRows = (rows: string[][]) => rows.filter((r) => r[1] === 'Je hebt zelf je gegevens bekeken');

  it("shows Bakker's overview as one line by Ziekenhuis Veluwe that read the holders' data", async () => {
    const clinician = await clinicianLogin(sandbox, BAKKER);
    try {
      assert.equal((await openOverview(clinician.browser, clinician.viewer, DE_GROOT.bsn)).status, 200);
    } finally {
      await clinician.browser.close();
    }
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      // Every holder's event joined to Bakker's line.
      const holders = ['Ziekenhuis Leiden', 'Apotheek Kerkrade', 'Huisartsenpraktijk Kerkrade'];
      const rows = await waitForRows(browser, base, (r) => bakkerRows(r).length === 1 && holders.every((h) => bakkerRows(r)[0][3].includes(h)));
      const [bakker] = bakkerRows(rows);
      assert.match(bakker[1], /^Ziekenhuis Veluwe · A\. Bakker$/);
      assert.ok(holders.every((h) => bakker[3].includes(h)), `holders read: ${bakker[3]}`);
      // Nobody at a holder is shown as the one who looked.
      for (const r of rows) assert.ok(!holders.some((h) => r[1].startsWith(h)), `a holder shown as who looked: ${r.join(' | ')}`);
      assert.equal(rows.length, 1, JSON.stringify(rows));
    } finally {
      await browser.close();
    }
  });

  it('shows his own look at "my data" as his own, with the organisations whose data he saw', async () => {
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const data = await browser.request(`${base}/data`);
      assert.equal(data.status, 200);
      assert.match(data.body, /Ziekenhuis Leiden/, 'his own data was read from the holders');
      const rows = await waitForRows(browser, base, (r) => ownRows(r).length === 1 && /Gegevens van: /.test(ownRows(r)[0][3]));
      const [own] = ownRows(rows);
      assert.equal(own[4], 'Eigen inzage');
      assert.equal(own[2], '', 'no professional role');
    } finally {
      await browser.close();
    }
  });
});
