import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backends } from '../kit/testing/backends.ts';
import { MemorySessionStore, portalSessionMigrations, type SessionStore, StoreSessionStore } from './sessions.ts';

async function exercise(store: SessionStore) {
  await store.set('h1', { csrf: 'c', citizen: { bsn: '999990019' } }, 60);
  assert.deepEqual(await store.get('h1'), { csrf: 'c', citizen: { bsn: '999990019' } });
  await store.set('h1', { csrf: 'd' }, 60);
  assert.deepEqual(await store.get('h1'), { csrf: 'd' });
  await store.set('h2', { csrf: 'e' }, -1);
  assert.equal(await store.get('h2'), undefined, 'expired sessions are gone');
  await store.delete('h1');
  assert.equal(await store.get('h1'), undefined);
  assert.equal(await store.get('never'), undefined);
}

test('memory session store', async () => {
  await exercise(new MemorySessionStore());
});

test('store-backed session store on every backend', async () => {
  for (const backend of await backends()) {
    const store = await backend.open('portal', portalSessionMigrations);
    try {
      await exercise(new StoreSessionStore(store));
    } finally {
      await store.close();
    }
  }
});
