import assert from 'node:assert/strict';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { after, before, describe, it } from 'node:test';
import type { OperationOutcome } from '@medplum/fhirtypes';
import pino from 'pino';
import { consentResource, emptyScope } from '../consent/fhir.ts';
import type { ClosedQuestion } from '../consent/model.ts';
import { CONSENT_MIGRATIONS } from '../consent/migrations.ts';
import { notificationBundle } from '../consent/notifications.ts';
import { createConsentPart } from '../consent/part.ts';
import { CachedConsentOracle, type ConsentOracle, HttpConsentOracle } from '../consent/pdp/oracle.ts';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../kit/part.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { CITIZENS } from '../sandbox/cast.ts';
import { consentPartRecogniser, createConsentNotifications, notifyEndpoint, registerConsentNotificationRoute } from './consent-notifications.ts';
import type { ConsentNotificationReceiver, NodeTenant } from './environment.ts';

const TEST_AGREEMENTS = defaultAgreements();

// A holder node's consent notifications against the real consent part over mutual TLS: the node
// subscribes for the patients it is asked about, the consent part's notification clears the
// cached answer (TTL one minute, so nothing else could), and only the consent part may notify.

const LEIDEN = '90000102';
const VELUWE = '90000101';
const CENTRAL_URA = '90000002';

const question = (bsn: string): ClosedQuestion => ({
  bsn, holderUra: LEIDEN, holderType: 'V4', requesterUra: VELUWE, requesterType: 'V4',
  requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002', exchange: 'acute-zorg',
  dataCategory: 'AllergyIntolerance',
});
const permit = (bsn: string) => consentResource({ ...emptyScope(), bsn, status: 'active', provision: 'permit' });

