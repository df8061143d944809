import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { forbidden, type HttpError } from '../kit/fhir/outcome.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { SYSTEM } from '../kit/identifiers/systems.ts';
import { backends } from '../kit/testing/backends.ts';
import { consentResource, emptyScope } from './fhir.ts';
import { CONSENT_MIGRATIONS } from './migrations.ts';
import type { ClosedQuestion } from './model.ts';
import { NotificationDispatcher, parseConsentNotification } from './notifications.ts';
import { ConsentRegistry } from './registry.ts';
import { SubscriptionStore } from './subscription-store.ts';

const BSN = testBsn(1001);
const OTHER = testBsn(1002);
const q: ClosedQuestion = {
  bsn: BSN, holderUra: '90000103', holderType: 'Z3', requesterUra: '90000101', requesterType: 'V4',
  requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002', dataCategory: 'MedicationUse',
};
const permit = consentResource({ ...emptyScope(), bsn: BSN, status: 'active', provision: 'permit' });
const subscription = (bsn: string) => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'OTV',
  criteria: `Consent?patient:identifier=${SYSTEM.bsn}|${bsn}`,
  channel: { type: 'rest-hook', endpoint: 'https://holder.example/notify', payload: 'application/fhir+json' },
});

for (const backend of await backends()) {
  describe(`consent registry on ${backend.name}`, () => {
    it('keeps every version, answers from the current one, and refuses to rewrite history', async () => {
      const store = await backend.open('consent', CONSENT_MIGRATIONS);
      try {
        const reg = new ConsentRegistry(store);
        assert.equal((await reg.closedQuestion(q, 'opt-in')).decision, 'Deny');
        const v1 = await reg.create(permit, { kind: 'citizen' });
        assert.equal(v1.version, 1);
        assert.equal((await reg.closedQuestion(q, 'opt-in')).decision, 'Permit');
        const withdrawn = { ...permit, status: 'inactive' };
        const v2 = await reg.update(v1.id, withdrawn, { kind: 'provider', ura: '90000103', professional: '900001031' }, { ifMatch: 1 });
        assert.equal(v2.version, 2);
        assert.equal((await reg.closedQuestion(q, 'opt-in')).decision, 'Deny');
        const history = await reg.history(v1.id);
        assert.deepEqual(history.map((h) => [h.version, h.resource.status, h.recordedBy.kind]), [[2, 'inactive', 'provider'], [1, 'active', 'citizen']]);
        assert.equal(history[0].recordedBy.ura, '90000103');
        assert.equal((await reg.read(v1.id, 1))?.resource.status, 'active');
        await assert.rejects(store.query('UPDATE consent_history SET version = 9'), /append-only/);
        await assert.rejects(store.query('DELETE FROM consent_history'), /append-only/);
        await assert.rejects(reg.update(v1.id, permit, { kind: 'citizen' }, { ifMatch: 1 }), (e: HttpError) => e.status === 412);
        const moved = consentResource({ ...emptyScope(), bsn: OTHER, status: 'active', provision: 'permit' });
        await assert.rejects(reg.update(v1.id, moved, { kind: 'citizen' }), (e: HttpError) => e.status === 422);
        await assert.rejects(reg.update('nope', permit, { kind: 'citizen' }), (e: HttpError) => e.status === 404);
        await assert.rejects(
          reg.create(moved, { kind: 'citizen' }, (c) => {
            if (c.bsn !== BSN) throw forbidden('not yours');
          }),
          (e: HttpError) => e.status === 403,
        );
        assert.equal((await reg.ofCitizen(BSN)).length, 1);
      } finally {
        await store.close();
      }
    });

    it('queues a notification per subscriber with each change and retries until the subscriber is back', async () => {
      const store = await backend.open('consent', CONSENT_MIGRATIONS);
      try {
        const reg = new ConsentRegistry(store);
        const subs = new SubscriptionStore(store);
        const sub = await subs.create(subscription(BSN), '90000103');
        await subs.create(subscription(OTHER), '90000103');
        let up = false;
        const received: Bundle[] = [];
        const dispatcher = new NotificationDispatcher(
          store,
          {
            send: async (_endpoint, bundle) => {
              if (!up) return 503;
              received.push(bundle);
              return 200;
            },
          },
          { baseUrl: () => 'https://consent.test', baseDelayMs: 1 },
        );
        const c = await reg.create(permit, { kind: 'citizen' });
        assert.deepEqual(await dispatcher.runOnce(), { delivered: 0, failed: 1 });
        await new Promise((r) => setTimeout(r, 20));
        up = true;
        assert.deepEqual(await dispatcher.runOnce(), { delivered: 1, failed: 0 });
        assert.deepEqual(await dispatcher.runOnce(), { delivered: 0, failed: 0 });
        const note = parseConsentNotification(received[0]);
        assert.equal(note.subscriptionId, sub.id);
        assert.deepEqual(note.eventNumbers, [1]);
        assert.equal(note.focus[0], `https://consent.test/Consent/${c.id}/_history/1`);
        assert.doesNotMatch(JSON.stringify(received[0]), new RegExp(BSN));
      } finally {
        await store.close();
      }
    });
  });
}

describe('sandbox consents', () => {
  it('let the emergency physician see De Groot in opt-in, and are seeded only once', async () => {
    const { openIsolatedPgliteStore } = await import('../kit/store/pglite.ts');
    const { migrate } = await import('../kit/store/migrate.ts');
    const { seedConsentChoices } = await import('./sandbox-seed.ts');
    const { sandboxChoices } = await import('../sandbox/consent-choices.ts');
    const seedSandboxConsents = (store: Parameters<typeof seedConsentChoices>[0]) => seedConsentChoices(store, sandboxChoices());
    const { DE_GROOT } = await import('../sandbox/cast.ts');
    const store = await openIsolatedPgliteStore('consent');
    try {
      await migrate(store, CONSENT_MIGRATIONS);
      assert.equal((await seedSandboxConsents(store)).length, 5);
      assert.equal((await seedSandboxConsents(store)).length, 0);
      const reg = new ConsentRegistry(store);
      const a = await reg.closedQuestion({ ...q, bsn: DE_GROOT.bsn, holderUra: '90000102', holderType: 'V4', dataCategory: 'AllergyIntolerance' }, 'opt-in');
      assert.equal(a.decision, 'Permit');
    } finally {
      await store.close();
    }
  });
});
