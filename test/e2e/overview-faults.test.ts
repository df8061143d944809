import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { isValidBsn, testBsn } from '../../src/kit/identifiers/bsn.ts';
import { SYSTEM } from '../../src/kit/identifiers/systems.ts';
import { CATEGORY_OUTCOMES, SOURCE_EXTENSION } from '../../src/node/integration/merge.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TokenRequestError } from '../../src/trust/auth/token-provider.ts';
import { bundleOutcomes, bundleResources, type OverviewAnswer, OverviewClient } from '../../bench/lib/overview-client.ts';
import { clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// Bad input and faulty holders through the whole sandbox: every case ends in a clear
// OperationOutcome (the whole answer, or one entry per holder that failed) and the node keeps
// serving. Faults are injected in the EHR simulator behind a holder's node.

const VELUWE = '90000101';
const LEIDEN = '90000102';
const GP = '90000103';
const BAKKER = '900001011'; // emergency physician at Veluwe
const DEADLINE_MS = 2500;
/** The holder node's bound on what it reads from its EHR (EhrConnector default: 10 MiB). */
const EHR_BOUND_BYTES = 10 * 1024 * 1024;

const sourcesOf = (r: Resource) =>
  ((r as { extension?: Array<{ url: string; valueReference?: { display?: string } }> }).extension ?? [])
    .filter((e) => e.url === SOURCE_EXTENSION)
    .map((e) => e.valueReference?.display ?? '');

function assertOutcome(r: OverviewAnswer, status: number, pattern?: RegExp): OperationOutcome {
  assert.equal(r.status, status, JSON.stringify(r.body).slice(0, 400));
  assert.equal((r.body as { resourceType?: string }).resourceType, 'OperationOutcome', JSON.stringify(r.body).slice(0, 400));
  const oo = r.body as OperationOutcome;
  assert.ok(oo.issue?.length > 0 && oo.issue[0].severity && oo.issue[0].code);
  if (pattern) assert.match(oo.issue.map((i) => i.diagnostics).join(' '), pattern);
  return oo;
}

/** A 200 overview in which `holder` is reported failed (code) with a reason, and the others still answered. */
function assertHolderFailed(r: OverviewAnswer, holder: RegExp, code: string, reason: RegExp): void {
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 400));
  assert.equal((r.body as { resourceType?: string }).resourceType, 'Bundle');
  // The holder's own outcome; the per-category ones (what each section lacks) come besides it.
  const mine = bundleOutcomes(r.body).filter(
    (o) => holder.test(o.issue[0].diagnostics ?? '') && !o.issue[0].details?.coding?.some((c) => CATEGORY_OUTCOMES.has(c.code ?? '')),
  );
  assert.equal(mine.length, 1, JSON.stringify(bundleOutcomes(r.body)));
  assert.equal(mine[0].issue[0].code, code);
  assert.match(mine[0].issue[0].diagnostics ?? '', reason);
  const clinical = bundleResources(r.body).filter((x) => x.resourceType !== 'OperationOutcome' && x.resourceType !== 'Provenance' && x.resourceType !== 'Patient');
  assert.ok(clinical.length > 0, 'the other holders still answer');
  assert.ok(!clinical.some((x) => sourcesOf(x).some((s) => holder.test(s))), 'nothing is attributed to the failed holder');
}

