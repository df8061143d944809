import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import type { JSONWebKeySet } from 'jose';
import pino from 'pino';
import { appendAuditEvents, auditLogMigrations } from '../audit/chain.ts';
import { buildAuditEvent } from '../audit/event.ts';
import { sampleInput } from '../audit/test-fixtures.ts';
import { BACKENDS } from '../audit/test-stores.ts';
import { verifyChain } from '../audit/verify.ts';
import { ephemeralKek } from '../kit/keys/key-encryption-key.ts';
import { KeyRefusal, type PartKeys, partKeys } from '../kit/keys/part-keys.ts';
import type { Store } from '../kit/store/store.ts';
import { generateSigningKey } from '../audit/signing.ts';
import { authMigrations } from '../trust/auth/index.ts';
import {
  AUDIT_CHECKPOINT_JWKS_PATH,
  auditRetentionDaysOf,
  loadOrCreateCheckpointSigner,
  registerAuditCheckpointKey,
  startAuditRetention,
} from './audit-retention.ts';

// The node's retention job prunes old records behind a checkpoint signed with the key it
// publishes; with that published key the pruned log verifies, without it it is unverifiable.

const pglite = BACKENDS.find((b) => b.name === 'pglite')!;
const log = pino({ level: 'silent' });
const OLD = '2020-01-01T00:00:00.000Z';

describe('node audit retention', () => {
  let store: Store;
  let keys: PartKeys;
  before(async () => {
    store = await pglite.open([...authMigrations, ...auditLogMigrations]);
    keys = partKeys(store, { kek: ephemeralKek() });
  });
  after(() => store.close());

  const publishedKey = async () => {
    const app = Fastify();
    await registerAuditCheckpointKey(app, store, keys);
    const res = await app.inject({ method: 'GET', url: AUDIT_CHECKPOINT_JWKS_PATH });
    await app.close();
    assert.equal(res.statusCode, 200);
    const jwks = res.json() as JSONWebKeySet;
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].d, undefined, 'the private part is never published');
    return jwks.keys[0];
  };

  it('reads the setting: absent or 0 keeps forever, a bad value is refused', () => {
    assert.equal(auditRetentionDaysOf({}), undefined);
    assert.equal(auditRetentionDaysOf({ audit_retention_days: '0' }), undefined);
    assert.equal(auditRetentionDaysOf({ AUDIT_RETENTION_DAYS: '30' }), 30);
    for (const bad of ['-1', 'forever', '0.5']) {
      assert.throws(() => auditRetentionDaysOf({ audit_retention_days: bad }), /LDN_SETTING_AUDIT_RETENTION_DAYS\) must be a whole number ≥ 0/);
    }
  });

  it('without the setting the job never prunes', async () => {
    await appendAuditEvents(store, [buildAuditEvent(sampleInput({ id: 'keep-1' }))]);
    await store.query('UPDATE audit_log SET recorded = $1', [OLD]);
    const job = startAuditRetention({ store, log, settings: {}, keys }, { firstRunMs: 0 });
    await job.runOnce();
    await job.stop();
    const [{ n }] = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log');
    assert.equal(n, 1);
    await store.exec('DELETE FROM audit_log; DELETE FROM audit_outbox');
    await store.query(`UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64)`);
  });

  it('the scheduled job prunes backdated records; the published key verifies the pruned log', async () => {
    await appendAuditEvents(
      store,
      Array.from({ length: 6 }, (_, i) => buildAuditEvent(sampleInput({ id: `ret-${i + 1}` }))),
    );
    // Records 1..4 are old, 5..6 are recent.
    await store.query('UPDATE audit_log SET recorded = $1 WHERE seq <= 4', [OLD]);
    const job = startAuditRetention(
      { store, log, settings: { audit_retention_days: '1' }, keys },
      { firstRunMs: 5, intervalMs: 60_000 },
    );
    try {
      // The first pass runs on its own shortly after start.
      for (let i = 0; i < 200; i++) {
        const [{ n }] = await store.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_checkpoint');
        if (n > 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      await job.stop();
    }
    const remaining = await store.query<{ seq: string }>('SELECT seq FROM audit_log ORDER BY seq');
    assert.deepEqual(
      remaining.map((r) => Number(r.seq)),
      [5, 6],
    );

    const key = await publishedKey();
    assert.deepEqual(await verifyChain(store, { checkpointKey: key }), {
      ok: true,
      checked: 2,
      firstSeq: 5,
      lastSeq: 6,
    });
    const without = await verifyChain(store);
    assert.equal(without.ok, false);
    assert.equal(!without.ok && without.kind, 'unverifiable');

    // The key is stable: a second pass (new records aged) signs with the same published key.
    await appendAuditEvents(store, [buildAuditEvent(sampleInput({ id: 'ret-7' }))]);
    await store.query('UPDATE audit_log SET recorded = $1 WHERE seq <= 5', [OLD]);
    const again = startAuditRetention(
      { store, log, settings: { audit_retention_days: '1' }, keys },
      { firstRunMs: 60_000 },
    );
    await again.runOnce();
    await again.stop();
    assert.deepEqual(await verifyChain(store, { checkpointKey: await publishedKey() }), {
      ok: true,
      checked: 2,
      firstSeq: 6,
      lastSeq: 7,
    });
    assert.deepEqual(await publishedKey(), key);
  });

  it('keeps the checkpoint key sealed under the KEK, moves a clear row in, and refuses another KEK', async () => {
    // This store signed checkpoints above: the key is sealed, and no clear copy is in auth_signing_keys.
    const clear = await store.query("SELECT 1 FROM auth_signing_keys WHERE purpose = 'audit-checkpoint'");
    assert.equal(clear.length, 0);
    const [{ sealed }] = await store.query<{ sealed: string }>("SELECT sealed FROM ldn_part_keys WHERE name = 'audit-checkpoint-key'");
    assert.doesNotMatch(sealed, /"d"|Ed25519|OKP/);
    // Another KEK over the same store refuses instead of making a new key over signed checkpoints.
    await assert.rejects(loadOrCreateCheckpointSigner(store, partKeys(store, { kek: ephemeralKek() })), KeyRefusal);

    // A store an earlier version left with the key in clear: the same key is moved in, the row goes.
    const old = await pglite.open([...authMigrations, ...auditLogMigrations]);
    try {
      const { privateJwk, publicJwk } = await generateSigningKey();
      await old.query("INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ('audit-checkpoint', 'k1', $1)", [JSON.stringify(privateJwk)]);
      const signer = await loadOrCreateCheckpointSigner(old, partKeys(old, { kek: ephemeralKek() }));
      assert.equal(signer.publicJwk.x, publicJwk.x);
      assert.equal((await old.query("SELECT 1 FROM auth_signing_keys WHERE purpose = 'audit-checkpoint'")).length, 0);
    } finally {
      await old.close();
    }
  });
});
