import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { probeFhirBase } from '../../src/conformance/fhir-base.ts';
import { probeOpenApi } from '../../src/conformance/openapi.ts';
import { partClientProbe } from '../../src/conformance/part-client-probe.ts';
import { auditLogVerifier } from '../../src/conformance/audit-log.ts';
import { runConformance } from '../../src/conformance/run.ts';
import type { Check, Probe } from '../../src/conformance/types.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Declared = served for every part of the running sandbox, and the conformance kit passing the
// sandbox's own holders, directory and EHRs (it failing a broken node is src/conformance/holder.test.ts).
// Deadlines are given generously: this machine is shared; the kit's own default is 3 s.

const VELUWE = '90000101';
const BAKKER = '900001011';
const HOLDERS = ['90000102', '90000103', '90000104']; // Leiden, GP and pharmacy hold De Groot's data
const failedOf = (checks: Check[]) => checks.filter((c) => !c.ok);

describe('interfaces: declared = served, and the conformance kit passes the sandbox', { timeout: 1_800_000 }, () => {
  let sandbox: Sandbox;
  let client: PartClient;
  let verklaring: string;
  before(async () => {
    sandbox = await startTestSandbox();
    client = new PartClient({ tls: sandbox.identities.participants.get(VELUWE)!, maxRetries: 0, defaultDeadlineMs: 120_000 });
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
  });
  after(async () => {
    await client?.close();
    await sandbox?.stop();
  });

  it('every central part: metadata valid, security declared, XML 406, unknown path 404, OpenAPI valid and routed', async () => {
    const tokens = new TrustTokenProvider({ tls: sandbox.identities.participants.get(VELUWE)!, ura: VELUWE, tokenEndpoint: `${sandbox.manifest.services.trust.url}/oauth/token` });
    const withTokens = new PartClient({ tls: sandbox.identities.participants.get(VELUWE)!, tokens, maxRetries: 0, defaultDeadlineMs: 120_000 });
    const probes: Record<string, Probe> = {
      nvi: partClientProbe(withTokens, { scope: 'nvi:read', resource: sandbox.manifest.services.nvi.url }),
      directory: partClientProbe(withTokens, { scope: 'directory:read', resource: sandbox.manifest.services.directory.url }),
    };
    for (const name of ['trust', 'directory', 'prs', 'nvi', 'consent', 'transparency']) {
      const base = sandbox.manifest.services[name].url;
      // Every declared search parameter is probed where the caller may search (consent and the
      // transparency log check parameters before they ask who the citizen is).
      const { checks } = await probeFhirBase(base, probes[name] ?? partClientProbe(client), { searches: ['directory', 'nvi', 'consent', 'transparency'].includes(name) });
      assert.deepEqual(failedOf(checks), [], `${name}: ${JSON.stringify(failedOf(checks))}`);
      if (['trust', 'prs', 'consent', 'transparency'].includes(name)) {
        const api = await probeOpenApi(base, partClientProbe(client));
        assert.deepEqual(failedOf(api.checks), [], `${name} OpenAPI: ${JSON.stringify(failedOf(api.checks))}`);
        assert.ok(api.checks.length >= 3, `${name}: at least one operation probed`);
      }
    }
    for (const node of sandbox.manifest.nodes) {
      const api = await probeOpenApi(node.url, partClientProbe(client));
      assert.deepEqual(failedOf(api.checks), [], `node ${node.name} OpenAPI: ${JSON.stringify(failedOf(api.checks))}`);
    }
    await withTokens.close();
    await tokens.close?.();
  });

  it('the API catalogue lists every part, and each description it links answers', async () => {
    const portal = sandbox.manifest.portal!.url.replace(/\/$/, '');
    const index = await client.call<{ entries: Array<{ id: string; part: string; description: string }> }>(`${portal}/apis.json`);
    assert.equal(index.status, 200);
    for (const part of ['trust', 'directory', 'prs', 'nvi', 'consent', 'transparency', 'identity', 'citizen-identity', 'node']) {
      assert.ok(index.body.entries.some((e) => e.part === part), part);
    }
    // Every care organisation of the cast by its real FHIR base (the directory knows them all): no
    // {URA} template for their nodes. The national contact point (type NCP) holds no data, so the
    // directory lists no FHIR base for it and its node keeps the pattern row.
    const entries = index.body.entries as Array<{ id: string; part: string; description: string; baseUrl?: string }>;
    const holders = sandbox.manifest.participants.filter((p) => p.type !== 'NCP');
    assert.ok(holders.length >= 6);
    for (const p of holders) {
      const bases = entries.filter((e) => e.part === 'node').map((e) => e.baseUrl);
      assert.ok(bases.includes(`${p.nodeUrl}/fhir`), `${p.name} listed by its base; node rows: ${bases.join(', ')}`);
    }
    const holderNodes = new Set(holders.map((p) => new URL(p.nodeUrl ?? '').origin));
    assert.ok(!entries.some((e) => e.description.includes('{URA}') && e.baseUrl && holderNodes.has(new URL((e.baseUrl ?? '').replace('{URA}', 'x')).origin)), 'no template left for a holder node');
    for (const e of entries) {
      const url = e.description;
      if (url.includes('{URA}')) continue; // a pattern for a node whose organisations the directory does not list (the contact point's)
      const r = await client.call(url);
      assert.equal(r.status, 200, `${e.id}: ${url} → ${r.status}`);
    }
    const page = await client.call(`${portal}/apis?lang=en`);
    assert.equal(page.status, 200);
    assert.match(page.text, /API catalogue/);
  });

  it('the trust part publishes RFC 8414 metadata with every scope the agreements define', async () => {
    const r = await client.call<Record<string, unknown>>(`${sandbox.manifest.services.trust.url}/.well-known/oauth-authorization-server`);
    assert.equal(r.status, 200);
    for (const member of ['issuer', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'grant_types_supported']) assert.ok(r.body[member], member);
    assert.ok((r.body.response_types_supported as string[]).length > 0);
    const scopes = r.body.scopes_supported as string[];
    for (const s of ['prs:eval', 'nvi:read', 'directory:read', 'consent:read', 'transparency:write', 'acute-zorg']) assert.ok(scopes.includes(s), `${s} in ${scopes}`);
  });

  it('the conformance kit passes every holder of De Groot\'s data for acute-zorg', async () => {
    for (const ura of HOLDERS) {
      const target = `${sandbox.manifest.participants.find((p) => p.ura === ura)!.nodeUrl}/fhir`;
      // The holder's own audit log, verified through the audit-verify interface (its node's store).
      const store = sandbox.nodes.find((n) => n.runtime()?.tenants.has(ura))!.runtime()!.ctx.store;
      const report = await runConformance({ target, role: 'holder', exchange: 'acute-zorg', manifest: sandbox.manifest, requester: VELUWE, verklaring, bsn: DE_GROOT.bsn, deadlineMs: 120_000, auditWaitMs: 180_000, auditLog: auditLogVerifier(store) });
      assert.deepEqual(failedOf(report.checks), [], `${ura}: ${JSON.stringify(failedOf(report.checks), null, 1)}`);
      assert.ok(report.checks.some((c) => c.rule === 'acute-zorg.AllergyIntolerance.answered'));
      assert.ok(report.checks.some((c) => c.rule === 'audit.reaches-transparency-log'));
      assert.ok(report.checks.some((c) => c.rule === 'audit.written' && c.ok));
    }
  });

  it('the conformance kit passes the directory as a directory source and the simulated EHRs', async () => {
    const directory = await runConformance({ target: sandbox.manifest.services.directory.url, role: 'directory-source', manifest: sandbox.manifest, requester: VELUWE });
    assert.deepEqual(failedOf(directory.checks), [], JSON.stringify(failedOf(directory.checks), null, 1));
    const ehr = await runConformance({ target: `${sandbox.manifest.ehrSimulator.url}/90000102/fhir`, role: 'ehr', manifest: sandbox.manifest, bsn: DE_GROOT.bsn });
    assert.deepEqual(failedOf(ehr.checks), [], JSON.stringify(failedOf(ehr.checks), null, 1));
    assert.match(ehr.checks.find((c) => c.rule === 'ehr.changes')?.detail ?? '', /system _history/);
  });

  it('`ldn conformance` passes a sandbox holder from the command line (all but the audit rule, whose log it is not given) and writes JUnit XML and HTML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-conformance-'));
    const target = `${sandbox.manifest.participants.find((p) => p.ura === '90000102')!.nodeUrl}/fhir`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/ldn.js', 'conformance', '--target', target, '--as', 'holder', '--manifest', sandbox.manifestPath, '--requester', VELUWE, '--clinician', BAKKER, '--deadline-ms', '120000', '--audit-wait-ms', '180000', '--junit', join(dir, 'j.xml'), '--html', join(dir, 'r.html')],
      { timeout: 420_000 },
    ).catch((err: { code?: number; stdout?: string }) => {
      // The in-memory sandbox's audit log is not reachable from another process, so the kit
      // cannot verify audit.written here and says so (exit 1); that rule passing is shown above
      // with the log given in-process. Every other rule must pass.
      assert.equal(err.code, 1, String(err));
      return { stdout: err.stdout ?? '' };
    });
    const failed = stdout.split('\n').filter((l) => l.startsWith('FAIL'));
    assert.deepEqual(failed.map((l) => l.split(':')[0]), ['FAIL  audit.written'], stdout.slice(-2000));
    assert.match(failed[0], /not checked/);
    assert.match(stdout, /PASS {2}acute-zorg\.AllergyIntolerance\.answered/);
    assert.match(readFileSync(join(dir, 'j.xml'), 'utf8'), /failures="1"/);
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /audit\.written/);
  });
});