async function waitFor(check: () => Promise<boolean>, withinMs: number, what: string): Promise<void> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what}: not within ${withinMs} ms`);
}

describe('consent notifications at the node', () => {
  let pki: TestPki;
  let consent: RunningService;
  let node: RunningService;
  let consentTls: TlsIdentity;
  let leiden: PartClient;
  let cache: CachedConsentOracle;
  let oracle: ConsentOracle;
  let receiver: ConsentNotificationReceiver;
  const logLines: string[] = [];
  const origins: Record<string, string[]> = {};
  const clients: PartClient[] = [];
  const clientFor = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0 });
    clients.push(c);
    return c;
  };
  const subscriptionRows = () =>
    consent.store.query<{ id: string; bsn: string; status: string; endpoint: string }>('SELECT id, bsn, status, endpoint FROM subscription ORDER BY created_at');

  before(async () => {
    pki = await createTestPki();
    consentTls = await pki.identity(CENTRAL_URA, { name: 'consent' });
    const store = await openIsolatedPgliteStore('consent');
    await migrate(store, CONSENT_MIGRATIONS);
    consent = await createService(
      createConsentPart({ agreements: () => TEST_AGREEMENTS, tokens: 'off', delivery: { intervalMs: 50, baseDelayMs: 50, maxDelayMs: 200 }, subscriberOrigins: async (ura) => origins[ura] ?? [] }),
      { tls: consentTls, network: staticNetwork({}), store },
    );
    const leidenTls = await pki.identity(LEIDEN);
    leiden = clientFor(leidenTls);
    const tenant: NodeTenant = { ura: LEIDEN, name: 'Ziekenhuis Leiden', type: 'V4', identity: leidenTls, ehrBaseUrl: 'https://ehr.test/fhir' };
    // The route is registered before the node's URL is known; it reaches the receiver once built.
    const lazy: ConsentNotificationReceiver = {
      isConsentPart: (peer) => receiver.isConsentPart(peer),
      receive: (ura, body) => receiver.receive(ura, body),
      forget: (ura, id) => receiver.forget(ura, id),
    };
    const nodePart: PartDefinition = {
      name: 'node',
      schema: 'node_test',
      migrations: [],
      register: (app) => registerConsentNotificationRoute(app, { tenants: new Map([[LEIDEN, tenant]]), receiver: lazy }),
    };
    node = await createService(nodePart, { tls: leidenTls, network: staticNetwork({}), store });
    origins[LEIDEN] = [new URL(node.url).origin];
    cache = new CachedConsentOracle(new HttpConsentOracle(leiden, () => consent.url), { ttlMs: 60_000 });
    const log = pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) });
    ({ oracle, receiver } = createConsentNotifications({
      tenants: [tenant],
      clientOf: () => leiden,
      consentUrl: () => consent.url,
      nodeBaseUrl: () => node.url,
      cache,
      tls: leidenTls,
      log,
      maxPatientsPerTenant: 3,
    }));
  });
  after(async () => {
    await node?.close();
    await consent?.close();
    await consent?.store.close();
    for (const c of clients) await c.close();
  });

  it("subscribes for the patient asked about (callback on the node's own origin), and a consent change clears the long-cached answer", async () => {
    const bsn = CITIZENS[6].bsn;
    assert.equal((await oracle.closedQuestion(question(bsn))).decision, 'Deny', 'opt-in and no consent yet');
    await waitFor(async () => (await subscriptionRows()).some((s) => s.bsn === bsn && s.status === 'active'), 5000, 'subscription created');
    const [sub] = (await subscriptionRows()).filter((s) => s.bsn === bsn);
    assert.equal(sub.endpoint, notifyEndpoint(node.url, LEIDEN), 'the callback is on the node\'s own origin');
    await oracle.closedQuestion(question(bsn));
    assert.equal((await subscriptionRows()).filter((s) => s.bsn === bsn).length, 1, 'one subscription per patient');
    assert.equal((await oracle.closedQuestion(question(bsn))).decision, 'Deny', 'cached');

    const written = await leiden.call(`${consent.url}/Consent`, { method: 'POST', body: permit(bsn) });
    assert.equal(written.status, 201, written.text);
    const t0 = Date.now();
    await waitFor(async () => (await oracle.closedQuestion(question(bsn))).decision === 'Permit', 5000, 'the change reaches the holder');
    assert.ok(Date.now() - t0 < 5000);
    const [row] = await consent.store.query<{ delivered_at: Date | null }>('SELECT delivered_at FROM notification_outbox WHERE subscription_id = $1', [sub.id]);
    assert.ok(row?.delivered_at, 'delivered through the node route');
  });

  it('refuses notifications from any certificate but the consent part\'s (403), also one with the same URA', async () => {
    const bundle = notificationBundle(consent.url, { subscription_id: 'x', event_number: 1, consent_id: 'c', consent_version: 1, created_at: new Date() });
    for (const tls of [await pki.identity(VELUWE), await pki.identity(CENTRAL_URA, { name: 'another central part' })]) {
      const r = await clientFor(tls).call<OperationOutcome>(notifyEndpoint(node.url, LEIDEN), { method: 'POST', body: bundle });
      assert.equal(r.status, 403);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
  });

  it('answers a malformed body 400, an unknown tenant 404, and acknowledges an unknown subscription while switching it off', async () => {
    const asConsent = clientFor(consentTls);
    const bad = await asConsent.call<OperationOutcome>(notifyEndpoint(node.url, LEIDEN), { method: 'POST', body: { resourceType: 'Bundle', type: 'searchset' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.resourceType, 'OperationOutcome');
    const nobody = await asConsent.call(notifyEndpoint(node.url, '90000999'), { method: 'POST', body: {} });
    assert.equal(nobody.status, 404);

    // A subscription of Leiden's that this node does not track (as after a restart).
    const bsn = CITIZENS[8].bsn;
    const orphan = await leiden.json<{ id: string }>(`${consent.url}/Subscription`, {
      method: 'POST',
      body: {
        resourceType: 'Subscription',
        status: 'requested',
        reason: 'OTV',
        criteria: `Consent?_query=otv&patientid=${bsn}&providerid=${LEIDEN}&providertype=V4`,
        channel: { type: 'rest-hook', endpoint: notifyEndpoint(node.url, LEIDEN), payload: 'application/fhir+json' },
      },
    });
    const bundle = notificationBundle(consent.url, { subscription_id: orphan.id, event_number: 1, consent_id: 'c', consent_version: 1, created_at: new Date() });
    const r = await asConsent.call(notifyEndpoint(node.url, LEIDEN), { method: 'POST', body: bundle });
    assert.equal(r.status, 200);
    await waitFor(async () => (await subscriptionRows()).find((s) => s.id === orphan.id)?.status === 'off', 5000, 'orphan switched off');
  });

  it('keeps at most maxPatients subscriptions, switching off the least recently asked and dropping its cached answers', async () => {
    const patients = [CITIZENS[10].bsn, CITIZENS[12].bsn, CITIZENS[14].bsn, CITIZENS[16].bsn];
    for (const bsn of patients) {
      await oracle.closedQuestion(question(bsn));
      await waitFor(async () => (await subscriptionRows()).some((s) => s.bsn === bsn && s.status === 'active'), 5000, 'subscribed');
    }
    // Capacity 3, and CITIZENS[6] from the first test was the oldest: it and patients[0] went.
    const active = async () => (await subscriptionRows()).filter((s) => s.status === 'active').map((s) => s.bsn);
    await waitFor(async () => (await active()).length === 3, 5000, 'evicted subscriptions switched off');
    assert.deepEqual((await active()).sort(), patients.slice(1).sort());
  });

  it('never blocks or fails a decision when the consent part refuses the subscription, pauses before retrying, and logs no BSN', async () => {
    const saved = origins[LEIDEN];
    origins[LEIDEN] = ['https://elsewhere.test'];
    try {
      const bsn = CITIZENS[18].bsn;
      const answer = await oracle.closedQuestion(question(bsn));
      assert.equal(answer.decision, 'Deny');
      await waitFor(async () => logLines.some((l) => l.includes('consent.subscribe-failed')), 5000, 'the failure is logged');
      assert.ok(!(await subscriptionRows()).some((s) => s.bsn === bsn));
      const failures = () => logLines.filter((l) => l.includes('consent.subscribe-failed')).length;
      const before = failures();
      for (let i = 0; i < 5; i++) assert.equal((await oracle.closedQuestion(question(bsn))).decision, 'Deny');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(failures(), before, 'no new subscribe attempt right after a failure');
    } finally {
      origins[LEIDEN] = saved;
    }
    for (const c of CITIZENS) assert.ok(!logLines.some((l) => l.includes(c.bsn)), 'no BSN in the node log');
  });
});

describe('recognising the consent part', () => {
  it('reads the certificate the consent part presents and refreshes it at most every refreshMs', async () => {
    const pki = await createTestPki();
    const tls = await pki.identity(CENTRAL_URA, { name: 'consent' });
    const part: PartDefinition = { name: 'consent', schema: 'c', migrations: [], register: async () => {} };
    const store = await openIsolatedPgliteStore('c');
    const svc = await createService(part, { tls, network: staticNetwork({}), store });
    try {
      let clock = 0;
      const isConsent = consentPartRecogniser({ url: () => svc.url, tls: await pki.identity(LEIDEN), refreshMs: 1000, now: () => clock });
      const { peerFromDer } = await import('../kit/http/peer.ts');
      const { pemToDer } = await import('../kit/pki/certificates.ts');
      const peerOf = (t: TlsIdentity) => peerFromDer(pemToDer(t.cert)) ?? undefined;
      assert.equal(await isConsent(undefined), false);
      assert.equal(await isConsent(peerOf(tls)), true);
      assert.equal(await isConsent(peerOf(await pki.identity(CENTRAL_URA, { name: 'other' }))), false);
      clock += 10;
      assert.equal(await isConsent(peerOf(await pki.identity(VELUWE))), false, 'within refreshMs no new handshake');
      assert.equal(await isConsent(peerOf(tls)), true);
    } finally {
      await svc.close();
      await store.close();
    }
  });
});
