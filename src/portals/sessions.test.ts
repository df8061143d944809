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

test('session rows are sealed under the cookie: no BSN or token in the store, no row without its cookie', async () => {
  const { Sessions } = await import('./sessions.ts');
  for (const backend of await backends()) {
    const store = await backend.open('portal', portalSessionMigrations);
    try {
      const sessions = new Sessions<{ citizen?: { bsn: string; idToken: string } }>(new StoreSessionStore(store), { cookieName: 'ldn_citizen', cookiePath: '/' });
      const headers: Record<string, string> = {};
      const reply = { header: (k: string, v: string) => (headers[k.toLowerCase()] = v), getHeader: (k: string) => headers[k.toLowerCase()] };
      const created = await sessions.create(reply as never, { citizen: { bsn: '999990019', idToken: 'eyJhbGciOi.secret-token.sig' } });
      const rows = await store.query<{ id_hash: string; data: unknown }>('SELECT id_hash, data FROM portal_session');
      const dump = JSON.stringify(rows);
      assert.ok(!dump.includes('999990019'), 'no BSN in the row');
      assert.ok(!dump.includes('secret-token'), 'no token in the row');
      assert.ok(!dump.includes(created.id), 'no session id in the row');
      const asRequest = (id: string) => ({ headers: { cookie: `ldn_citizen=${id}` } }) as never;
      assert.equal((await sessions.load(asRequest(created.id)))?.data.citizen?.bsn, '999990019');
      // Another cookie name (another portal) cannot open it, nor a tampered row.
      const other = new Sessions<object>(new StoreSessionStore(store), { cookieName: 'ldn_viewer', cookiePath: '/' });
      assert.equal(await other.load(asRequest(created.id)), undefined);
      const row = rows[0];
      const data = (typeof row.data === 'string' ? JSON.parse(row.data) : row.data) as { sealed: string };
      const flipped = `${data.sealed.slice(0, 20)}${data.sealed[20] === 'A' ? 'B' : 'A'}${data.sealed.slice(21)}`;
      await store.query('UPDATE portal_session SET data = $2 WHERE id_hash = $1', [row.id_hash, JSON.stringify({ sealed: flipped })]);
      assert.equal(await sessions.load(asRequest(created.id)), undefined, 'a tampered row opens no session');
    } finally {
      await store.close();
    }
  }
});
