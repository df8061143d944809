import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import type { PartContext } from '../kit/part.ts';
import { PERMIT_ALG, PERMIT_TYP, type PermitClaims } from './contract.ts';

// The HDAB's permit-signing key, kept sealed in the part's store like every part key, and the
// compact JWS a granted permit travels as (contract: ES256, typ ldn-data-permit+jwt, kid).

export interface PermitSigner {
  kid: string;
  jwks: { keys: JWK[] };
  sign(claims: PermitClaims): Promise<string>;
  verify(jws: string, issuer: string, now?: Date): Promise<PermitClaims>;
}

export async function permitSigner(ctx: Pick<PartContext, 'keys' | 'store'>): Promise<PermitSigner> {
  const text = await ctx.keys.secret('hdab-permit-signing-key.json', {
    // Permits signed under a lost key could no longer be checked by the holders: never remake it silently.
    hasData: async () => (await ctx.store.query("SELECT 1 FROM permit WHERE jws IS NOT NULL LIMIT 1")).length > 0,
    make: async () => JSON.stringify(await exportJWK((await generateKeyPair(PERMIT_ALG, { extractable: true })).privateKey)),
  });
  return signerFromJwk(JSON.parse(text) as JWK);
}

export async function signerFromJwk(privateJwk: JWK): Promise<PermitSigner> {
  const { d: _d, ...pub } = privateJwk;
  const kid = createHash('sha256').update(`${pub.x}.${pub.y}`).digest('base64url').slice(0, 16);
  const privateKey = await importJWK(privateJwk, PERMIT_ALG);
  const publicKey = await importJWK(pub, PERMIT_ALG);
  return {
    kid,
    jwks: { keys: [{ ...pub, kid, alg: PERMIT_ALG, use: 'sig' }] },
    sign: (claims) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg: PERMIT_ALG, typ: PERMIT_TYP, kid }).sign(privateKey),
    async verify(jws, issuer, now) {
      const { payload } = await jwtVerify(jws, publicKey, { algorithms: [PERMIT_ALG], typ: PERMIT_TYP, issuer, clockTolerance: 0, ...(now ? { currentDate: now } : {}) });
      return payload as unknown as PermitClaims;
    },
  };
}
