import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { APP_TOKEN_AUDIENCE, verifyAppToken } from './citizen-tokens.ts';

// The holder's check of the portal's delegation token for a citizen's app: the portal's key and
// issuer, audience citizen-access, short-lived, a valid BSN, the app and its granted categories.

const ISSUER = 'https://portal.test/citizen-api';
const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'p1', alg: 'ES256' }] });
const claims = { acr: 'substantial', azp: 'gezond-thuis', app_name: 'Gezond Thuis', categories: ['MedicationUse'] };

async function token(c: Record<string, unknown>, o: { iss?: string; aud?: string; exp?: string; iat?: number; sub?: string } = {}) {
  return new SignJWT(c)
    .setProtectedHeader({ alg: 'ES256', kid: 'p1' })
    .setIssuer(o.iss ?? ISSUER)
    .setSubject(o.sub ?? testBsn(3))
    .setAudience(o.aud ?? APP_TOKEN_AUDIENCE)
    .setIssuedAt(o.iat)
    .setExpirationTime(o.exp ?? '60s')
    .sign(privateKey);
}
const verify = (t: string) => verifyAppToken(t, { issuer: ISSUER, jwks });
const refused = (p: Promise<unknown>) => assert.rejects(p, (e: unknown) => e instanceof HttpError && e.status === 401);

describe("a citizen app's delegation token at the holder", () => {
  it('names the citizen, the app and only the categories she granted', async () => {
    const c = await verify(await token(claims));
    assert.equal(c.bsn, testBsn(3));
    assert.deepEqual(c.app, { clientId: 'gezond-thuis', name: 'Gezond Thuis', categories: ['MedicationUse'], share: false });
    assert.equal((await verify(await token({ ...claims, share: true }))).app?.share, true);
  });

  it('refuses the id_token audience, another issuer, an old or expired token, no categories, no app, no BSN', async () => {
    await refused(verify(await token(claims, { aud: 'portal' })));
    await refused(verify(await token(claims, { iss: 'https://citizen-identity.test' })));
    await refused(verify(await token(claims, { iat: Math.floor(Date.now() / 1000) - 600, exp: '1h' })));
    await refused(verify(await token(claims, { exp: '-1m' })));
    await refused(verify(await token({ ...claims, categories: 'MedicationUse' })));
    await refused(verify(await token({ ...claims, app_name: undefined })));
    await refused(verify(await token(claims, { sub: '123456789' })));
  });

  it('never accepts arbitrary strings (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 200 }), async (s) => refused(verify(s))), { numRuns: 100 });
  });
});
