import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { citizenPortalLogin, clinicianLogin, openOverview, startTestSandbox } from './sandbox-helpers.ts';

// At-least-once to the citizen's access log: while the PRS cannot be reached by the nodes'
// outboxes, A. Bakker opens De Groot's overview. No PRS token can be had for the transparency
// part, so every node keeps its copy queued with the BSN sealed; once the PRS is back, the copies
// are delivered with tokens fetched then (hours late would do too: the part accepts a token valid
// at arrival within its grace), and De Groot sees Bakker's access with every holder it read.
// Throughout, no node's audit tables hold his BSN in clear (nor base64 or hex of it).

const BAKKER = '900001011';
const HOLDERS = ['Ziekenhuis Leiden', 'Apotheek Kerkrade', 'Huisartsenpraktijk Kerkrade'];

/** A local port nothing listens on: calls to it are refused at once, as to a PRS that is down. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as import('node:net').AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function accessTable(body: string): string[][] {
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
  return [...tbody.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<br>/g, ' · ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()),
  );
}

interface OutboxRow {
  node: string;
  event_id: string;
  sealed: boolean;
  attempts: number;
  last_error: string | null;
}

async function outboxRows(sandbox: Sandbox): Promise<OutboxRow[]> {
  const rows: OutboxRow[] = [];
  for (const node of sandbox.nodes) {
    const store = node.runtime()?.ctx.store;
    if (!store) continue;
    const found = await store.query<Omit<OutboxRow, 'node'>>('SELECT event_id, sealed_patient IS NOT NULL AS sealed, attempts, last_error FROM audit_outbox');
    rows.push(...found.map((r) => ({ node: node.name, ...r })));
  }
  return rows;
}

/** Every row of every node's audit tables, as text, that holds the BSN in clear, base64 or hex. */
async function bsnHits(sandbox: Sandbox, bsn: string): Promise<string[]> {
  const forms = [bsn, Buffer.from(bsn).toString('base64'), Buffer.from(bsn).toString('base64url'), Buffer.from(bsn).toString('hex')];
  const hits: string[] = [];
  for (const node of sandbox.nodes) {
    const store = node.runtime()?.ctx.store;
    if (!store) continue;
    for (const table of ['audit_log', 'audit_chain_head', 'audit_checkpoint', 'audit_outbox', 'audit_outbox_rejected']) {
      const rows = await store.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t`);
      for (const { row } of rows) if (forms.some((f) => row.includes(f))) hits.push(`${node.name}.${table}: ${row.slice(0, 200)}`);
    }
  }
  return hits;
}

describe('an access while the PRS is down still reaches the citizen\'s log', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let prsUrl: string;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: 30_000 });
    prsUrl = sandbox.network.url('prs');
  });
  after(async () => {
    if (prsUrl) sandbox?.network.set('prs', prsUrl);
    await sandbox?.stop();
  });

  it('queues the accesses with the BSN sealed, then delivers them once the PRS is back', async () => {
    const clinician = await clinicianLogin(sandbox, BAKKER);
    // From here the nodes' PRS calls for the transparency token are refused (localisation keeps
    // the PRS address its client was made with, so the overview itself still works).
    sandbox.network.set('prs', `https://127.0.0.1:${await closedPort()}`);
    try {
      assert.equal((await openOverview(clinician.browser, clinician.viewer, DE_GROOT.bsn)).status, 200);
    } finally {
      await clinician.browser.close();
    }

    // Veluwe's event and the holders' wait, sealed, and their delivery has been tried and failed.
    const deadline = Date.now() + 30_000;
    let queued: OutboxRow[] = [];
    for (;;) {
      queued = await outboxRows(sandbox);
      if (queued.length >= 1 + HOLDERS.length && queued.every((r) => r.attempts > 0)) break;
      if (Date.now() > deadline) assert.fail(`expected the accesses queued and tried: ${JSON.stringify(queued)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(queued.every((r) => r.sealed), JSON.stringify(queued));
    assert.ok(queued.every((r) => r.last_error), 'delivery was tried while the PRS was down');
    assert.deepEqual(await bsnHits(sandbox, DE_GROOT.bsn), [], 'no BSN in the node audit tables while queued');

    sandbox.network.set('prs', prsUrl);
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const until = Date.now() + 120_000;
      for (;;) {
        const page = await browser.request(`${base}/access`);
        assert.equal(page.status, 200);
        const bakker = accessTable(page.body).filter((r) => r.some((c) => c.includes('A. Bakker')));
        if (bakker.length === 1 && HOLDERS.every((h) => bakker[0][3].includes(h)) && bakker[0][5].includes('staat in het logboek')) {
          assert.match(bakker[0][1], /^Ziekenhuis Veluwe · A\. Bakker$/);
          break;
        }
        if (Date.now() > until) assert.fail(`access log incomplete: ${JSON.stringify(bakker)}\noutbox: ${JSON.stringify(await outboxRows(sandbox))}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await browser.close();
    }
    const left = (await outboxRows(sandbox)).filter((r) => queued.some((q) => q.event_id === r.event_id));
    assert.deepEqual(left, [], 'the delivered rows (and their sealed BSNs) are gone');
    assert.deepEqual(await bsnHits(sandbox, DE_GROOT.bsn), [], 'no BSN in the node audit tables after delivery');
  });
});
