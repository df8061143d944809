import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, OperationOutcome, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { newTrace } from '../../src/kit/trace.ts';
import { SYSTEM } from '../../src/kit/identifiers/systems.ts';
import { ehrDataFor } from '../../src/node/ehr-sim/cast-data.ts';
import { SOURCE_EXTENSION } from '../../src/node/integration/merge.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { apiOverview, clinicianVerklaring, overviewSetup, startTestSandbox } from './sandbox-helpers.ts';

// The data-integration function end to end, through the node's API as an EHR calls it: real
// certificates, tokens from the nodes' authorisation servers, pseudonyms, consent and audit.

const VELUWE = '90000101';
const LEIDEN = '90000102';
const GP = '90000103';
const BAKKER = '900001011'; // emergency physician, Veluwe
const SMIT = '900001014'; // doktersassistent, Veluwe: no role in acute care
const DEADLINE_MS = 2500;

const sources = (r: Resource) =>
  ((r as { extension?: Array<{ url: string; valueReference?: { display?: string } }> }).extension ?? [])
    .filter((e) => e.url === SOURCE_EXTENSION)
    .map((e) => e.valueReference?.display);
const resources = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as Resource);
/** De Groot's own Patient id in the GP's simulated EHR. */
const gpPatientId = () =>
  ehrDataFor(GP).find((x) => x.resourceType === 'Patient' && (x as Patient).identifier?.some((i) => i.system === SYSTEM.bsn && i.value === DE_GROOT.bsn))?.id;
const outcomes = (b: Bundle) => resources(b).filter((r): r is OperationOutcome => r.resourceType === 'OperationOutcome');

describe('the overview through the sandbox', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  before(async () => {
    ({ sandbox, verklaring } = await overviewSetup({ overviewDeadlineMs: DEADLINE_MS }));
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('merges De Groot from all holders with sources, all about him, and logs both sides under one trace', async () => {
    const trace = newTrace();
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn, trace });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    const all = resources(r.body);
    const allergy = all.find((x) => x.resourceType === 'AllergyIntolerance');
    assert.ok(allergy && /contrast/i.test(JSON.stringify(allergy)));
    assert.deepEqual(sources(allergy), ['Ziekenhuis Leiden']);
    const both = all.filter((x) => x.resourceType.startsWith('Medication') && sources(x).length === 2);
    assert.ok(both.length >= 2, 'the same drugs from the GP and the pharmacy are merged');
    assert.ok(all.some((x) => x.resourceType === 'Provenance'));
    for (const x of all) {
      const s = x as { subject?: { reference?: string }; patient?: { reference?: string } };
      const ref = (s.subject ?? s.patient)?.reference;
      if (ref) assert.equal(ref, 'urn:ldn:overview:patient');
    }
    assert.deepEqual(outcomes(r.body), []);

    // Every access is in the requester's and the holders' audit logs, under one trace id.
    const requester = sandbox.nodes.find((n) => n.name === 'veluwe')!.runtime()!;
    const holderNodes = sandbox.nodes.filter((n) => n.name !== 'veluwe').map((n) => n.runtime()!);
    await new Promise((res) => setTimeout(res, 300));
    const mine = (await eventsByTraceId(requester.ctx.store, trace.traceId)) as AuditEvent[];
    assert.equal(mine.length, 1);
    const theirs = (await Promise.all(holderNodes.map((h) => eventsByTraceId(h.ctx.store, trace.traceId)))).flat() as AuditEvent[];
    assert.ok(theirs.length >= 2, `holder events: ${theirs.length}`);
    assert.ok(!JSON.stringify([mine, theirs]).includes(DE_GROOT.bsn), 'no BSN in audit events');
  });

  it('reports exchange volumes to the operator, and only to the operator', async () => {
    const zuid = sandbox.nodes.find((n) => n.name === 'zuid')!;
    const operator = new PartClient({ tls: sandbox.identities.operator, maxRetries: 0 });
    const participant = new PartClient({ tls: sandbox.identities.participants.get(VELUWE)!, maxRetries: 0 });
    try {
      const r = await operator.call<{ exchanges: Array<{ exchange: string; requests: number }> }>(`${zuid.url}/metrics`);
      assert.equal(r.status, 200);
      assert.ok((r.body.exchanges.find((e) => e.exchange === 'acute-zorg')?.requests ?? 0) >= 1);
      assert.equal((await participant.call(`${zuid.url}/metrics`)).status, 403);
    } finally {
      await operator.close();
      await participant.close();
    }
  });

  it('refuses a professional whose role has no part in the exchange', async () => {
    const assistant = await clinicianVerklaring(sandbox, SMIT);
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring: assistant, bsn: DE_GROOT.bsn });
    assert.ok(r.status === 400 || r.status === 403, `status ${r.status}`);
    assert.equal((r.body as { resourceType?: string }).resourceType, 'OperationOutcome');
  });

  it('answers an invalid BSN with 400', async () => {
    const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: '123456789' });
    assert.equal(r.status, 400);
  });

  it('gives a partial overview within the deadline when a holder hangs, naming it', async () => {
    sandbox.ehr.faults.set(LEIDEN, { hang: true });
    try {
      const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200);
      assert.ok(r.ms < DEADLINE_MS + 2000, `answered after ${r.ms} ms`);
      assert.ok(outcomes(r.body).some((o) => /Ziekenhuis Leiden/.test(o.issue[0].diagnostics ?? '')));
      assert.ok(resources(r.body).some((x) => x.resourceType.startsWith('Medication')), 'the other holders still answer');
    } finally {
      sandbox.ehr.faults.clear(LEIDEN);
    }
  });

  it('drops data about another patient that a holder returns, with a warning', async () => {
    sandbox.ehr.faults.set(GP, { wrongPatient: true });
    try {
      const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
      assert.equal(r.status, 200);
      assert.ok(outcomes(r.body).some((o) => /Huisartsenpraktijk Kerkrade/.test(o.issue[0].diagnostics ?? '')));
      for (const c of CITIZENS.slice(1)) assert.ok(!JSON.stringify(r.body).includes(c.bsn));
      // Clinical resources carry no BSN, so check the items themselves: nothing is attributed to
      // the GP, and no source the overview cites at the GP is anything but De Groot's own record.
      const clinical = resources(r.body).filter((x) => !['Patient', 'Provenance', 'OperationOutcome'].includes(x.resourceType));
      assert.ok(clinical.length > 0, 'the other holders still answer');
      assert.deepEqual(clinical.filter((x) => sources(x).includes('Huisartsenpraktijk Kerkrade')).map((x) => x.resourceType), []);
      const deGrootAtGp = new Set(ehrDataFor(GP).filter((x) => JSON.stringify(x).includes(`"Patient/${gpPatientId()}"`)).map((x) => `${x.resourceType}/${x.id}`));
      assert.ok(deGrootAtGp.size > 0);
      const cited = resources(r.body)
        .filter((x): x is Provenance => x.resourceType === 'Provenance')
        .flatMap((p) => p.entity?.map((e) => e.what.reference ?? '') ?? [])
        .filter((ref) => ref.includes(`/org/${GP}/`));
      for (const ref of cited) assert.ok(deGrootAtGp.has(ref.split('/').slice(-2).join('/')), `${ref} is not about De Groot`);
    } finally {
      sandbox.ehr.faults.clear(GP);
    }
  });

  it('without consent (opt-in) the holders refuse and say so; opt-out lets them answer', async () => {
    const patient = CITIZENS.find((_c, i) => i >= 4 && i % 2 === 0)!; // no consent recorded in the seed
    const before = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: patient.bsn });
    assert.equal(before.status, 200);
    const refused = outcomes(before.body).filter((o) => o.issue[0].code === 'suppressed');
    assert.ok(refused.length > 0, JSON.stringify(outcomes(before.body)));
    assert.ok(!resources(before.body).some((x) => x.resourceType === 'Condition'));

    const operator = new PartClient({ tls: sandbox.identities.operator });
    try {
      const set = await operator.call(`${sandbox.network.url('trust')}/agreements/network`, {
        method: 'POST',
        body: { consentMode: 'opt-out' },
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(set.status, 201, set.text);
      let after = before;
      for (let i = 0; i < 30 && outcomes(after.body).some((o) => o.issue[0].code === 'suppressed'); i++) {
        await new Promise((res) => setTimeout(res, 1000));
        after = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: patient.bsn });
      }
      assert.ok(!outcomes(after.body).some((o) => o.issue[0].code === 'suppressed'), JSON.stringify(outcomes(after.body)));
    } finally {
      await operator.call(`${sandbox.network.url('trust')}/agreements/network`, {
        method: 'POST',
        body: { consentMode: 'opt-in' },
        headers: { 'content-type': 'application/json' },
      });
      await operator.close();
    }
  });
});

