import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Backend, backends } from '../kit/testing/backends.ts';
import type { Store } from '../kit/store/store.ts';
import { checkPassword, setPassword } from './credentials.ts';
import { loadOrCreateCookieKeys, loadOrCreateRsaKey, publicJwks } from './keys.ts';
import { purgeExpired, StoreAdapter } from './oidc/adapter.ts';
import { IDENTITY_MIGRATIONS } from './professional.ts';
import { castProfessionalDirectory } from '../sandbox/people.ts';
import { issueVerklaring } from './verklaring/issue.ts';
import { activeVerklaringForGrant, findVerklaring, revokeAllFor, revokeVerklaring, statusOf } from './verklaring/store.ts';
import { type VerklaringError, verifyVerklaring } from './verklaring/verify.ts';

// The identity parts' storage on both backends: the OIDC library's models, keys shared by
// instances, verklaring records and revocation, passwords.

const ISSUER = 'https://identity.test';

for (const backend of await backends()) {
  describe(`identity store on ${backend.name}`, () => {
    let store: Store;
    before(async () => {
      store = await (backend as Backend).open('identity', IDENTITY_MIGRATIONS);
    });
    after(async () => {
      await store.close();
    });

    it('stores, finds and expires library models; finds sessions by uid', async () => {
      const sessions = new StoreAdapter(store, 'Session');
      await sessions.upsert('s1', { uid: 'u1', accountId: 'a' }, 60);
      assert.equal((await sessions.find('s1'))?.accountId, 'a');
      assert.equal((await sessions.findByUid('u1'))?.accountId, 'a');
      await sessions.upsert('s2', { uid: 'u2' }, -1);
      assert.equal(await sessions.find('s2'), undefined);
      assert.ok((await purgeExpired(store)) >= 1);
      await sessions.destroy('s1');
      assert.equal(await sessions.find('s1'), undefined);
    });

    it('keeps no bearer value or account id in clear: ids are keyed hashes, payloads sealed', async () => {
      const tokens = new StoreAdapter(store, 'AccessToken');
      await tokens.upsert('opaque-access-token-value-123', { grantId: 'grant-xyz', accountId: '999990019', uid: 'uid-abc' }, 60);
      const rows = await store.query('SELECT * FROM oidc_models');
      const dump = JSON.stringify(rows);
      for (const secret of ['opaque-access-token-value-123', '999990019', 'grant-xyz', 'uid-abc']) assert.ok(!dump.includes(secret), `${secret} is not in the table`);
      assert.equal((await tokens.find('opaque-access-token-value-123'))?.accountId, '999990019');
      // Another key (another process without OIDC_STORE_KEY) finds nothing rather than garbage.
      const { randomBytes } = await import('node:crypto');
      assert.equal(await new StoreAdapter(store, 'AccessToken', randomBytes(32)).find('opaque-access-token-value-123'), undefined);
      await tokens.revokeByGrantId('grant-xyz');
      assert.equal(await tokens.find('opaque-access-token-value-123'), undefined);
    });

    it('consumes a code once: a second consume is refused as invalid_grant', async () => {
      const codes = new StoreAdapter(store, 'AuthorizationCode');
      await codes.upsert('c1', { grantId: 'g1' }, 60);
      await codes.consume('c1');
      assert.equal(typeof (await codes.find('c1'))?.consumed, 'number');
      await assert.rejects(codes.consume('c1'), /invalid|used/i);
    });

    it('revokes by grant only the grant-bound models, not interactions mentioning the grant', async () => {
      const tokens = new StoreAdapter(store, 'AccessToken');
      const interactions = new StoreAdapter(store, 'Interaction');
      await tokens.upsert('t1', { grantId: 'g2' }, 60);
      await interactions.upsert('i1', { grantId: 'g2' }, 60);
      await tokens.revokeByGrantId('g2');
      assert.equal(await tokens.find('t1'), undefined);
      assert.ok(await interactions.find('i1'));
    });

    it('creates keys once: a second load (another instance) gets the same key', async () => {
      const a = await loadOrCreateRsaKey(store, 'verklaring');
      const b = await loadOrCreateRsaKey(store, 'verklaring');
      assert.equal(a.kid, b.kid);
      assert.equal(publicJwks(a).keys[0].d, undefined);
      assert.deepEqual(await loadOrCreateCookieKeys(store), await loadOrCreateCookieKeys(store));
    });

    it('records, revokes and reports verklaringen; revoked ones leave the grant', async () => {
      const key = await loadOrCreateRsaKey(store, 'verklaring');
      const who = await castProfessionalDirectory().find('900001031');
      assert.ok(who);
      const opts = { issuer: ISSUER, jku: `${ISSUER}/dezi/jwks.json`, statusBase: `${ISSUER}/status/v1/verklaring`, ttlSeconds: 600, grantId: 'g9' };
      const { jwt, claims } = await issueVerklaring(store, key, who, opts);
      assert.equal(await activeVerklaringForGrant(store, 'g9', '900001031'), jwt);
      const rows = JSON.stringify(await store.query('SELECT * FROM verklaringen'));
      assert.ok(!rows.includes(jwt.split('.')[2]), 'the verklaring is not in the table in clear');
      assert.equal(await activeVerklaringForGrant(store, 'another grant', '900001031'), undefined);
      const record = await findVerklaring(store, claims.verklaring_id);
      assert.ok(record);
      assert.equal(statusOf(record), 'active');
      assert.equal(statusOf(record, new Date(Date.now() + 601_000)), 'expired');
      assert.equal(await revokeVerklaring(store, claims.verklaring_id, 'test'), true);
      assert.equal(await revokeVerklaring(store, 'unknown', 'test'), false);
      const revoked = await findVerklaring(store, claims.verklaring_id);
      assert.ok(revoked);
      assert.equal(statusOf(revoked), 'revoked');
      assert.equal(await activeVerklaringForGrant(store, 'g9', '900001031'), undefined);

      // The verifier with a key set instead of a URL, and a status check from the store.
      const checkStatus = async (uri: string) => {
        const r = await findVerklaring(store, uri.split('/').pop() as string);
        return !!r && statusOf(r) === 'active';
      };
      const second = await issueVerklaring(store, key, who, { ...opts, grantId: 'g10' });
      const verified = await verifyVerklaring(second.jwt, { issuer: ISSUER, jwks: publicJwks(key), expectedUra: '90000103', checkStatus });
      assert.equal(verified.rol_naam, 'Huisarts');
      await assert.rejects(verifyVerklaring(second.jwt, { issuer: 'https://other.test', jwks: publicJwks(key) }), (e: VerklaringError) => e.reason === 'wrong-issuer');
      assert.equal(await revokeAllFor(store, '900001031', 'left'), 1);
      await assert.rejects(verifyVerklaring(second.jwt, { issuer: ISSUER, jwks: publicJwks(key), checkStatus }), (e: VerklaringError) => e.reason === 'revoked');
      await assert.rejects(
        verifyVerklaring(second.jwt, { issuer: ISSUER, jwks: publicJwks(key), checkStatus: async () => { throw new Error('down'); } }),
        (e: VerklaringError) => e.reason === 'status-unavailable',
      );
    });

    it('checks passwords with scrypt and refuses unknown accounts and wrong passwords', async () => {
      await setPassword(store, '900001011', 'correct horse battery');
      assert.equal(await checkPassword(store, '900001011', 'correct horse battery'), true);
      assert.equal(await checkPassword(store, '900001011', 'wrong horse battery'), false);
      assert.equal(await checkPassword(store, '999999999', 'correct horse battery'), false);
      await assert.rejects(setPassword(store, 'x', 'short'));
    });
  });
}
