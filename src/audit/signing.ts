import { CompactSign, compactVerify, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

// Ed25519 JWS for checkpoints of the local chain and signed tree heads of the transparency log.
// Compact JWS over the RFC 8785 form of a small JSON payload; verifiers hold the public JWK.

export const SIGNING_ALG = 'Ed25519';

export interface JwsSigner {
  kid: string;
  sign(payload: object): Promise<string>;
  publicJwk: JWK;
}

export async function generateSigningKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

export async function createJwsSigner(privateJwk: JWK, kid: string): Promise<JwsSigner> {
  const key = await importJWK(privateJwk, SIGNING_ALG);
  const { d: _d, ...publicJwk } = privateJwk;
  return {
    kid,
    publicJwk: { ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' },
    sign: (payload) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
        .setProtectedHeader({ alg: SIGNING_ALG, kid })
        .sign(key),
  };
}

/** Verifies a compact JWS and returns its JSON payload; throws when the signature is bad. */
export async function verifyJws<T>(jws: string, publicJwk: JWK): Promise<T> {
  const key = await importJWK(publicJwk, SIGNING_ALG);
  const { payload } = await compactVerify(jws, key, { algorithms: [SIGNING_ALG] });
  return JSON.parse(new TextDecoder().decode(payload)) as T;
}
