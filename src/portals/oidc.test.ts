import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { callbackUrlOf, type LoginProvider, openIdLogin } from './oidc.ts';

// The relying party (openid-client 6) against a minimal provider written for this test: the
// provider checks the PKCE S256 verifier, and openid-client checks state, nonce and signature.
// The real Dezi-like and DigiD-like providers are tested with the same client in src/identity.

describe('openIdLogin (openid-client relying party)', () => {
  let provider: FastifyInstance;
  let issuer = '';
  let login: LoginProvider;
  let nonceOverride: string | undefined;
  const codes = new Map<string, { challenge: string; nonce: string; redirect: string }>();
  const redirectUri = 'https://portal.test/citizen/callback';

  before(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    provider = Fastify();
    await provider.register(formbody);
    provider.get('/.well-known/openid-configuration', async () => ({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    }));
    provider.get('/jwks', async () => ({ keys: [jwk] }));
    provider.get('/authorize', async (request, reply) => {
      const q = request.query as Record<string, string>;
      if (q.code_challenge_method !== 'S256' || !q.code_challenge || !q.nonce || !q.state) return reply.code(400).send({ error: 'invalid_request' });
      const code = randomBytes(16).toString('hex');
      codes.set(code, { challenge: q.code_challenge, nonce: q.nonce, redirect: q.redirect_uri });
      return reply.redirect(`${q.redirect_uri}?code=${code}&state=${encodeURIComponent(q.state)}&iss=${encodeURIComponent(issuer)}`);
    });
    provider.post('/token', async (request, reply) => {
      const b = request.body as Record<string, string>;
      const grant = codes.get(b.code);
      codes.delete(b.code);
      const s256 = createHash('sha256').update(b.code_verifier ?? '').digest('base64url');
      if (!grant || grant.challenge !== s256 || grant.redirect !== b.redirect_uri) return reply.code(400).send({ error: 'invalid_grant' });
      const idToken = await new SignJWT({ nonce: nonceOverride ?? grant.nonce, acr: 'http://eidas.europa.eu/LoA/substantial', name: 'H. de Groot' })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setSubject('999990019')
        .setAudience('portal')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      return { access_token: 'at', token_type: 'Bearer', id_token: idToken, expires_in: 300 };
    });
    await provider.listen({ host: '127.0.0.1', port: 0 });
    issuer = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}`;
    login = openIdLogin({ issuerUrl: issuer, clientId: 'portal', redirectUri, allowHttp: true });
  });
  after(() => provider.close());

  /** Plays the browser: follows the authorization redirect and returns the callback URL. */
  async function authorize(url: string): Promise<URL> {
    const r = await fetch(url, { redirect: 'manual' });
    assert.equal(r.status, 302);
    return callbackUrlOf(redirectUri, new URL(String(r.headers.get('location'))).pathname + new URL(String(r.headers.get('location'))).search);
  }

  test('code flow with PKCE S256, state and nonce yields the subject and claims', async () => {
    const { url, pending } = await login.begin();
    const u = new URL(url);
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(u.searchParams.get('state'), pending.state);
    assert.equal(u.searchParams.get('nonce'), pending.nonce);
    assert.ok(!u.searchParams.has('code_verifier'));
    const result = await login.complete(await authorize(url), pending);
    assert.equal(result.subject, '999990019');
    assert.equal(result.claims.acr, 'http://eidas.europa.eu/LoA/substantial');
    assert.ok(result.idToken);
  });

  test('a wrong state, a wrong verifier or a replayed nonce is refused', async () => {
    const a = await login.begin();
    const cb = await authorize(a.url);
    await assert.rejects(login.complete(cb, { ...a.pending, state: 'other' }));
    const b = await login.begin();
    await assert.rejects(login.complete(await authorize(b.url), { ...b.pending, codeVerifier: 'x'.repeat(43) }));
    const c = await login.begin();
    nonceOverride = 'someone-elses-nonce';
    try {
      await assert.rejects(login.complete(await authorize(c.url), c.pending));
    } finally {
      nonceOverride = undefined;
    }
  });
});
