import assert from 'node:assert/strict';
import { createPrivateKey, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { base64url, SignJWT } from 'jose';
import { errorCodeOf } from '../../kit/errors.ts';
import { PartClient } from '../../kit/http/client.ts';
import { thumbprintOf } from '../../kit/http/peer.ts';
import { createService, type RunningService } from '../../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../../kit/part.ts';
import { pemToDer } from '../../kit/pki/certificates.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../../kit/testing/test-pki.ts';
import {
  AUTHORIZATION_SERVER_PUBLIC_PATHS,
  authMigrations,
  CLIENT_ASSERTION_TYPE,
  certificateChain,
  configureTokenVerification,
  createClientAssertion,
  generateSigningKey,
  JWT_BEARER_GRANT,
  loadOrCreateSigningKey,
  requireToken,
  TokenRefusal,
  TokenRequestError,
  TrustTokenProvider,
  trustVerification,
  verifyAccessToken,
} from './index.ts';

// The authentication library end to end over real mutual TLS: an authorisation server part,
// a resource part trusting it through its remote JWKS, and every refusal the issue lists.

const GOOD = '90000101';
const SUSPENDED = '90000666';
const OTHER = '90000102';

interface Oauth {
  error?: string;
  error_description?: string;
  access_token?: string;
}

describe('auth library: token endpoint, certificate-bound tokens, resource guard', () => {
  let pki: TestPki;
  let as: RunningService;
  let rs: RunningService;
  let good: TlsIdentity;
  let other: TlsIdentity;
  const clients: PartClient[] = [];
  const client = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0 });
    clients.push(c);
    return c;
  };
  const tokenUrl = () => `${as.url}/oauth/token`;

  before(async () => {
    pki = await createTestPki();
    good = await pki.identity(GOOD);
    other = await pki.identity(OTHER);
    const asStore = await openIsolatedPgliteStore('authas');
    await migrate(asStore, authMigrations);
    const signingKey = await loadOrCreateSigningKey(asStore);
    let asUrl = '';
    const asPart: PartDefinition = {
      name: 'as',
      schema: 'authas',
      migrations: [],
      publicPaths: AUTHORIZATION_SERVER_PUBLIC_PATHS,
      async register(app, ctx) {
        const { registerTokenEndpoint } = await import('./index.ts');
        await registerTokenEndpoint(app, {
          issuer: () => ctx.baseUrl,
          signingKey,
          store: ctx.store,
          admit: async (peer, ura) => (ura === SUSPENDED ? 'participant is suspended' : peer.ura === ura ? null : 'not your URA'),
          scopesFor: async (c, requested) => requested.filter((s) => s === 'data:read' || (s === 'data:write' && c.ura === OTHER)),
          verifyUserAssertion: async (assertion, c) => {
            if (assertion !== 'valid-verklaring') throw new Error('bad verklaring');
            return { deziNumber: '900001011', roleCode: '01.015', name: 'A. Bakker', ura: c.ura };
          },
        });
      },
    };
    as = await createService(asPart, { tls: await pki.identity('90000001', { name: 'as' }), network: staticNetwork({}), store: asStore });
    asUrl = as.url;
    const rsClient = client(await pki.identity('90000002', { name: 'rs' }));
    const rsPart: PartDefinition = {
      name: 'rs',
      schema: 'authrs',
      migrations: [],
      async register(app, ctx) {
        configureTokenVerification(app, trustVerification({ trustUrl: asUrl, client: rsClient, audience: () => ctx.baseUrl }));
        app.get('/data', { preHandler: requireToken({ scope: 'data:read' }) }, async (req) => ({ sub: req.token?.sub, dezi: req.token?.dezi_number }));
        app.get('/write', { preHandler: requireToken({ scope: 'data:write' }) }, async () => ({ ok: true }));
      },
    };
    rs = await createService(rsPart, { tls: await pki.identity('90000002', { name: 'rs' }), network: staticNetwork({}), store: await openIsolatedPgliteStore('authrs') });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await rs.close();
    await as.close();
    await rs.store.close();
    await as.store.close();
  });

  const form = (assertion: string, extra: Record<string, string> = {}) => ({
    grant_type: 'client_credentials',
    client_assertion_type: CLIENT_ASSERTION_TYPE,
    client_assertion: assertion,
    scope: 'data:read',
    resource: rs.url,
    ...extra,
  });
  const requestToken = (tls: TlsIdentity, f: Record<string, string>) => client(tls).call<Oauth>(tokenUrl(), { method: 'POST', form: f });
  const goodAssertion = (tls = good, ura = GOOD) => createClientAssertion({ identity: tls, ura, tokenEndpoint: tokenUrl() });
  async function tokenFor(tls = good, ura = GOOD, extra: Record<string, string> = {}): Promise<string> {
    const r = await requestToken(tls, form(await goodAssertion(tls, ura), extra));
    assert.equal(r.status, 200, r.text);
    return r.body.access_token!;
  }
  /** A hand-made assertion, for the cases the library would never produce. */
  async function craft(o: { key?: string; x5c?: string[]; aud?: string; iat?: number; exp?: number; jti?: string; cnf?: string; iss?: string }) {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ cnf: { 'x5t#S256': o.cnf ?? thumbprintOf(pemToDer(good.cert)) } })
      .setProtectedHeader({ alg: 'ES256', x5c: o.x5c ?? certificateChain(good.cert) })
      .setIssuer(o.iss ?? GOOD)
      .setSubject(o.iss ?? GOOD)
      .setAudience(o.aud ?? tokenUrl())
      .setIssuedAt(o.iat ?? now)
      .setExpirationTime(o.exp ?? now + 60)
      .setJti(o.jti ?? randomUUID())
      .sign(createPrivateKey(o.key ?? good.key));
  }
  const expectOAuth = (r: { status: number; body: Oauth }, status: number, error: string, why?: RegExp) => {
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error, error);
    if (why) assert.match(r.body.error_description ?? '', why);
  };

  it('issues a certificate-bound token that the resource part accepts', async () => {
    const tokens = new TrustTokenProvider({ tls: good, ura: GOOD, tokenEndpoint: tokenUrl(), client: client(good) });
    const caller = new PartClient({ tls: good, tokens, maxRetries: 0 });
    clients.push(caller);
    const r = await caller.call<{ sub: string }>(`${rs.url}/data`, { scope: 'data:read' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.sub, GOOD);
    const again = await tokens.token(rs.url, 'data:read');
    assert.equal(again, await tokens.token(rs.url, 'data:read'), 'cached token reused');
  });

  it('carries the professional for the jwt-bearer grant', async () => {
    const token = await tokenFor(good, GOOD, { grant_type: JWT_BEARER_GRANT, assertion: 'valid-verklaring' });
    const r = await client(good).call<{ dezi: string }>(`${rs.url}/data`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.body.dezi, '900001011');
    const bad = await requestToken(good, form(await goodAssertion(), { grant_type: JWT_BEARER_GRANT, assertion: 'forged' }));
    expectOAuth(bad, 400, 'invalid_grant');
  });

  it('refuses a token request without a client certificate (401 invalid_client)', async () => {
    const bare = client({ cert: '', key: '', ca: pki.ca.certPem });
    expectOAuth(await bare.call<Oauth>(tokenUrl(), { method: 'POST', form: form('x') }), 401, 'invalid_client', /certificate/);
  });

  it('refuses an expired certificate', async () => {
    const expired = await pki.identity(GOOD, { notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    const r = await requestToken(expired, form(await goodAssertion(expired)));
    expectOAuth(r, 401, 'invalid_client', /EXPIRED/i);
  });

  it('refuses a participant the register does not admit', async () => {
    const suspended = await pki.identity(SUSPENDED);
    expectOAuth(await requestToken(suspended, form(await goodAssertion(suspended, SUSPENDED))), 401, 'invalid_client', /suspended/);
  });

  it('refuses an assertion for another URA than the certificate', async () => {
    const r = await requestToken(good, form(await craft({ iss: OTHER })));
    expectOAuth(r, 401, 'invalid_client', /not your URA/);
  });

  it('refuses an assertion with the wrong aud', async () => {
    expectOAuth(await requestToken(good, form(await craft({ aud: 'https://elsewhere.example/oauth/token' }))), 401, 'invalid_client', /aud/);
  });

  it('refuses a reused jti', async () => {
    const a = await goodAssertion();
    assert.equal((await requestToken(good, form(a))).status, 200);
    expectOAuth(await requestToken(good, form(a)), 401, 'invalid_client', /jti/);
  });

  it('refuses an expired assertion and one living longer than 5 minutes', async () => {
    const now = Math.floor(Date.now() / 1000);
    expectOAuth(await requestToken(good, form(await craft({ iat: now - 200, exp: now - 100 }))), 401, 'invalid_client', /expired/);
    expectOAuth(await requestToken(good, form(await craft({ exp: now + 3600 }))), 401, 'invalid_client', /5 minutes/);
  });

  it('refuses an assertion signed with another key than the certificate', async () => {
    expectOAuth(await requestToken(good, form(await craft({ key: other.key }))), 401, 'invalid_client', /signature/);
    expectOAuth(await requestToken(good, form(await craft({ key: other.key, x5c: certificateChain(other.cert) }))), 401, 'invalid_client', /x5c/);
  });

  it('refuses a scope the participant is not qualified for (400 invalid_scope)', async () => {
    expectOAuth(await requestToken(good, form(await goodAssertion(), { scope: 'data:read data:write' })), 400, 'invalid_scope', /data:write/);
  });

  it('refuses unknown grants, missing resource and repeated parameters', async () => {
    expectOAuth(await requestToken(good, form(await goodAssertion(), { grant_type: 'password' })), 400, 'unsupported_grant_type');
    const noResource = form(await goodAssertion());
    delete (noResource as Record<string, string>).resource;
    expectOAuth(await requestToken(good, noResource), 400, 'invalid_target');
    const r = await client(good).call<Oauth>(tokenUrl(), {
      method: 'POST',
      body: `${new URLSearchParams(form(await goodAssertion()))}&scope=x`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectOAuth(r, 400, 'invalid_request', /repeated/);
  });

  it('refuses a token presented over a different TLS certificate than its cnf', async () => {
    const token = await tokenFor();
    const r = await client(other).call<{ resourceType: string; issue: Array<{ diagnostics: string }> }>(`${rs.url}/data`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 401);
    assert.equal(r.body.resourceType, 'OperationOutcome');
    assert.match(r.body.issue[0].diagnostics, /bound to another certificate/);
  });

  it('refuses a token for another audience', async () => {
    const token = await tokenFor(good, GOOD, { resource: 'https://other-part.example' });
    const r = await client(good).call<{ issue: Array<{ diagnostics: string }> }>(`${rs.url}/data`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 401);
    assert.match(r.body.issue[0].diagnostics, /audience/);
  });

  it('refuses a tampered payload and alg none', async () => {
    const token = await tokenFor();
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    claims.scope = 'data:read data:write';
    const tampered = `${h}.${base64url.encode(JSON.stringify(claims))}.${s}`;
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }))}.${base64url.encode(JSON.stringify(claims))}.`;
    for (const t of [tampered, none]) {
      const r = await client(good).call<{ resourceType: string }>(`${rs.url}/write`, { headers: { authorization: `Bearer ${t}` } });
      assert.equal(r.status, 401);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
  });

  it('answers a missing token with 401 and a missing scope with 403', async () => {
    const bare = await client(good).call<OperationOutcome>(`${rs.url}/data`);
    assert.equal(bare.status, 401);
    assert.match(bare.headers['www-authenticate'], /invalid_token/);
    assert.equal(errorCodeOf(bare.body), 'ERR_TRUST_TOKEN_INVALID');
    const token = await tokenFor();
    const r = await client(good).call<OperationOutcome>(`${rs.url}/write`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 403);
    assert.match(r.headers['www-authenticate'], /insufficient_scope/);
    assert.equal(errorCodeOf(r.body), 'ERR_TRUST_TOKEN_SCOPE');
  });

  it('introspects (RFC 7662) for participants and publishes metadata and keys', async () => {
    const token = await tokenFor();
    const active = await client(other).call<{ active: boolean; sub: string }>(`${as.url}/oauth/introspect`, { method: 'POST', form: { token } });
    assert.deepEqual([active.body.active, active.body.sub], [true, GOOD]);
    const inactive = await client(other).call<{ active: boolean }>(`${as.url}/oauth/introspect`, { method: 'POST', form: { token: `${token}x` } });
    assert.equal(inactive.body.active, false);
    const bare = client({ cert: '', key: '', ca: pki.ca.certPem });
    assert.equal((await bare.call(`${as.url}/oauth/introspect`, { method: 'POST', form: { token } })).status, 401);
    const meta = await bare.call<{ issuer: string; token_endpoint: string; tls_client_certificate_bound_access_tokens: boolean }>(
      `${as.url}/.well-known/oauth-authorization-server`,
    );
    assert.equal(meta.body.token_endpoint, tokenUrl());
    assert.equal(meta.body.tls_client_certificate_bound_access_tokens, true);
    const jwks = await bare.call<{ keys: Array<{ kty: string; d?: string }> }>(`${as.url}/.well-known/jwks.json`);
    assert.equal(jwks.body.keys[0].kty, 'EC');
    assert.equal(jwks.body.keys[0].d, undefined, 'no private part published');
  });

  it('the token provider reports a refusal with the OAuth error', async () => {
    const suspended = await pki.identity(SUSPENDED);
    const tokens = new TrustTokenProvider({ tls: suspended, ura: SUSPENDED, tokenEndpoint: tokenUrl(), client: client(suspended) });
    await assert.rejects(tokens.token(rs.url, 'data:read'), (e: unknown) => e instanceof TokenRequestError && e.error === 'invalid_client');
  });

  it('verifyAccessToken refuses arbitrary input with a TokenRefusal, never anything else', async () => {
    const key = await generateSigningKey();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/)), async (t) => {
        await assert.rejects(
          verifyAccessToken(t, { issuer: 'x', jwks: { keys: [key.publicJwk] }, audience: 'x', peer: undefined }),
          (e: unknown) => e instanceof TokenRefusal && e.status === 401,
        );
      }),
      { numRuns: 200 },
    );
  });
});
