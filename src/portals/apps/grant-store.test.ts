import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backends } from '../../kit/testing/backends.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { authMigrations } from '../../trust/auth/migrations.ts';
import { appGrantMigrations, GrantStore, TokenReuseError } from './grant-store.ts';

// Grants, codes and rotated refresh tokens on both backends: single use everywhere, a reused
// code or refresh token revokes the grant, revocation ends every token, no BSN in clear.

const grantInput = { clientId: 'gezond-thuis', appName: 'Gezond Thuis', bsn: DE_GROOT.bsn, loa: 'substantial', categories: ['MedicationUse'], scopes: ['patient/MedicationStatement.rs'], redirectUri: 'https://app.example/cb', codeChallenge: 'x'.repeat(43) };

test('grant store on every backend', async () => {
  for (const backend of await backends()) {
    const store = await backend.open('portal_apps', [...authMigrations, ...appGrantMigrations]);
    try {
      const grants = await GrantStore.open(store);
      const { code, grantId } = await grants.createGrant(grantInput);
      const redeemed = await grants.redeemCode(code);
      assert.equal(redeemed?.grant.bsn, DE_GROOT.bsn, backend.name);
      assert.deepEqual(redeemed?.grant.categories, ['MedicationUse']);
      // A second use of the code revokes the grant (the code leaked).
      const issued = await grants.issue(redeemed!.grant, 'jkt-1');
      assert.equal(await grants.redeemCode(code), undefined);
      assert.equal(await grants.accessToken(issued.accessToken), undefined, 'code reuse revoked the grant');

      const second = await grants.createGrant(grantInput);
      const g2 = (await grants.redeemCode(second.code))!.grant;
      const first = await grants.issue(g2, 'jkt-2');
      assert.equal((await grants.accessToken(first.accessToken))?.jkt, 'jkt-2');
      await assert.rejects(grants.refresh(first.refreshToken, 'jkt-other'), TokenReuseError, 'bound to its DPoP key');
      assert.equal(await grants.accessToken(first.accessToken), undefined, 'a refresh token presented with another key was stolen: grant revoked');
      const third = await grants.createGrant(grantInput);
      const g3 = (await grants.redeemCode(third.code))!.grant;
      const t1 = await grants.issue(g3, 'jkt-3');
      const t2 = await grants.refresh(t1.refreshToken, 'jkt-3');
      assert.notEqual(t2.refreshToken, t1.refreshToken);
      assert.ok(await grants.accessToken(t2.accessToken));
      await assert.rejects(grants.refresh(t1.refreshToken, 'jkt-3'), /used twice/);
      assert.equal(await grants.accessToken(t2.accessToken), undefined, 'reuse revoked the whole grant');
      await assert.rejects(grants.refresh(t2.refreshToken, 'jkt-3'), TokenReuseError, 'the rotated token died with the grant');

      const mine = await grants.grantsOf(DE_GROOT.bsn);
      assert.equal(mine.length, 3);
      assert.ok(mine.every((g) => g.revokedAt), 'all three ended');
      assert.ok(mine.find((g) => g.id === grantId)?.revokedAt);
      assert.deepEqual(await grants.grantsOf('999990019'), [], "another citizen sees none of his grants");
      const rows = JSON.stringify(await store.query('SELECT * FROM app_grants')) + JSON.stringify(await store.query('SELECT * FROM app_tokens')) + JSON.stringify(await store.query('SELECT * FROM app_codes'));
      assert.ok(!rows.includes(DE_GROOT.bsn), 'no BSN in clear');
      assert.ok(!rows.includes(t2.refreshToken) && !rows.includes(code), 'tokens and codes only as hashes');
    } finally {
      await store.close();
    }
  }
});
