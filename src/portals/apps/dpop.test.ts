import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import { migrate } from '../../kit/store/migrate.ts';
import type { Store } from '../../kit/store/store.ts';
import { authMigrations } from '../../trust/auth/migrations.ts';
import { DpopError, verifyDpopProof } from './dpop.ts';

// DPoP proofs signed with jose the way a client library makes them, checked by ours.

let store: Store;
before(async () => {
  store = await openIsolatedPgliteStore('dpop');
  await migrate(store, authMigrations);
});
after(async () => store.close());

const URL_ = 'https://portal.example/citizen-api/fhir/MedicationStatement';

async function proof(o: { htm?: string; htu?: string; iat?: number; ath?: string; jti?: string; leakPrivate?: boolean; typ?: string } = {}) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = o.leakPrivate ? await exportJWK(privateKey) : await exportJWK(publicKey);
  return new SignJWT({ htm: o.htm ?? 'GET', htu: o.htu ?? URL_, jti: o.jti ?? randomUUID(), ...(o.ath ? { ath: o.ath } : {}) })
    .setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'dpop+jwt', jwk })
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .sign(privateKey);
}

const check = (p: string, extra: { accessToken?: string; url?: string; method?: string } = {}) =>
  verifyDpopProof(p, { method: extra.method ?? 'GET', url: extra.url ?? `${URL_}?x=1`, accessToken: extra.accessToken, db: store });

test('a fresh proof for this method and URL gives its key thumbprint; a replay is refused', async () => {
  const p = await proof();
  const jkt = await check(p);
  assert.match(jkt, /^[A-Za-z0-9_-]{43}$/);
  await assert.rejects(check(p), /replayed/);
});

test('refuses another method, URL, type, an old proof, a private key, a missing or mismatched ath', async () => {
  await assert.rejects(check(await proof({ htm: 'POST' })), DpopError);
  await assert.rejects(check(await proof({ htu: 'https://other.example/x' })), /another URL/);
  await assert.rejects(check(await proof({ typ: 'JWT' })), DpopError);
  await assert.rejects(check(await proof({ iat: Math.floor(Date.now() / 1000) - 3600 })), /fresh/);
  await assert.rejects(check(await proof({ leakPrivate: true })), DpopError);
  await assert.rejects(check(await proof(), { accessToken: 'tok' }), /ath/);
  const ath = createHash('sha256').update('tok').digest('base64url');
  assert.ok(await check(await proof({ ath }), { accessToken: 'tok' }));
  await assert.rejects(verifyDpopProof(undefined, { method: 'GET', url: URL_, db: store }), /required/);
  await assert.rejects(verifyDpopProof('not.a.jwt', { method: 'GET', url: URL_, db: store }), DpopError);
});
