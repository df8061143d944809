import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Consent, OperationOutcome } from '@medplum/fhirtypes';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import type { PartDefinition, TlsIdentity } from '../kit/part.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { CITIZENS, DE_GROOT } from '../sandbox/cast.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import type { AgreementsDocument } from '../trust/agreements/types.ts';
import { citizenTokenAuth } from './citizen-auth.ts';
import { consentResource, emptyScope } from './fhir.ts';
import { CONSENT_MIGRATIONS } from './migrations.ts';
import { parseConsentNotification } from './notifications.ts';
import { createConsentPart } from './part.ts';
import { createPdp } from './pdp/evaluate.ts';
import { HolderSubscriptions } from './pdp/holder-subscriptions.ts';
import { CachedConsentOracle, HttpConsentOracle } from './pdp/oracle.ts';
import type { PdpInput } from './pdp/types.ts';

// The consent part end to end over mutual TLS: citizens and providers writing, the closed question,
// every bad input the issue lists, subscriptions delivered after the subscriber comes back, and a
// holder's PDP seeing a change through the notification.

const CITIZEN_ISSUER = 'https://citizen-idp.test';
const VELUWE = '90000101';
const LEIDEN = '90000102';
const OTHER_CITIZEN = CITIZENS[1].bsn;

describe('consent part over mutual TLS', () => {
  let pki: TestPki;
  let svc: RunningService;
  let agreements: AgreementsDocument;
  let citizenToken: (bsn: string) => Promise<string>;
  const clients: PartClient[] = [];
  const clientFor = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0 });
    clients.push(c);
    return c;
  };
  let portal: PartClient;
  let leiden: PartClient;
  let veluwe: PartClient;
  // Each subscriber's node origins as the directory would list them.
  const nodeOrigins: Record<string, string[]> = {};

  before(async () => {
    pki = await createTestPki();
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), alg: 'ES256', kid: 'c1' }] });
    citizenToken = (bsn) =>
      new SignJWT({ bsn, acr: 'http://eidas.europa.eu/LoA/substantial' })
        .setProtectedHeader({ alg: 'ES256', kid: 'c1' })
        .setIssuer(CITIZEN_ISSUER)
        .setAudience('portal')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    agreements = defaultAgreements();
    const store = await openIsolatedPgliteStore('consent');
    await migrate(store, CONSENT_MIGRATIONS);
    svc = await createService(
      createConsentPart({
        agreements: () => agreements,
        citizenAuth: citizenTokenAuth({ issuer: CITIZEN_ISSUER, jwks, audience: 'portal' }),
        tokens: 'off',
        delivery: { intervalMs: 50, baseDelayMs: 50, maxDelayMs: 200 },
        subscriberOrigins: async (ura) => nodeOrigins[ura] ?? [],
      }),
      { tls: await pki.identity('90000002', { name: 'consent' }), network: staticNetwork({}), store },
    );
    portal = clientFor(await pki.identity('90000003', { name: 'portal' }));
    leiden = clientFor(await pki.identity(LEIDEN));
    veluwe = clientFor(await pki.identity(VELUWE));
  });
  after(async () => {
    await svc.close();
    await svc.store.close();
    for (const c of clients) await c.close();
  });

  const asCitizen = async (bsn: string) => ({ authorization: `Bearer ${await citizenToken(bsn)}` });
  const permit = (bsn: string) => consentResource({ ...emptyScope(), bsn, status: 'active', provision: 'permit' });
  const question = (extra: Record<string, unknown> = {}) => ({
    bsn: DE_GROOT.bsn, holderUra: LEIDEN, holderType: 'V4', requesterUra: VELUWE, requesterType: 'V4',
    requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002', exchange: 'acute-zorg',
    dataCategory: 'AllergyIntolerance', ...extra,
  });
  const ask = (body: unknown) => leiden.call<{ decision: string; rule: { kind: string }; issue?: OperationOutcome['issue'] }>(`${svc.url}/$closed-question`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('lets a citizen record, change and read their consent, with its history', async () => {
    const other = CITIZENS[5].bsn;
    const created = await portal.call<Consent>(`${svc.url}/Consent`, { method: 'POST', body: permit(other), headers: await asCitizen(other) });
    assert.equal(created.status, 201);
    assert.equal(created.headers.etag, 'W/"1"');
    const id = created.body.id!;
    const withdrawn = { ...permit(other), id, status: 'inactive' };
    const updated = await portal.call<Consent>(`${svc.url}/Consent/${id}`, { method: 'PUT', body: withdrawn, headers: { ...(await asCitizen(other)), 'if-match': 'W/"1"' } });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.meta?.versionId, '2');
    const stale = await portal.call(`${svc.url}/Consent/${id}`, { method: 'PUT', body: withdrawn, headers: { ...(await asCitizen(other)), 'if-match': 'W/"1"' } });
    assert.equal(stale.status, 412);
    const history = await portal.call<Bundle>(`${svc.url}/Consent/${id}/_history`, { headers: await asCitizen(other) });
    assert.deepEqual(history.body.entry?.map((e) => (e.resource as Consent).status), ['inactive', 'active']);
    const search = await portal.call<Bundle>(`${svc.url}/Consent?patient:identifier=${SYSTEM.bsn}|${other}`, { headers: await asCitizen(other) });
    assert.equal(search.body.entry?.length, 1);
    // Another citizen's consent looks exactly like an absent one (its existence is not revealed).
    const absent = await portal.call(`${svc.url}/Consent/${crypto.randomUUID()}`, { headers: await asCitizen(OTHER_CITIZEN) });
    assert.equal(absent.status, 404);
    for (const path of [`Consent/${id}`, `Consent/${id}/_history/1`, `Consent/${id}/_history`]) {
      const theirs = await portal.call<OperationOutcome>(`${svc.url}/${path}`, { headers: await asCitizen(OTHER_CITIZEN) });
      assert.equal(theirs.status, 404, path);
      assert.equal(theirs.body.resourceType, 'OperationOutcome');
    }
    assert.equal((await portal.call(`${svc.url}/Consent/${id}`)).status, 401);
  });

  it('refuses broken consents (422), another citizen\'s consent (403) and a forged citizen token (401)', async () => {
    const broken = { ...permit(DE_GROOT.bsn), provision: { type: 'perhaps' } };
    const r422 = await portal.call<OperationOutcome>(`${svc.url}/Consent`, { method: 'POST', body: broken, headers: await asCitizen(DE_GROOT.bsn) });
    assert.equal(r422.status, 422);
    assert.equal(r422.body.resourceType, 'OperationOutcome');
    // Wrong shapes are refused the same way, before anything is written.
    const [before] = await svc.store.query<{ n: string | number }>('SELECT count(*) AS n FROM consent_history');
    const good = permit(DE_GROOT.bsn);
    for (const provision of [{ ...good.provision, actor: { role: 'x' } }, { ...good.provision, code: { coding: [] } }, { ...good.provision, purpose: { code: 'TREAT' } }]) {
      const r = await portal.call<OperationOutcome>(`${svc.url}/Consent`, { method: 'POST', body: { ...good, provision }, headers: await asCitizen(DE_GROOT.bsn) });
      assert.equal(r.status, 422, JSON.stringify(provision));
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
    const [afterwards] = await svc.store.query<{ n: string | number }>('SELECT count(*) AS n FROM consent_history');
    assert.equal(Number(afterwards.n), Number(before.n));
    const badSub = await leiden.call(`${svc.url}/Subscription`, { method: 'POST', body: { resourceType: 'Subscription', criteria: 42, channel: { type: 'rest-hook', endpoint: 'https://x' } } });
    assert.equal(badSub.status, 422);
    const r403 = await portal.call(`${svc.url}/Consent`, { method: 'POST', body: permit(OTHER_CITIZEN), headers: await asCitizen(DE_GROOT.bsn) });
    assert.equal(r403.status, 403);
    // Flip a character inside the signature (the last one may carry only padding bits).
    const [h, p, sig] = (await citizenToken(DE_GROOT.bsn)).split('.');
    const forged = `${h}.${p}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    const r401 = await portal.call(`${svc.url}/Consent`, { method: 'POST', body: permit(DE_GROOT.bsn), headers: { authorization: `Bearer ${forged}` } });
    assert.equal(r401.status, 401);
  });

  it('answers the closed question, and 400 for a missing attribute (named) or an unknown exchange', async () => {
    const missing = await ask({ ...question(), requesterRole: undefined });
    assert.equal(missing.status, 400);
    assert.match(missing.body.issue?.[0].diagnostics ?? '', /requesterRole/);
    assert.equal((await ask(question({ exchange: 'huisbezoek' }))).status, 400);
    assert.equal((await ask(question({ exchange: undefined, eventCode: 'XYZ' }))).status, 400);
    assert.equal((await ask(question({ bsn: '123456789' }))).status, 400);
    const notMine = await veluwe.call(`${svc.url}/$closed-question`, { method: 'POST', body: question(), headers: { 'content-type': 'application/json' } });
    assert.equal(notMine.status, 403);
    const other = question({ bsn: CITIZENS[9].bsn });
    agreements.network.consentMode = 'opt-in';
    assert.equal((await ask(other)).body.decision, 'Deny');
    agreements.network.consentMode = 'opt-out';
    assert.equal((await ask(other)).body.decision, 'Permit');
    agreements.network.consentMode = 'opt-in';
  });

  it('records a provider\'s consent on the citizen\'s behalf with the provider\'s URA', async () => {
    const bsn = CITIZENS[7].bsn;
    const r = await leiden.call<Consent>(`${svc.url}/Consent`, { method: 'POST', body: permit(bsn) });
    assert.equal(r.status, 201);
    assert.ok(JSON.stringify(r.body.extension).includes(LEIDEN));
    const [row] = await svc.store.query<{ recorded_by_kind: string; recorded_by_ura: string }>('SELECT recorded_by_kind, recorded_by_ura FROM consent_history WHERE id = $1', [r.body.id]);
    assert.deepEqual(row, { recorded_by_kind: 'provider', recorded_by_ura: LEIDEN });
    assert.equal((await leiden.call(`${svc.url}/Consent/${r.body.id}`)).status, 401, 'providers cannot browse consents');
  });

  it('refuses a callback endpoint that is not on the subscriber\'s own node (422), writing nothing', async () => {
    nodeOrigins[LEIDEN] = ['https://leiden.node.test'];
    nodeOrigins[VELUWE] = ['https://veluwe.node.test'];
    const sub = (endpoint: string) => ({
      resourceType: 'Subscription',
      criteria: `Consent?patient:identifier=${SYSTEM.bsn}|${DE_GROOT.bsn}`,
      channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
    });
    const [before] = await svc.store.query<{ n: string | number }>('SELECT count(*) AS n FROM subscription');
    for (const [client, endpoint] of [
      [leiden, 'https://internal.example/admin'], // any host: the consent part would call it with its own certificate
      [leiden, 'https://leiden.node.test:8443/notify'], // same host, another port
      [leiden, 'https://x@leiden.node.test/notify'],
      [veluwe, 'https://leiden.node.test/notify'], // another organisation's node: would leak its notifications
    ] as const) {
      const r = await client.call<OperationOutcome>(`${svc.url}/Subscription`, { method: 'POST', body: sub(endpoint) });
      assert.equal(r.status, 422, endpoint);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
    const [afterwards] = await svc.store.query<{ n: string | number }>('SELECT count(*) AS n FROM subscription');
    assert.equal(Number(afterwards.n), Number(before.n));
    const own = await leiden.call<{ id: string }>(`${svc.url}/Subscription`, { method: 'POST', body: sub('https://leiden.node.test/consent/notify') });
    assert.equal(own.status, 201);
    assert.equal((await leiden.call(`${svc.url}/Subscription/${own.body.id}`, { method: 'DELETE' })).status, 204);
  });

  it('delivers a notification after the subscriber comes back, and the holder\'s next decision follows within 5 s', async () => {
    // The holder (Leiden) runs a notification receiver over mutual TLS and a PDP with a cached oracle.
    const received: Bundle[] = [];
    const oracle = new CachedConsentOracle(new HttpConsentOracle(leiden, () => svc.url), { ttlMs: 60_000 });
    let holder: HolderSubscriptions | null = null;
    const receiverPart: PartDefinition = {
      name: 'holder',
      schema: 'holder',
      migrations: [],
      async register(app) {
        app.post('/notify', async (request, reply) => {
          received.push(request.body as Bundle);
          return reply.code(holder?.onNotification(request.body) ? 200 : 404).send({});
        });
      },
    };
    const holderTls = await pki.identity(LEIDEN, { name: 'holder' });
    const start = (port = 0) =>
      createService(receiverPart, { tls: holderTls, network: staticNetwork({}), store: svc.store, port });
    const first = await start();
    const port = Number(new URL(first.url).port);
    nodeOrigins[LEIDEN] = [`https://127.0.0.1:${port}`];
    await first.app.close(); // the subscriber is down
    const bsn = DE_GROOT.bsn;
    holder = new HolderSubscriptions({
      client: leiden, consentBaseUrl: () => svc.url, holderUra: LEIDEN, holderType: 'V4', notifyEndpoint: `https://127.0.0.1:${port}/notify`, cache: oracle,
    });
    const sub = { body: { id: await holder.ensure(bsn) } };
    assert.equal(await holder.ensure(bsn), sub.body.id, 'one subscription per patient');
    const stranger = await veluwe.call(`${svc.url}/Subscription/${sub.body.id}`);
    assert.equal(stranger.status, 404);

    const pdp = createPdp({ agreements: () => agreements, consent: oracle });
    const input: PdpInput = {
      subject: { scope: 'acute-zorg', organization_ura: VELUWE, organization_facility_type: 'V4', user_id: '900001011', user_role: '01.045', client_qualifications: ['acute-zorg'] },
      request: { method: 'GET', path: '/fhir/AllergyIntolerance', query_params: { patient: 'Patient/1' } },
      context: { data_holder_organization_id: LEIDEN, data_holder_facility_type: 'V4', patient_bsn: bsn, purpose_of_use: 'TREAT', exchange: 'acute-zorg' },
    };
    assert.equal((await pdp.evaluate(input)).allow, false, 'opt-in and no consent yet');

    const c = await portal.call(`${svc.url}/Consent`, { method: 'POST', body: permit(bsn), headers: await asCitizen(bsn) });
    assert.equal(c.status, 201);
    await waitFor(async () => {
      const [row] = await svc.store.query<{ attempts: number }>('SELECT attempts FROM notification_outbox WHERE delivered_at IS NULL');
      return (row?.attempts ?? 0) >= 1;
    }, 5000);
    const again = await start(port); // the subscriber is back
    try {
      const t0 = Date.now();
      await waitFor(async () => (await pdp.evaluate(input)).allow, 5000);
      assert.ok(Date.now() - t0 <= 5000);
      assert.equal(received.length, 1);
      assert.equal(parseConsentNotification(received[0]).subscriptionId, sub.body.id);
    } finally {
      await again.app.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`condition not met within ${withinMs} ms`);
}
