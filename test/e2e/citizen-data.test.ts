import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { eventsByTraceId } from '../../src/audit/chain.ts';
import { PartClient } from '../../src/kit/http/client.ts';
import type { TlsIdentity } from '../../src/kit/part.ts';
import { newTrace, type TraceContext } from '../../src/kit/trace.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { citizenIdToken, citizenPortalLogin, startTestSandbox } from './sandbox-helpers.ts';

// "My data" in Mijn Gezondheidsoverzicht, end to end: De Groot logs in with the DigiD-like
// provider, the portal localises his holders (PRS + NVI), addresses them (directory) and asks each
// node for his data with his own id_token (exchange citizen-access); the nodes refuse anyone else.

const LEIDEN = '90000102';
const VELUWE = '90000101';
const OTHER = CITIZENS.find((c) => c.bsn !== DE_GROOT.bsn)!;
const bsnParam = (bsn: string) => encodeURIComponent(`http://fhir.nl/fhir/NamingSystem/bsn|${bsn}`);

describe('a citizen sees her own data from all holders', { timeout: 300_000 }, () => {
  let sandbox: Sandbox;
  let idToken: string;
  const clients: PartClient[] = [];
  const clientOf = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0, defaultDeadlineMs: 20_000 });
    clients.push(c);
    return c;
  };
  const holderRoute = (ura: string) => `${sandbox.manifest.participants.find((p) => p.ura === ura)!.nodeUrl}/citizen/$everything`;
  const ask = (tls: TlsIdentity, ura: string, token: string, bsn: string, trace?: TraceContext) =>
    clientOf(tls).call<Bundle | OperationOutcome>(holderRoute(ura), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      trace,
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: `Patient?identifier=${bsnParam(bsn)}` } },
          { request: { method: 'GET', url: `AllergyIntolerance?patient:identifier=${bsnParam(bsn)}` } },
        ],
      },
    });

  before(async () => {
    sandbox = await startTestSandbox();
    idToken = await citizenIdToken(sandbox, DE_GROOT.bsn);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await sandbox?.stop();
  });

  it('shows De Groot the contrast allergy from Leiden and the medication from the Kerkrade holders in "my data"', async () => {
    const { browser, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    try {
      const page = await browser.request(`${base}/data`);
      assert.equal(page.status, 200);
      const text = page.body.replace(/<[^>]+>/g, ' ');
      assert.match(text, /contrast/i, text.slice(0, 2000));
      assert.match(text, /Ziekenhuis Leiden/);
      assert.match(text, /Apotheek Kerkrade/);
      assert.match(text, /Huisartsenpraktijk Kerkrade/);
      assert.match(text, /atorvastatine|atorvastatin/i);
      assert.doesNotMatch(text, /Niet alle bronnen zijn compleet/, 'every holder answered');
      const timeline = await browser.request(`${base}/timeline`);
      assert.equal(timeline.status, 200);
      assert.match(timeline.body, /Ziekenhuis Leiden/);
    } finally {
      await browser.close();
    }
  });

  it('answers the operator with her own id_token, and logs the access at the holder without her BSN', async () => {
    const trace = newTrace();
    const r = await ask(sandbox.identities.operator, LEIDEN, idToken, DE_GROOT.bsn, trace);
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
    assert.equal((r.body as Bundle).type, 'batch-response');
    assert.ok(JSON.stringify(r.body).match(/contrast/i));
    const leiden = sandbox.nodes.find((n) => n.name === 'leiden')!.runtime()!;
    const events = (await eventsByTraceId(leiden.ctx.store, trace.traceId)) as AuditEvent[];
    assert.equal(events.length, 1);
    const event = JSON.stringify(events[0]);
    assert.match(event, /citizen-access/);
    assert.match(event, /PATRQT/);
    assert.ok(!event.includes(DE_GROOT.bsn), 'no BSN in the audit event');
  });

  it('refuses a search for another BSN than the one in the citizen token (403)', async () => {
    const r = await ask(sandbox.identities.operator, LEIDEN, idToken, OTHER.bsn);
    assert.equal(r.status, 403, JSON.stringify(r.body).slice(0, 300));
    assert.match((r.body as OperationOutcome).issue?.[0]?.diagnostics ?? '', /another BSN/);
  });

  it("refuses a participant's certificate even with a valid citizen token (403)", async () => {
    const r = await ask(sandbox.identities.participants.get(VELUWE)!, LEIDEN, idToken, DE_GROOT.bsn);
    assert.equal(r.status, 403, JSON.stringify(r.body).slice(0, 300));
    assert.match((r.body as OperationOutcome).issue?.[0]?.diagnostics ?? '', /operator/);
  });

  it('refuses a missing or forged token (401)', async () => {
    const none = await clientOf(sandbox.identities.operator).call(holderRoute(LEIDEN), {
      method: 'POST',
      body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: `Patient?identifier=${bsnParam(DE_GROOT.bsn)}` } }] },
    });
    assert.equal(none.status, 401);
    const [h, p, s] = idToken.split('.');
    const forged = `${h}.${p}.${s.slice(0, -4)}AAAA`;
    const r = await ask(sandbox.identities.operator, LEIDEN, forged, DE_GROOT.bsn);
    assert.equal(r.status, 401);
  });
});
