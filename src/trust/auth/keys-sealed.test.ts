import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { ephemeralKek } from '../../kit/keys/key-encryption-key.ts';
import { partKeys } from '../../kit/keys/part-keys.ts';
import { backends } from '../../kit/testing/backends.ts';
import { loadOrCreateSigningKey } from './keys.ts';
import { authMigrations } from './migrations.ts';

// Signing keys of the trust part and the nodes are kept sealed in the part's key store; a key an
// earlier version left in clear in auth_signing_keys is moved there once and its clear row deleted.

for (const backend of await backends()) {
  describe(`sealed signing keys on ${backend.name}`, () => {
    it('moves a clear signing key into the sealed store, keeps its kid, and leaves no clear row', async () => {
      const store = await backend.open('auth_sealed', authMigrations);
      try {
        const { privateKey } = await generateKeyPair('ES256', { extractable: true });
        const clear = await exportJWK(privateKey);
        await store.query('INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ($1, $2, $3)', ['access-token', 'old', JSON.stringify(clear)]);
        const keys = partKeys(store, { kek: ephemeralKek() });
        const moved = await loadOrCreateSigningKey(store, 'access-token', keys);
        assert.equal(moved.privateJwk.d, clear.d, 'the same key, not a new one');
        assert.equal((await store.query('SELECT 1 FROM auth_signing_keys WHERE purpose = $1', ['access-token'])).length, 0, 'no clear copy left');
        const sealed = await store.query<{ sealed: string }>('SELECT sealed FROM ldn_part_keys');
        assert.ok(sealed.length === 1 && !sealed[0].sealed.includes(String(clear.d)));
        const again = await loadOrCreateSigningKey(store, 'access-token', keys);
        assert.equal(again.kid, moved.kid);
        const fresh = await loadOrCreateSigningKey(store, 'documents', keys);
        assert.notEqual(fresh.kid, moved.kid);
        assert.equal((await store.query('SELECT 1 FROM auth_signing_keys')).length, 0);
      } finally {
        await store.close();
      }
    });
  });
}
