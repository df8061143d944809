import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import pino from 'pino';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openPgliteStore } from '../../kit/store/pglite.ts';
import type { Store } from '../../kit/store/store.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { ehrSimulatorPlugin } from '../ehr-sim/plugin.ts';
import { openEhrStore } from '../ehr-sim/store.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { EhrConnector } from './ehr-connector.ts';
import { EHR_NOTIFICATION_PATH, EhrSubscriber } from './ehr-subscriber.ts';
import { nodeMigrations } from './migrations.ts';
import { startReferralSync } from './referral-sync.ts';
import { type Notification, notificationBundle, offersTopic, parseNotification, RESOURCE_CHANGE_TOPIC, subscriptionRequest } from './subscription-backport.ts';

// Topic-based Subscriptions (R4 Backport) between the node and the EHR simulator over real HTTP:
// the referral sync here never polls on its own (interval 0) and the test never runs it, so a
// referral that appears or disappears got there through the EHR's notification alone.
// Medplum's fhir-router (the independent server of medplum-ehr.test.ts) has no Subscription
// delivery (in Medplum that is the server's job queue), so this is proved against the simulator.

const TENANT = { ura: '90000102', type: 'V4', name: 'Ziekenhuis Leiden' } as NodeTenant;
const BSN = testBsn(5151);

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('EHR subscriptions (R4 Backport) drive the referral sync', () => {
  let ehrApp: FastifyInstance;
  let nodeApp: FastifyInstance;
  let ehrStore: Store;
  let store: Store;
  let connector: EhrConnector;
  let subscriber: EhrSubscriber;
  let sync: ReturnType<typeof startReferralSync>;
  let ehrBase: string;
  let nodeOrigin: string;
  const nvi = new Set<string>();
  const agreements = defaultAgreements();
  const env = {
    agreements: () => agreements,
    registerReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      for (const c of categories) nvi.add(`${bsn}|${c}`);
    },
    withdrawReferral: async (_t: NodeTenant, bsn: string, categories: string[]) => {
      for (const c of categories) nvi.delete(`${bsn}|${c}`);
    },
  } as unknown as NodeEnvironment;
  const write = async (method: string, path: string, body?: unknown): Promise<Resource> => {
    const res = await fetch(`${ehrBase}/${path}`, { method, headers: body ? { 'content-type': 'application/fhir+json' } : {}, ...(body ? { body: JSON.stringify(body) } : {}) });
    assert.ok(res.status < 300, `${method} ${path} → ${res.status}`);
    return res.status === 204 ? ({} as Resource) : ((await res.json()) as Resource);
  };

  before(async () => {
    ehrStore = await openEhrStore(`${TENANT.ura}_sub${process.pid}`);
    await ehrStore.exec('DELETE FROM ehr_resources; DELETE FROM ehr_tokens; DELETE FROM ehr_changes');
    ehrApp = Fastify({ forceCloseConnections: true });
    await ehrApp.register(ehrSimulatorPlugin, { prefix: '/ehr', stores: new Map([[TENANT.ura, ehrStore]]) });
    ehrBase = `${await ehrApp.listen({ port: 0, host: '127.0.0.1' })}/ehr/${TENANT.ura}/fhir`;

    store = await openPgliteStore(`node_sub${process.pid}`); // the EHR's PGlite, another schema
    await migrate(store, nodeMigrations);
    connector = new EhrConnector({ baseUrl: ehrBase, deadlineMs: 30_000 });
    const connectors = new Map([[TENANT.ura, connector]]);
    sync = startReferralSync({ store, env, tenants: [TENANT], connectors, intervalMs: 0, log: pino({ level: 'silent' }) });
    nodeApp = Fastify({ forceCloseConnections: true });
    // As the kit's service does for every part: FHIR JSON bodies.
    nodeApp.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, nodeApp.getDefaultJsonParser('error', 'error'));
    subscriber = new EhrSubscriber({ tenants: [TENANT], connectors, baseUrl: () => nodeOrigin, onChange: () => sync.nudge(), log: pino({ level: 'silent' }), retryMs: 100 });
    subscriber.register(nodeApp);
    nodeOrigin = await nodeApp.listen({ port: 0, host: '127.0.0.1' });
    subscriber.start();
  });
  after(async () => {
    await subscriber.stop();
    await sync.stop();
    await connector.close();
    await nodeApp.close();
    await ehrApp.close();
    await store.close();
    await ehrStore.close();
  });

  it('the EHR declares the topic; the node subscribes after a handshake', async () => {
    const cs = await fetch(`${ehrBase}/metadata`).then((r) => r.json());
    assert.ok(offersTopic(cs, RESOURCE_CHANGE_TOPIC));
    assert.ok(!offersTopic(cs, 'https://example.org/other-topic'));
    await until('subscribed', () => subscriber.state(TENANT.ura) === 'subscription');
  });

  it('a condition written in the EHR registers a referral, its deletion withdraws it, through notifications alone', async () => {
    const patient = await write('POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: SYSTEM.bsn, value: BSN }], name: [{ family: 'Peeters' }] });
    const condition = await write('POST', 'Condition', {
      resourceType: 'Condition',
      subject: { reference: `Patient/${patient.id}` },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { text: 'Diabetes mellitus type 2' },
    });
    await until('referral registered', () => nvi.has(`${BSN}|Condition`));
    await write('DELETE', `Condition/${condition.id}`);
    await until('referral withdrawn', () => !nvi.has(`${BSN}|Condition`));
  });

  it('the node refuses a notification without the subscription\'s secret or for an organisation it did not subscribe for', async () => {
    const post = (ura: string, body: unknown, auth?: string) =>
      fetch(`${nodeOrigin}${EHR_NOTIFICATION_PATH}/${ura}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: JSON.stringify(body) });
    const valid = notificationBundle({ subscription: `${ehrBase}/Subscription/x`, topic: RESOURCE_CHANGE_TOPIC, status: 'active', type: 'heartbeat', eventsSinceSubscriptionStart: 0, events: [] });
    assert.equal((await post(TENANT.ura, valid)).status, 401);
    assert.equal((await post(TENANT.ura, valid, 'Bearer not-the-secret')).status, 401);
    assert.equal((await post('90000999', valid, 'Bearer x')).status, 404);
  });

  it('the EHR refuses subscriptions it does not offer, and never shows the credential again', async () => {
    const bad = async (s: unknown, status: number) => {
      const res = await fetch(`${ehrBase}/Subscription`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(s) });
      assert.equal(res.status, status, await res.text());
    };
    const good = subscriptionRequest(RESOURCE_CHANGE_TOPIC, `${nodeOrigin}/nowhere`, 'secret', 'test');
    await bad({ ...good, criteria: 'Condition?patient=1' }, 422);
    await bad({ ...good, channel: { ...good.channel, type: 'websocket' } }, 422);
    await bad({ ...good, channel: { ...good.channel, endpoint: 'not a url' } }, 400);
    await bad({ ...good, channel: { ...good.channel, header: ['X-Evil: 1'] } }, 400);
    // An endpoint that refuses the handshake: the subscription is in error and gets no events.
    const res = await fetch(`${ehrBase}/Subscription`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(good) });
    const created = (await res.json()) as Subscription;
    assert.equal(res.status, 201);
    assert.equal(created.status, 'error');
    assert.deepEqual(created.channel.header, ['Authorization: ***']);
  });
});

describe('notification Bundles (R4 Backport SubscriptionStatus)', () => {
  const notification: fc.Arbitrary<Notification> = fc.record({
    subscription: fc.webUrl(),
    topic: fc.webUrl(),
    status: fc.constantFrom('active', 'error', 'off'),
    type: fc.constantFrom('handshake', 'heartbeat', 'event-notification' as const),
    eventsSinceSubscriptionStart: fc.nat(),
    events: fc.array(fc.record({ eventNumber: fc.nat(), focus: fc.webUrl(), timestamp: fc.date({ noInvalidDate: true, min: new Date(0) }).map((d) => d.toISOString()) }), { minLength: 1, maxLength: 5 }),
  });

  it('property: what is built is read back the same', () => {
    fc.assert(
      fc.property(notification, (n) => {
        const read = parseNotification(JSON.parse(JSON.stringify(notificationBundle(n))) as Bundle);
        assert.deepEqual(read, { ...n, events: n.events.map(({ eventNumber, focus, timestamp }) => ({ eventNumber, focus, timestamp })) });
      }),
      { numRuns: 200 },
    );
  });

  it('property: anything else is a 400 naming what is wrong, never a crash', () => {
    const junk = fc.oneof(
      fc.anything(),
      fc.record({ resourceType: fc.constant('Bundle'), type: fc.constantFrom('history', 'searchset'), entry: fc.array(fc.record({ resource: fc.anything() }), { maxLength: 3 }) }),
      fc.record({
        resourceType: fc.constant('Bundle'),
        type: fc.constant('history'),
        entry: fc.tuple(fc.record({ resource: fc.record({ resourceType: fc.constant('Parameters'), parameter: fc.array(fc.record({ name: fc.constantFrom('subscription', 'topic', 'status', 'type', 'notification-event', 'events-since-subscription-start'), valueString: fc.string(), valueCode: fc.string(), part: fc.anything() }, { requiredKeys: ['name'] }), { maxLength: 8 }) }) })),
      }),
    );
    fc.assert(
      fc.property(junk, (b) => {
        try {
          const n = parseNotification(b);
          assert.ok(n.subscription && n.topic && n.status);
        } catch (e) {
          assert.ok(e instanceof HttpError && e.status === 400, String(e));
        }
      }),
      { numRuns: 500 },
    );
  });
});
