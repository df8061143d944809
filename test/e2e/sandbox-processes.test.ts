import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { captureLog } from '../../src/kit/testing/capture-log.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import { manifestClinicianVerklaring } from '../../src/sandbox/clinician-login.ts';
import type { Manifest } from '../../src/sandbox/manifest.ts';
import { type ProcessSandbox, startProcessSandbox } from '../../src/sandbox/processes.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { createTestDatabase } from './sandbox-helpers.ts';

// `ldn sandbox --processes` on PostgreSQL: every central part and node its own `ldn serve`
// process under the supervisor. The De Groot overview works; the PRS, the NVI and the node of
// the two Kerkrade holders are killed with SIGKILL while an overview is under way; the supervisor
// starts them again (logged, new pids in the manifest) and the overview works again, over the
// same referrals (the same pseudonyms: a PRS or NVI with new keys would find no one, and a node
// registering again under new pseudonyms would add rows).

const usable = await postgresReachable();
const VELUWE = '90000101';
const BAKKER = '900001011'; // emergency physician, Veluwe

const resources = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as Resource);
const sources = (r: Resource) =>
  ((r as { extension?: Array<{ valueReference?: { display?: string } }> }).extension ?? []).map((e) => e.valueReference?.display).filter(Boolean);

describe('the sandbox with every part its own process (PostgreSQL)', { skip: usable ? false : 'PostgreSQL unreachable: SKIPPED', timeout: 600_000 }, () => {
  const logged = captureLog('sandbox');
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: ProcessSandbox;
  let verklaring: string;
  before(async () => {
    db = await createTestDatabase();
    sandbox = await startProcessSandbox({
      manifestPath: join(mkdtempSync(join(tmpdir(), 'ldn-procs-sandbox-')), 'sandbox.json'),
      portBase: 0,
      databaseUrl: db.url,
      // A functional test, not a timing test: cold processes on a shared machine are slow.
      overviewDeadlineMs: 15_000,
      imaging: false,
      log: logged.log,
      childOutput: 'ignore',
    });
    verklaring = await manifestClinicianVerklaring(sandbox.manifest, BAKKER, sandbox.identities.operator.ca);
  });
  after(async () => {
    await sandbox?.stop();
    await db?.drop();
  });

  const overview = async () => {
    const participant = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!;
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const nodeUrl = new URL(participant.nodeUrl!).origin;
    const tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${nodeUrl}/oauth/token` });
    const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
    try {
      return await client.call<Bundle>(
        `${participant.nodeUrl}/fhir/Patient/$overview?identifier=${encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${DE_GROOT.bsn}`)}&exchange=acute-zorg`,
        { scope: 'acute-zorg', resource: participant.nodeUrl, userAssertion: verklaring, headers: { 'dezi-verklaring': verklaring } },
      );
    } finally {
      await client.close();
      await tokens.close?.();
    }
  };
  /** The story's answer: the contrast allergy from Leiden, medication from both Kerkrade holders. */
  const storyHolds = (b: Bundle): string | null => {
    const all = resources(b);
    const allergy = all.find((x) => x.resourceType === 'AllergyIntolerance' && /contrast/i.test(JSON.stringify(x)));
    if (!allergy || !sources(allergy).includes('Ziekenhuis Leiden')) return 'no contrast allergy from Ziekenhuis Leiden';
    const meds = all.filter((x) => x.resourceType.startsWith('Medication')).flatMap(sources);
    for (const holder of ['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade']) if (!meds.includes(holder)) return `no medication from ${holder}`;
    return null;
  };
  /** Nodes register their referrals every 2 s after start: wait for the whole story. */
  const storyWithin = async (ms: number) => {
    const until = Date.now() + ms;
    let last = '';
    while (Date.now() < until) {
      const r = await overview().catch((err: Error) => ({ status: 0, body: { resourceType: 'Bundle' } as Bundle, text: err.message }));
      if (r.status === 200) {
        const missing = storyHolds(r.body);
        if (!missing) return r.body;
        last = missing;
      } else last = `${r.status} ${'text' in r ? String(r.text).slice(0, 300) : ''}`;
      await new Promise((res) => setTimeout(res, 1000));
    }
    throw new Error(`the De Groot story did not come together: ${last}`);
  };
  const referrals = async () => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      // Observation only: the NVI's own table, read to compare before and after.
      const r = await c.query<{ row: string }>("SELECT encode(subject_hash, 'hex') || ' ' || custodian || ' ' || category AS row FROM nvi.referrals ORDER BY 1");
      return r.rows.map((x) => x.row);
    } finally {
      await c.end();
    }
  };

  it('runs each part and node as its own process, named with its pid in the manifest, and tells the De Groot story', async () => {
    const manifest = JSON.parse(readFileSync(sandbox.manifestPath, 'utf8')) as Manifest;
    for (const part of ['trust', 'directory', 'prs', 'nvi', 'consent', 'transparency', 'identity', 'citizen-identity', 'portal']) {
      const pid = manifest.services[part]?.pid;
      assert.ok(pid && pid !== process.pid, `${part} has its own pid`);
      assert.equal(pid, sandbox.processes.get(part)?.pid);
    }
    for (const n of manifest.nodes) assert.ok(n.pid && n.pid !== process.pid, `node ${n.name} has its own pid`);
    assert.equal(manifest.participants.find((p) => p.ura === VELUWE)?.nodePid, manifest.nodes.find((n) => n.name === 'veluwe')?.pid);
    await storyWithin(90_000);
    // The requesting node's Prometheus figures name the fan-out per holder.
    const scraper = new PartClient({ tls: sandbox.identities.operator, maxRetries: 0 });
    try {
      const metrics = await scraper.call(`${manifest.nodes.find((n) => n.name === 'veluwe')!.url}/metrics`, { deadlineMs: 10_000, headers: { accept: 'text/plain' } });
      assert.equal(metrics.status, 200);
      assert.match(metrics.text, /ldn_overview_holder_calls_total\{[^}]*holder="90000102"[^}]*status="ok"[^}]*\} [1-9]/);
      assert.match(metrics.text, /instance="node-veluwe-0"/, 'each node names itself');
      assert.match(metrics.text, /ldn_overview_holder_duration_seconds_count\{[^}]*holder="90000104"[^}]*\} [1-9]/);
    } finally {
      await scraper.close();
    }
  });

  it('after kill -9 of the PRS, the NVI and a node mid-story, the restarted processes tell the same story over the same referrals', async () => {
    // Every node has registered all its records once the index stops growing (sync every 2 s).
    let before = await referrals();
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 3000));
      const now = await referrals();
      if (now.length === before.length && now.length > 0) break;
      before = now;
    }
    assert.ok(before.length > 0, 'the nodes registered referrals');
    const killed = ['prs', 'nvi', 'node:zuid'];
    const oldPids = new Map(killed.map((k) => [k, sandbox.processes.get(k)!.pid!]));
    const inFlight = overview().catch(() => undefined); // mid-story: an overview under way
    for (const [, pid] of oldPids) process.kill(pid, 'SIGKILL');
    const during = await inFlight;
    // That overview got an answer, or an OperationOutcome naming the central part it lost (502-504),
    // never a crash of the node asking.
    if (during && during.status !== 200) {
      assert.ok([502, 503, 504].includes(during.status), `status ${during.status}`);
      assert.equal((during.body as { resourceType?: string }).resourceType, 'OperationOutcome');
    }

    for (const k of killed) {
      const s = sandbox.processes.get(k)!;
      for (let i = 0; i < 100 && s.pid === oldPids.get(k); i++) await new Promise((r) => setTimeout(r, 100));
      assert.notEqual(s.pid, oldPids.get(k), `${k} was started again`);
      assert.equal(s.restarts, 1);
      await sandbox.waitReady(k);
    }
    for (const k of killed) {
      const line = logged.lines.find((l) => l.event === 'supervisor.restart' && l.part === k.replace(':', '-'));
      assert.equal(line?.signal, 'SIGKILL', `the restart of ${k} is logged`);
    }
    const manifest = JSON.parse(readFileSync(sandbox.manifestPath, 'utf8')) as Manifest;
    assert.equal(manifest.services.prs.pid, sandbox.processes.get('prs')!.pid, 'the manifest names the new PRS pid');
    assert.equal(manifest.nodes.find((n) => n.name === 'zuid')?.pid, sandbox.processes.get('node:zuid')!.pid);

    await storyWithin(60_000);
    // Two referral-sync rounds later nothing was registered again under other pseudonyms.
    await new Promise((r) => setTimeout(r, 4500));
    assert.deepEqual(await referrals(), before, 'the same pseudonymous referrals after the restarts');
  });
});
