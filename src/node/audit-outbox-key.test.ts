import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BACKENDS } from '../audit/test-stores.ts';
import type { Store } from '../kit/store/store.ts';
import { authMigrations } from '../trust/auth/index.ts';
import { loadOrCreateOutboxKey, outboxKeySetting } from './audit-outbox-key.ts';

// The outbox key is created once per node store and then reused (rows queued before a restart
// must still open); a configured key must be 32 bytes, and a bad one is never quoted.

const pglite = BACKENDS.find((b) => b.name === 'pglite')!;

describe('audit outbox key', () => {
  let store: Store;
  before(async () => {
    store = await pglite.open([...authMigrations]);
  });
  after(() => store.close());

  it('is created once in the store and read back the same', async () => {
    const [a, b] = await Promise.all([loadOrCreateOutboxKey(store), loadOrCreateOutboxKey(store)]);
    assert.equal(a.length, 32);
    assert.deepEqual(Buffer.from(b), Buffer.from(a), 'instances starting at once agree');
    assert.deepEqual(Buffer.from(await loadOrCreateOutboxKey(store)), Buffer.from(a));
  });

  it('a setting overrides it; a malformed one is refused without repeating it', () => {
    const key = Buffer.alloc(32, 7);
    assert.deepEqual(Buffer.from(outboxKeySetting(key.toString('base64url'))!), key);
    for (const bad of ['c2hvcnQ', `${key.toString('base64url')}!`, key.toString('hex')]) {
      assert.throws(
        () => outboxKeySetting(bad),
        (err: Error) => /32 bytes/.test(err.message) && !err.message.includes(bad),
      );
    }
    assert.equal(outboxKeySetting(undefined), undefined);
  });
});
