import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PartClient } from '../kit/http/client.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { createTestPki } from '../kit/testing/test-pki.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { auditLogMigrations } from '../audit/chain.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import type { Store } from '../kit/store/store.ts';
import { auditLogVerifier } from './audit-log.ts';
import { startBrokenNode } from './broken-node.fixture.ts';
import { checkHolder } from './holder.ts';
import { htmlReport, junitReport, textReport } from './report.ts';
import type { Probe } from './types.ts';

// The conformance kit against a deliberately broken holder: it must fail, naming each broken
// rule. (That it passes the sandbox's own nodes is test/e2e/conformance.test.ts.)

describe('conformance kit: a broken holder fails rule by rule', () => {
  let node: Awaited<ReturnType<typeof startBrokenNode>>;
  let client: PartClient;
  let auditStore: Store;
  before(async () => {
    auditStore = await openIsolatedPgliteStore('node_broken');
    await migrate(auditStore, auditLogMigrations);
    const pki = await createTestPki();
    node = await startBrokenNode(await pki.identity('90000999'));
    client = new PartClient({ tls: await pki.identity('90000101'), maxRetries: 0 });
  });
  after(async () => {
    await client.close();
    await node.app.close();
    await auditStore.close();
  });

  const probe =
    (token?: string): Probe =>
    async (url, init = {}) => {
      const r = await client.call(url, { method: init.method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers }, retries: 0 });
      return { status: r.status, headers: r.headers, body: r.body };
    };

  it('names every rule the fixture breaks, and passes what it does right', async () => {
    const checks = await checkHolder({
      target: node.base,
      probe: probe('not-checked-by-the-fixture'),
      probeWithoutToken: probe(),
      agreements: defaultAgreements(),
      exchange: 'acute-zorg',
      bsn: testBsn(1001),
      deadlineMs: 60_000,
      // A log that never grows: the fixture writes no audit.
      transparencyLog: { treeSize: async () => 41, waitMs: 1500 },
      // Its own audit log (an empty, intact chain): no record of the kit's accesses.
      auditLog: { traceId: 'f'.repeat(32), verify: auditLogVerifier(auditStore), waitMs: 1000 },
    });
    const failed = new Set(checks.filter((c) => !c.ok).map((c) => c.rule));
    for (const rule of [
      'metadata.valid-r4',
      'security.declared',
      'format.xml-refused',
      'accept.xml-refused',
      'path.unknown-404',
      'Patient.search.undeclared-refused',
      'Observation.search.undeclared-refused',
      'token.required',
      'acute-zorg.Observation.vital-signs.categories',
      'acute-zorg.Observation.laboratory.categories',
      'acute-zorg.Observation.vital-signs.one-patient',
      'refuses.unlisted-value',
      'refuses.unlisted-parameter',
      'refuses.invalid-bsn',
      'audit.reaches-transparency-log',
      'audit.written',
    ]) {
      assert.ok(failed.has(rule), `expected ${rule} to fail; failed: ${[...failed].join(', ')}`);
    }
    const passedRules = checks.filter((c) => c.ok).map((c) => c.rule);
    for (const rule of ['metadata.served', 'patient.found', 'acute-zorg.AllergyIntolerance.answered', 'Observation.search.category']) {
      assert.ok(passedRules.includes(rule), `expected ${rule} to pass`);
    }
    const report = { target: node.base, role: 'holder', exchange: 'acute-zorg', startedAt: new Date().toISOString(), checks };
    assert.match(textReport(report), /FAIL {2}token\.required: search without an access token → 200/);
    const junit = junitReport(report);
    assert.match(junit, new RegExp(`failures="${failed.size}"`));
    assert.match(junit, /<testcase classname="ldn-conformance.holder" name="security.declared"><failure /);
    assert.match(htmlReport(report), /<tr class="fail"><td>FAIL<\/td><td><code>refuses.invalid-bsn<\/code>/);
  });
});
