import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { verifyCitizenToken } from './citizen-api.ts';

// The holder's check of the citizen provider's id_token: issuer, audience, signature, a valid BSN
// as subject and a stated level of assurance; anything else is a 401.

const ISSUER = 'https://citizen-identity.test';
const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
const other = await generateKeyPair('RS256');

async function token(claims: Record<string, unknown>, o: { key?: CryptoKey; iss?: string; aud?: string; exp?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? 'portal')
    .setIssuedAt()
    .setExpirationTime(o.exp ?? '5m')
    .sign(o.key ?? privateKey);
}
const verify = (t: string) => verifyCitizenToken(t, { issuer: ISSUER, jwks, audience: 'portal' });
const refused = (p: Promise<unknown>) => assert.rejects(p, (e: unknown) => e instanceof HttpError && e.status === 401);

describe('citizen id_token at the holder', () => {
  it('accepts the provider\'s token and returns the BSN and level of assurance', async () => {
    const c = await verify(await token({ sub: testBsn(7), acr: 'http://eidas.europa.eu/LoA/substantial', azp: 'portal' }));
    assert.deepEqual(c, { bsn: testBsn(7), loa: 'http://eidas.europa.eu/LoA/substantial', clientId: 'portal' });
  });

  it('refuses another issuer, audience or key, an expired token, no acr, or a subject that is no BSN', async () => {
    const acr = 'http://eidas.europa.eu/LoA/substantial';
    await refused(verify(await token({ sub: testBsn(7), acr }, { iss: 'https://identity.test' })));
    await refused(verify(await token({ sub: testBsn(7), acr }, { aud: 'viewer-zuid' })));
    await refused(verify(await token({ sub: testBsn(7), acr }, { key: other.privateKey })));
    await refused(verify(await token({ sub: testBsn(7), acr }, { exp: '-1m' })));
    await refused(verify(await token({ sub: testBsn(7) })));
    await refused(verify(await token({ sub: '123456789', acr })));
  });

  it('never accepts arbitrary strings as a token (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 300 }), async (s) => {
      await refused(verify(s));
    }), { numRuns: 100 });
  });
});
