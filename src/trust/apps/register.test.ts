import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { backends } from '../../kit/testing/backends.ts';
import { checkAppInput, citizenAppMigrations, getApp, isRedirectUri, listApps, registerApp, setAppStatus } from './register.ts';

const valid = { clientId: 'gezond-thuis', name: 'Gezond Thuis', vendor: 'PGO B.V.', redirectUris: ['https://app.example/cb', 'http://127.0.0.1:8080/cb'], scopes: ['patient/*.rs', 'patient/Observation.c'] };

test('an app registration is checked field by field', () => {
  assert.deepEqual(checkAppInput(valid).redirectUris, valid.redirectUris);
  for (const bad of [
    { ...valid, clientId: 'X' },
    { ...valid, redirectUris: ['http://app.example/cb'] },
    { ...valid, redirectUris: ['https://app.example/cb#frag'] },
    { ...valid, scopes: ['user/*.*'] },
    { ...valid, name: '' },
    { ...valid, jwks: { keys: [{ kty: 'EC', d: 'secret' }] } },
  ]) {
    assert.throws(() => checkAppInput(bad), (e: unknown) => e instanceof HttpError && e.status === 400, JSON.stringify(bad));
  }
  assert.equal(isRedirectUri('https://user:pw@app.example/'), false);
});

test('any body is either a checked registration or a 400 (property)', () => {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('clientId', 'name', 'vendor', 'redirectUris', 'scopes', 'jwks', 'x'), fc.anything()), (body) => {
      try {
        const input = checkAppInput(body);
        assert.ok(input.redirectUris.every(isRedirectUri));
      } catch (err) {
        assert.ok(err instanceof HttpError && err.status === 400, String(err));
      }
    }),
    { numRuns: 300 },
  );
});

test('the register on every backend: register once, suspend, reactivate, revoke for good', async () => {
  for (const backend of await backends()) {
    const store = await backend.open('trust_apps', citizenAppMigrations);
    try {
      const app = await registerApp(store, checkAppInput(valid), 'operator:90000001/1');
      assert.equal(app.status, 'active');
      await assert.rejects(registerApp(store, checkAppInput(valid), 'operator'), (e: HttpError) => e.status === 409);
      assert.equal((await setAppStatus(store, app.clientId, 'suspended', 'abuse')).status, 'suspended');
      assert.equal((await setAppStatus(store, app.clientId, 'active', 'fixed')).status, 'active');
      await setAppStatus(store, app.clientId, 'revoked', 'gone');
      await assert.rejects(setAppStatus(store, app.clientId, 'active', ''), (e: HttpError) => e.status === 409);
      await assert.rejects(setAppStatus(store, app.clientId, 'paused', ''), (e: HttpError) => e.status === 400);
      await assert.rejects(getApp(store, 'unknown-app'), (e: HttpError) => e.status === 404);
      assert.deepEqual((await listApps(store)).map((a) => a.clientId), ['gezond-thuis']);
    } finally {
      await store.close();
    }
  }
});
