import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptRecipientJwk, prsMigrations, putRecipientKey, recipientKeyId, recipientKeyLookup } from '../../pseudonyms/recipient-keys.ts';
import { generateKeyPair, exportJWK } from 'jose';
import { backends, TEST_DATABASE_URL } from '../testing/backends.ts';
import { changeFeed } from './change-feed.ts';
import { openPostgresStore } from './postgres.ts';
import type { Store } from './store.ts';

// Two instances of a part over one database learn of each other's changes (LISTEN/NOTIFY): a
// committed change is announced, a rolled-back one is not. On PostgreSQL the second instance is a
// second pool over the same schema, as a second process would have.

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(check(), what);
}

async function rsaJwk() {
  const { publicKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true });
  return acceptRecipientJwk(await exportJWK(publicKey));
}

for (const backend of await backends()) {
  describe(`change feed on ${backend.name}`, () => {
    const secondInstance = async (a: Store): Promise<{ store: Store; close(): Promise<void> }> => {
      if (backend.name === 'pglite') return { store: a, close: async () => {} }; // one process: one shared instance
      const b = await openPostgresStore(a.schema, TEST_DATABASE_URL, 2);
      return { store: b, close: () => b.close() };
    };

    it('delivers a committed change to the other instance, and none for a rolled-back one', async () => {
      const a = await backend.open('kit_feed', prsMigrations);
      const b = await secondInstance(a);
      try {
        const seen: Array<string | null> = [];
        const stop = await changeFeed(b.store).subscribe('things', (key) => seen.push(key));
        await a
          .transaction(async (tx) => {
            await changeFeed(a).notify('things', 'rolled-back', tx);
            throw new Error('roll back');
          })
          .catch(() => {});
        await a.transaction(async (tx) => changeFeed(a).notify('things', 'committed', tx));
        await waitFor(() => seen.includes('committed'), 'the committed change arrives');
        assert.ok(!seen.includes('rolled-back'), 'a rolled-back change is never announced');
        await stop();
      } finally {
        await b.close();
        await a.close();
      }
    });

    it('a PRS recipient key re-registered at one instance is used at once by the other', async () => {
      const a = await backend.open('kit_feed', prsMigrations);
      const b = await secondInstance(a);
      try {
        const lookupB = recipientKeyLookup(b.store, 3_600_000); // a cache that would otherwise hold for an hour
        const stop = await changeFeed(b.store).subscribe('recipient_keys', (id) => lookupB.invalidate(id));
        const first = await rsaJwk();
        await putRecipientKey(a, 'ura:90000001', 'nvi', first.jwk, first.kid);
        assert.equal((await lookupB('ura:90000001', 'nvi'))?.kid, first.kid);
        const second = await rsaJwk();
        await putRecipientKey(a, 'ura:90000001', 'nvi', second.jwk, second.kid);
        await changeFeed(a).notify('recipient_keys', recipientKeyId('ura:90000001', 'nvi'));
        let kid: string | undefined;
        for (let i = 0; i < 100 && kid !== second.kid; i++) {
          kid = (await lookupB('ura:90000001', 'nvi'))?.kid;
          if (kid !== second.kid) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(kid, second.kid, 'instance B uses the new key');
        await stop();
      } finally {
        await b.close();
        await a.close();
      }
    });
  });
}