describe('overview: bad input and faulty holders', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let client: OverviewClient;
  let verklaring: string;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: DEADLINE_MS });
    client = new OverviewClient(sandbox, VELUWE);
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
    // One clean overview first: the cases below are about faults at a holder, not about the first
    // call's cold start (tokens, verklaring keys, register and consent caches at every holder),
    // which on a loaded two-core machine can pass this suite's short deadline by itself.
    for (let i = 0; i < 3; i++) {
      const warm = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
      if (warm.status === 200 && bundleOutcomes(warm.body).length === 0) break;
    }
  });
  after(async () => {
    sandbox?.ehr.faults.clear();
    await client?.close();
    await sandbox?.stop();
  });

  it('a patient no holder knows: an empty overview that says so', async () => {
    const nobody = testBsn(987_654);
    const r = await client.overview({ verklaring, bsn: nobody });
    assert.equal(r.status, 200);
    const oo = bundleOutcomes(r.body);
    assert.equal(oo.length, 1, JSON.stringify(oo));
    assert.equal(oo[0].issue[0].code, 'not-found');
    assert.match(oo[0].issue[0].diagnostics ?? '', /no holder/);
    assert.ok(!bundleResources(r.body).some((x) => x.resourceType !== 'OperationOutcome'));
  });

  it('an invalid or missing patient identifier is a 400 with an OperationOutcome', async () => {
    for (const identifier of [`${SYSTEM.bsn}|123456789`, `${SYSTEM.bsn}|12345`, `${SYSTEM.bsn}|abcdefghi`, `${SYSTEM.bsn}|`, `urn:oid:2.16.840.1.113883.2.4.6.3|${DE_GROOT.bsn}`, DE_GROOT.bsn, '']) {
      const r = await client.overview({ verklaring, bsn: '', identifier });
      assertOutcome(r, 400);
    }
  });

  it('property: any nine digits failing the 11-test are refused with 400, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[0-9]{9}$/).filter((s) => !isValidBsn(s)),
        async (bsn) => {
          const r = await client.overview({ verklaring, bsn });
          assertOutcome(r, 400, /BSN/);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('an exchange the clinician\'s role is not qualified for is a 403 naming role and exchange', async () => {
    // Verpleegkundige overdracht: nurses (and GPs) only; Veluwe may take part, an emergency physician may not.
    const r = await client.overview({ verklaring, bsn: DE_GROOT.bsn, exchange: 'eoverdracht' });
    assertOutcome(r, 403, /01\.045.*eoverdracht/);
  });

  it('an unknown exchange is refused with an OperationOutcome; its scope is refused at the token endpoint', async () => {
    const r = await client.overview({ verklaring, bsn: DE_GROOT.bsn, exchange: 'bestaat-niet', scope: 'acute-zorg' });
    assert.ok(r.status === 400 || r.status === 403, `status ${r.status}`);
    assertOutcome(r, r.status, /bestaat-niet/);
    await assert.rejects(client.overview({ verklaring, bsn: DE_GROOT.bsn, exchange: 'bestaat-niet' }), (err: unknown) => {
      assert.ok(err instanceof TokenRequestError, String(err));
      assert.equal(err.status, 400);
      assert.equal(err.error, 'invalid_scope');
      return true;
    });
  });

  it('a holder whose EHR sends malformed JSON is reported failed; the rest is merged', async () => {
    sandbox.ehr.faults.set(LEIDEN, { malformedJson: true });
    try {
      assertHolderFailed(await client.overview({ verklaring, bsn: DE_GROOT.bsn }), /Ziekenhuis Leiden/, 'exception', /malformed JSON/);
    } finally {
      sandbox.ehr.faults.clear(LEIDEN);
    }
  });

  it('a holder whose EHR answers 500 is reported failed with the reason', async () => {
    sandbox.ehr.faults.set(GP, { errorStatus: 500 });
    try {
      assertHolderFailed(await client.overview({ verklaring, bsn: DE_GROOT.bsn }), /Huisartsenpraktijk Kerkrade/, 'exception', /502.*500/);
    } finally {
      sandbox.ehr.faults.clear(GP);
    }
  });

  it('a huge EHR answer beyond the node\'s bound is cut off: holder reported failed, no crash', async () => {
    sandbox.ehr.faults.set(LEIDEN, { hugeResponseBytes: EHR_BOUND_BYTES + 1024 * 1024 });
    try {
      assertHolderFailed(await client.overview({ verklaring, bsn: DE_GROOT.bsn }), /Ziekenhuis Leiden/, 'exception', /too large/);
    } finally {
      sandbox.ehr.faults.clear(LEIDEN);
    }
  });

  // The EHR repeats every entry until the answer is 512 KiB: the connector keeps one search per
  // patient record (de-duplicated by id) and the merge shows each fact once.
  it('a large answer within the bound is used, each fact once', async () => {
    sandbox.ehr.faults.set(LEIDEN, { hugeResponseBytes: 512 * 1024 });
    try {
      const r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200);
      assert.deepEqual(bundleOutcomes(r.body), []);
      const allergies = bundleResources(r.body).filter((x) => x.resourceType === 'AllergyIntolerance' && sourcesOf(x).includes('Ziekenhuis Leiden'));
      assert.equal(allergies.length, 1, 'repeated entries are merged into one item');
    } finally {
      sandbox.ehr.faults.clear(LEIDEN);
    }
  });

  it('a slow holder within the deadline still contributes; one beyond it is named as timed out', async () => {
    sandbox.ehr.faults.set(GP, { latencyMs: 20 });
    try {
      const r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200);
      assert.deepEqual(bundleOutcomes(r.body), []);
      assert.ok(bundleResources(r.body).some((x) => sourcesOf(x).includes('Huisartsenpraktijk Kerkrade')));
    } finally {
      sandbox.ehr.faults.clear(GP);
    }
    sandbox.ehr.faults.set(GP, { latencyMs: DEADLINE_MS + 1000 });
    try {
      assertHolderFailed(await client.overview({ verklaring, bsn: DE_GROOT.bsn }), /Huisartsenpraktijk Kerkrade/, 'timeout', /no answer within/);
    } finally {
      sandbox.ehr.faults.clear(GP);
    }
  });

  it('after all of it the node still answers a complete overview', async () => {
    // A node broken by the faults above fails every time; one holder missing this suite's short
    // deadline once on a loaded two-core machine is not that, so it gets two more tries.
    let r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
    for (let i = 0; i < 2 && !(r.status === 200 && bundleOutcomes(r.body).length === 0); i++) r = await client.overview({ verklaring, bsn: DE_GROOT.bsn });
    assert.equal(r.status, 200);
    assert.deepEqual(bundleOutcomes(r.body), []);
    assert.ok(bundleResources(r.body).some((x) => x.resourceType === 'AllergyIntolerance'));
  });
});
