import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, Observation, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import { SYSTEM } from '../../src/kit/identifiers/systems.ts';
import { newTrace, type TraceContext } from '../../src/kit/trace.ts';
import { putResource, searchResources } from '../../src/node/ehr-sim/store.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { clinicianVerklaring, startTestSandbox } from './sandbox-helpers.ts';

// The holder's enforcement point through the sandbox, asked directly as a requester's node asks
// it: only allow-listed queries (names and values), only permitted data categories in the
// answer, and an audit event for every access by a verified requester, also a failed one.

const VELUWE = '90000101';
const LEIDEN = '90000102';
const BAKKER = '900001011'; // emergency physician at Veluwe
const PATIENT = `patient:identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT.bsn}`)}`;

describe('holder enforcement point', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let verklaring: string;
  let client: PartClient;
  let tokens: TrustTokenProvider;
  let holderBase: string;

  before(async () => {
    sandbox = await startTestSandbox();
    verklaring = await clinicianVerklaring(sandbox, BAKKER);
    const identity = sandbox.identities.participants.get(VELUWE)!;
    holderBase = sandbox.manifest.participants.find((p) => p.ura === LEIDEN)!.nodeUrl!;
    tokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(holderBase).origin}/oauth/token` });
    client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
  });
  after(async () => {
    sandbox?.ehr.faults.clear();
    await client?.close();
    await tokens?.close?.();
    await sandbox?.stop();
  });

  const ask = (search: string, trace?: TraceContext) =>
    client.call<Resource>(`${holderBase}/fhir/${search}`, { scope: 'acute-zorg', resource: holderBase, userAssertion: verklaring, trace });
  const holderEvents = async (trace: TraceContext): Promise<AuditEvent[]> => {
    const node = sandbox.nodes.find((n) => n.runtime()?.tenants.has(LEIDEN))!.runtime()!;
    await new Promise((res) => setTimeout(res, 300));
    return (await eventsByTraceId(node.ctx.store, trace.traceId)) as AuditEvent[];
  };

  it('refuses unlisted parameter values with 403 before the EHR is asked', async () => {
    for (const search of [`Observation?${PATIENT}&category=social-history`, `MedicationStatement?${PATIENT}&_include=*`, `Condition?${PATIENT}&category=health-concern`]) {
      const r = await ask(search);
      assert.equal(r.status, 403, `${search}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assert.match((r.body as OperationOutcome).issue.map((i) => i.diagnostics).join(' '), /not allow-listed/);
    }
  });

  it('leaves out what the EHR answers outside the permitted categories', async () => {
    const store = sandbox.ehr.stores.get(LEIDEN)!;
    const found = await searchResources(store, 'Patient', new Map([['identifier', [`${SYSTEM.bsn}|${DE_GROOT.bsn}`]]]), { count: 10, offset: 0 });
    const patient = found.resources[0] as Patient;
    const social: Observation = {
      resourceType: 'Observation',
      id: 'holder-test-smoking',
      status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'social-history' }] }],
      code: { text: 'Rookgedrag' },
      subject: { reference: `Patient/${patient.id}` },
      valueString: 'rookt',
    };
    await putResource(store, LEIDEN, social, { id: social.id });
    const r = await ask(`Observation?${PATIENT}`);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const served = ((r.body as Bundle).entry ?? []).map((e) => e.resource as Resource);
    assert.ok(!served.some((x) => x.id === social.id), 'the social-history Observation stays at the holder');
    for (const o of served as Observation[]) {
      const codes = (o.category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code);
      assert.ok(codes.includes('vital-signs') || codes.includes('laboratory'), JSON.stringify(o.category));
    }
  });

  it('audits an access whose every search failed at the EHR', async () => {
    sandbox.ehr.faults.set(LEIDEN, { errorStatus: 500 });
    try {
      const trace = newTrace();
      const r = await ask(`AllergyIntolerance?${PATIENT}`, trace);
      assert.equal(r.status, 502, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.resourceType, 'OperationOutcome');
      const events = await holderEvents(trace);
      assert.equal(events.length, 1, 'one holder event for the failed access');
      assert.equal(events[0].outcome, '8');
      assert.match(events[0].outcomeDesc ?? '', /record system did not answer/);
      assert.ok(!JSON.stringify(events).includes(DE_GROOT.bsn), 'no BSN in the event');
    } finally {
      sandbox.ehr.faults.clear(LEIDEN);
    }
  });

  it('audits a refused query too', async () => {
    const trace = newTrace();
    const r = await ask(`MedicationStatement?${PATIENT}&_include=*`, trace);
    assert.equal(r.status, 403);
    const events = await holderEvents(trace);
    assert.equal(events.length, 1);
    assert.equal(events[0].outcome, '4');
  });

  it('answers a malformed or too short emergency reason on $overview with 400', async () => {
    // The header as sent, not URL-encoded by a helper: a broken escape must not become a 500.
    const identity = sandbox.identities.participants.get(VELUWE)!;
    const nodeUrl = sandbox.manifest.participants.find((p) => p.ura === VELUWE)!.nodeUrl!;
    const ownTokens = new TrustTokenProvider({ tls: identity, ura: VELUWE, tokenEndpoint: `${new URL(nodeUrl).origin}/oauth/token` });
    const own = new PartClient({ tls: identity, tokens: ownTokens, maxRetries: 0, defaultDeadlineMs: 30_000 });
    try {
      const url = `${nodeUrl}/fhir/Patient/$overview?identifier=${encodeURIComponent(`${SYSTEM.bsn}|${DE_GROOT.bsn}`)}&exchange=acute-zorg`;
      for (const [reason, why] of [['%E0%A4%A', /URL-encoded/], ['ab', /at least 5 characters/], ['%20%20x%20', /at least 5 characters/]] as const) {
        const r = await own.call<OperationOutcome>(url, {
          scope: 'acute-zorg',
          resource: nodeUrl,
          userAssertion: verklaring,
          headers: { 'dezi-verklaring': verklaring, 'ldn-emergency-reason': reason },
        });
        assert.equal(r.status, 400, `${reason}: ${JSON.stringify(r.body).slice(0, 300)}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
        assert.match(r.body.issue.map((i) => i.diagnostics).join(' '), why);
      }
    } finally {
      await own.close();
      await ownTokens.close?.();
    }
  });
});