describe('a suspended participant is refused across the network', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startTestSandbox({ overviewDeadlineMs: DEADLINE_MS });
  });
  after(async () => {
    await sandbox?.stop();
  });

  it('refuses Ziekenhuis Leiden within a minute of its suspension', async () => {
    const verklaring = await clinicianVerklaring(sandbox, BAKKER);
    const operator = new PartClient({ tls: sandbox.identities.operator });
    try {
      const r = await operator.call(`${sandbox.network.url('trust')}/participants/${LEIDEN}/status`, {
        method: 'POST',
        body: { status: 'suspended', reason: 'e2e test' },
        headers: { 'content-type': 'application/json' },
      });
      assert.ok(r.status < 300, r.text);
      const started = Date.now();
      let refused = false;
      while (!refused && Date.now() - started < 60_000) {
        const o = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
        refused = outcomes(o.body).some((x) => /Ziekenhuis Leiden/.test(x.issue[0].diagnostics ?? ''));
        if (!refused) await new Promise((res) => setTimeout(res, 2000));
      }
      assert.ok(refused, 'Leiden is no longer served within 60 s');
      // And its own certificate is refused by a central part within the same minute.
      const leiden = new PartClient({ tls: sandbox.identities.participants.get(LEIDEN)!, maxRetries: 0 });
      let status = 0;
      while (status !== 403 && Date.now() - started < 60_000) {
        status = (await leiden.call(`${sandbox.network.url('directory')}/Organization?_count=1`)).status;
        if (status !== 403) await new Promise((res) => setTimeout(res, 2000));
      }
      await leiden.close();
      assert.equal(status, 403);
    } finally {
      await operator.close();
    }
  });
});
