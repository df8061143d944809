import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import type { Store } from '../../kit/store/store.ts';
import { buildAuditEvent } from '../event.ts';
import { createJwsSigner, generateSigningKey } from '../signing.ts';
import { sampleInput } from '../test-fixtures.ts';
import { BACKENDS, postgresReachable } from '../test-stores.ts';
import { citizenAccessEntries } from './citizen-view.ts';
import { transparencySettingsOf } from './serve-settings.ts';
import {
  appendToLog,
  consistencyProof,
  inclusionProof,
  leafIndexOf,
  logSize,
  transparencyLogMigrations,
} from './log-store.ts';
import { pruneEventBodies } from './retention.ts';
import {
  signTreeHead,
  verifyConsistencyProof,
  verifyInclusionProof,
  verifySignedTreeHead,
} from './tree-head.ts';

// Pruning removes old bodies (and the citizen link) but no leaf: heads signed before pruning and
// proofs made after it still verify, and a re-sent old event is still a duplicate.

const OLD = '2020-01-01T00:00:00.000Z';
const PSEUDONYM = 'citizen-pseudonym-1';

const bodyOf = (id: string, when: string) => canonicalize(buildAuditEvent(sampleInput({ id, when })))!;

describe('transparency settings', () => {
  it('absent or 0 keeps forever; negatives and words are refused, naming the setting', () => {
    assert.equal(transparencySettingsOf({}).retentionDays, 0);
    assert.equal(transparencySettingsOf({ TRANSPARENCY_RETENTION_DAYS: '365' }).retentionDays, 365);
    for (const bad of ['-3', 'a year', '']) {
      assert.throws(() => transparencySettingsOf({ transparency_retention_days: bad }), /transparency: setting transparency_retention_days \(LDN_SETTING_TRANSPARENCY_RETENTION_DAYS\) must be a whole number ≥ 0/);
    }
  });

  it('the portal defaults to the operator; the declared defaults hold', () => {
    const d = transparencySettingsOf({});
    assert.deepEqual([d.portalUra, d.maxDeliveryDelayMs, d.treeHeadIntervalMs], ['90000001', 86_400_000, 10_000]);
    assert.equal(transparencySettingsOf({ operator_ura: '90000002' }).portalUra, '90000002');
    assert.equal(transparencySettingsOf({ operator_ura: '90000002', transparency_portal_ura: '90000003' }).portalUra, '90000003');
    assert.throws(() => transparencySettingsOf({ tree_head_interval_ms: '10' }), /≥ 100/);
  });
});

for (const backend of BACKENDS) {
  describe(`transparency retention on ${backend.name}`, async () => {
    const skip = backend.name === 'postgres' && !(await postgresReachable());
    let store: Store;
    before(async () => {
      if (!skip) store = await backend.open(transparencyLogMigrations);
    });
    after(async () => {
      if (!skip) await store.close();
    });

    it('clears old bodies only; signed heads, inclusion and consistency proofs still verify', {
      skip,
    }, async () => {
      const now = new Date();
      const items = Array.from({ length: 11 }, (_, i) => {
        const recorded = i < 6 ? OLD : now.toISOString();
        return {
          eventId: `r${i}`,
          body: bodyOf(`r${i}`, recorded),
          pseudonym: PSEUDONYM,
          sourceUra: '90000101',
          recorded,
        };
      });
      await appendToLog(store, items.slice(0, 7));
      const signer = await createJwsSigner((await generateSigningKey()).privateJwk, 'tlog-r');
      const before7 = await signTreeHead(store, signer);
      assert.equal((await citizenAccessEntries(store, PSEUDONYM, { count: 50, offset: 0 })).total, 7);

      assert.deepEqual(await pruneEventBodies(store, { olderThanDays: 30, now, batchSize: 4 }), {
        cleared: 6,
      });
      assert.deepEqual(
        await pruneEventBodies(store, { olderThanDays: 30, now }),
        { cleared: 0 },
        'a second pass finds nothing',
      );
      const rows = await store.query<{ event_id: string; body: string | null; pseudonym: string | null }>(
        'SELECT event_id, body, pseudonym FROM tlog_entry ORDER BY idx',
      );
      assert.deepEqual(
        rows.map((r) => [r.event_id, r.body !== null, r.pseudonym !== null]),
        [...[0, 1, 2, 3, 4, 5].map((i) => [`r${i}`, false, false]), ['r6', true, true]],
      );
      const view = await citizenAccessEntries(store, PSEUDONYM, { count: 50, offset: 0 });
      assert.equal(view.total, 1, 'the citizen view no longer lists pruned events');

      // The log grows after pruning; a re-sent pruned event is recognised, not appended again.
      const again = await appendToLog(store, [items[2], ...items.slice(7)]);
      assert.deepEqual(again[0], { eventId: 'r2', index: 2, duplicate: true });
      assert.equal(await logSize(store), 11);
      const after11 = await signTreeHead(store, signer);
      const h7 = await verifySignedTreeHead(before7, signer.publicJwk);
      const h11 = await verifySignedTreeHead(after11, signer.publicJwk);

      // Whoever kept a pruned event's body (the citizen, an auditor) can still prove it was logged.
      for (const i of [0, 5]) {
        assert.equal(await leafIndexOf(store, `r${i}`), i);
        assert.ok(verifyInclusionProof(await inclusionProof(store, i, 7), items[i].body, h7));
        assert.ok(verifyInclusionProof(await inclusionProof(store, i, 11), items[i].body, h11));
        assert.ok(!verifyInclusionProof(await inclusionProof(store, i, 11), items[i + 1].body, h11));
      }
      assert.ok(
        verifyConsistencyProof(await consistencyProof(store, 7, 11), h7, h11),
        'the head signed before pruning is extended by the later one',
      );
    });
  });
}
