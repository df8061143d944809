import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { AuditEvent } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import { CROSS_BORDER_SYSTEM } from '../../src/ncpeh/audit.ts';
import { ORIGIN_TAG_SYSTEM, OUTGOING_SUMMARY_PATH } from '../../src/ncpeh/contract.ts';
import { captureLog } from '../../src/kit/testing/capture-log.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import { manifestClinicianVerklaring } from '../../src/sandbox/clinician-login.ts';
import type { Manifest } from '../../src/sandbox/manifest.ts';
import { type ProcessSandbox, SECOND_COUNTRY, startProcessSandbox } from '../../src/sandbox/processes.ts';
import { TIA_STATIN_APPLICATION } from '../../src/secondary-use/test-fixtures.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { askSummary, DE_GROOT_DEMOGRAPHICS } from './cross-border-helpers.ts';
import { citizenPortalLogin, createTestDatabase } from './sandbox-helpers.ts';

// `ldn sandbox --processes` on PostgreSQL: every central part and node its own `ldn serve`
// process under the supervisor. The De Groot overview works; the PRS, the NVI and the node of
// the two Kerkrade holders are killed with SIGKILL while an overview is under way; the supervisor
// starts them again (logged, new pids in the manifest) and the overview works again, over the
// same referrals (the same pseudonyms: a PRS or NVI with new keys would find no one, and a node
// registering again under new pseudonyms would add rows).
// Cross-border and secondary use as processes too: a Belgian doctor gets De Groot's summary through
// Belgium's contact point (the sandbox's second country, its own process) and NCPeH-NL (`ldn serve
// ncpeh`); NCPeH-NL is killed with SIGKILL, started again, and answers again under the same patient
// key (the same pseudonym in its audit trail); a university's permit application is listed by the
// HDAB (`ldn serve hdab`).

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
    const restarts = logged.lines.filter((l) => l.event === 'supervisor.restart').slice(-3);
    throw new Error(`the De Groot story did not come together: ${last}; last restarts: ${JSON.stringify(restarts)}`);
  };
  /** Observation only: a part's own table, read to compare before and after. */
  const observe = async <T extends Record<string, unknown>>(sql: string) => {
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (await c.query<T>(sql)).rows;
    } finally {
      await c.end();
    }
  };
  const referrals = async () =>
    (await observe<{ row: string }>("SELECT encode(subject_hash, 'hex') || ' ' || custodian || ' ' || category AS row FROM nvi.referrals ORDER BY 1")).map((x) => x.row);
  /** NCPeH-NL's audit trail: the keyed pseudonym of the patient of each answered summary, oldest first. */
  const answeredSummaryPatients = async () =>
    (await observe<{ entry: string }>('SELECT entry FROM ncpeh.audit_log ORDER BY seq'))
      .map((r) => (JSON.parse(r.entry) as { event: AuditEvent }).event)
      .filter((e) => e.subtype?.[0].code === 'patient-summary' && e.outcome === '0')
      .map((e) => e.entity?.find((x) => x.what?.identifier?.system === `${CROSS_BORDER_SYSTEM}/patient`)?.what?.identifier?.value);

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
      assert.equal(s.restarts, 1, `${k} was started again once`);
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
  it("a Belgian doctor gets De Groot's summary through Belgium's contact point and NCPeH-NL, each its own process; after kill -9 NCPeH-NL answers again with the same keys", async () => {
    let manifest = JSON.parse(readFileSync(sandbox.manifestPath, 'utf8')) as Manifest;
    const pids = { ncpeh: manifest.services.ncpeh?.pid, hdab: manifest.services.hdab?.pid, [SECOND_COUNTRY]: manifest.crossBorder?.belgium.pid };
    for (const [name, pid] of Object.entries(pids)) {
      assert.ok(pid && pid !== process.pid, `${name} has its own pid in the manifest`);
      assert.equal(pid, sandbox.processes.get(name)?.pid);
    }
    assert.equal(new Set([...sandbox.processes.values()].map((s) => s.pid)).size, sandbox.processes.size, 'one process each');

    const summary = async () => {
      const r = await askSummary<Bundle>(sandbox, DE_GROOT_DEMOGRAPHICS);
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 600));
      assert.equal(r.body.type, 'document');
      assert.match(JSON.stringify(r.body), /AllergyIntolerance/);
      assert.match(JSON.stringify(r.body), /Ziekenhuis Leiden/, 'each item keeps its Dutch source');
    };
    await summary();
    const before = await answeredSummaryPatients();
    assert.ok(before.length >= 1 && before.every(Boolean), 'NCPeH-NL audited the answered summary under a patient pseudonym');

    const ncpeh = sandbox.processes.get('ncpeh')!;
    const oldPid = ncpeh.pid!;
    process.kill(oldPid, 'SIGKILL');
    for (let i = 0; i < 100 && ncpeh.pid === oldPid; i++) await new Promise((r) => setTimeout(r, 100));
    assert.notEqual(ncpeh.pid, oldPid, 'NCPeH-NL was started again');
    assert.equal(ncpeh.restarts, 1);
    await sandbox.waitReady('ncpeh');
    assert.equal(logged.lines.find((l) => l.event === 'supervisor.restart' && l.part === 'ncpeh')?.signal, 'SIGKILL', 'the restart is logged');
    manifest = JSON.parse(readFileSync(sandbox.manifestPath, 'utf8')) as Manifest;
    assert.equal(manifest.services.ncpeh.pid, ncpeh.pid, 'the manifest names the new pid');

    await summary();
    const after = await answeredSummaryPatients();
    assert.ok(after.length > before.length, 'the restarted NCPeH-NL audited the new answer');
    // The patient key was opened from its store, not made anew: the same patient, the same pseudonym.
    assert.equal(after.at(-1), before.at(-1));
  });

  it('the HDAB, its own process, lists the permit a research organisation applied for', async () => {
    const m = sandbox.manifest.secondaryUse!;
    const ca = readFileSync(sandbox.manifest.ca.cert, 'utf8');
    const uni = m.researchOrganisations[0];
    const university = new PartClient({ tls: { cert: readFileSync(uni.cert, 'utf8'), key: readFileSync(uni.key, 'utf8'), ca }, maxRetries: 0, defaultDeadlineMs: 30_000 });
    const operator = new PartClient({ tls: sandbox.identities.operator, maxRetries: 0, defaultDeadlineMs: 30_000 });
    try {
      const applied = await university.call<{ id: string; status: string }>(`${m.hdab.url}/permits`, { method: 'POST', body: TIA_STATIN_APPLICATION, headers: { 'content-type': 'application/json' } });
      assert.equal(applied.status, 201, applied.text);
      const ids = async (client: PartClient) => (await client.json<{ permits: Array<{ id: string }> }>(`${m.hdab.url}/permits`)).permits.map((p) => p.id);
      assert.ok((await ids(university)).includes(applied.body.id), 'the university sees its application');
      assert.ok((await ids(operator)).includes(applied.body.id), 'the operator sees it to decide on');
      // A care organisation is no research organisation: it may not apply.
      const hospital = new PartClient({ tls: sandbox.identities.participants.get(VELUWE)!, maxRetries: 0 });
      try {
        const refused = await hospital.call(`${m.hdab.url}/permits`, { method: 'POST', body: TIA_STATIN_APPLICATION, headers: { 'content-type': 'application/json' } });
        assert.equal(refused.status, 403, refused.text);
      } finally {
        await hospital.close();
      }
    } finally {
      await university.close();
      await operator.close();
    }
  });

  it('a Dutch clinician gets a Belgian patient\'s summary through NCPeH-NL and Belgium, each its own process, in Dutch terms', async () => {
    const client = new PartClient({ tls: sandbox.identities.participants.get(VELUWE)!, maxRetries: 0 });
    try {
      const r = await client.call<Bundle>(`${sandbox.manifest.services.ncpeh!.url}${OUTGOING_SUMMARY_PATH}`, {
        method: 'POST',
        body: { country: 'BE', patient: { id: '68041200227', given: 'Camille', family: 'Lambert', birthDate: '1968-04-12' } },
        headers: { 'content-type': 'application/json', 'dezi-verklaring': verklaring },
        deadlineMs: 60_000,
      });
      assert.equal(r.status, 200, r.text.slice(0, 300));
      assert.equal(r.body.meta?.tag?.find((t) => t.system === ORIGIN_TAG_SYSTEM)?.code, 'BE');
      assert.ok(JSON.stringify(r.body).includes('Diabetes mellitus type 2'), 'the Belgian diagnosis in Dutch terms');
    } finally {
      await client.close();
    }
  });

  // Last, because it changes the story: De Groot objects in the citizen portal (its own process,
  // logged in at the citizen identity part, another process); the consent part (a third) records
  // it, and the next overview at Veluwe's node (a fourth) says every category withheld.
  it('a citizen changes his consent in the portal, and the split network answers by it', async () => {
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    const page = await browser.request(`${base}/consent`);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, 'the consent form carries its CSRF token');
    const saved = await browser.request(`${base}/consent`, { form: { csrf, provision: 'deny', scope: 'all' } });
    assert.ok([200, 302, 303].includes(saved.status), `${saved.status} ${saved.body.slice(0, 300)}`);
    let last = '';
    for (let i = 0; i < 30; i++) {
      const r = await overview();
      const text = JSON.stringify(r.body);
      if (r.status === 200 && text.includes('withheld-objection') && !resources(r.body).some((x) => x.resourceType === 'AllergyIntolerance')) return;
      last = `${r.status} ${text.slice(0, 300)}`;
      await new Promise((res) => setTimeout(res, 1000));
    }
    assert.fail(`the objection did not reach the overview: ${last}`);
  });
});
