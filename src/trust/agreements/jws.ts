import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader, errors, type JWTVerifyGetKey } from 'jose';
import type { PartClient } from '../../kit/http/client.ts';
import type { SigningKey } from '../auth/keys.ts';
import { remoteJwks } from '../auth/remote-jwks.ts';
import { TrustError } from '../errors.ts';
import type { AgreementsDocument } from './types.ts';

// The agreements document travels as a compact JWS signed with a key from the trust JWKS.
// A part accepts it only when the signature verifies and the version is not older than the
// one it already holds (a rollback to weaker rules is an attack, not an update).

export const AGREEMENTS_TYPE = 'ldn-agreements+jws';
export const AGREEMENTS_MEDIA_TYPE = 'application/jose';

export function signAgreements(doc: AgreementsDocument, key: SigningKey): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(doc)))
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: AGREEMENTS_TYPE, cty: 'json' })
    .sign(key.privateKey);
}

/** Agreements that do not verify: nothing may be decided on them (ERR_TRUST_AGREEMENTS_REFUSED). */
export class AgreementsRefused extends TrustError {
  constructor(diagnostics: string) {
    super('ERR_TRUST_AGREEMENTS_REFUSED', diagnostics);
  }
}

export async function verifyAgreements(
  jws: string,
  keys: JWTVerifyGetKey | KeyObject,
  options: { minimumVersion?: number } = {},
): Promise<AgreementsDocument> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jws);
  } catch {
    throw new AgreementsRefused('agreements are not a signed JWS');
  }
  if (header.alg !== 'ES256') throw new AgreementsRefused(`agreements signed with ${String(header.alg)}; ES256 required`);
  if (header.typ !== AGREEMENTS_TYPE) throw new AgreementsRefused('JWS is not an agreements document');
  let payload: Uint8Array;
  try {
    payload = (await compactVerify(jws, keys as JWTVerifyGetKey, { algorithms: ['ES256'] })).payload;
  } catch (err) {
    // The trust JWKS not reachable in time is a transport failure, not a refusal: a caller may retry.
    if (err instanceof errors.JWKSTimeout || (err instanceof TypeError && /fetch failed/.test(err.message))) throw err;
    throw new AgreementsRefused(`agreements signature refused: ${(err as Error).message}`);
  }
  const doc = JSON.parse(new TextDecoder().decode(payload)) as AgreementsDocument;
  if (!Number.isInteger(doc.version)) throw new AgreementsRefused('agreements carry no version');
  if (options.minimumVersion !== undefined && doc.version < options.minimumVersion) {
    throw new AgreementsRefused(`agreements version ${doc.version} is older than the held version ${options.minimumVersion}`);
  }
  return doc;
}

/** Fetches GET [trust]/agreements and verifies it against the trust JWKS. */
export async function fetchAgreements(options: {
  trustUrl: string;
  client: PartClient;
  minimumVersion?: number;
  jwks?: JWTVerifyGetKey;
}): Promise<{ document: AgreementsDocument; jws: string }> {
  const r = await options.client.call(`${options.trustUrl}/agreements`, { headers: { accept: AGREEMENTS_MEDIA_TYPE } });
  // A trust part that cannot answer now (5xx) is a failure to retry, not a refusal.
  if (r.status >= 500) throw new Error(`agreements unavailable for now (${r.status})`);
  if (r.status !== 200) throw new AgreementsRefused(`agreements unavailable (${r.status})`);
  if (!(r.headers['content-type'] ?? '').startsWith(AGREEMENTS_MEDIA_TYPE)) throw new AgreementsRefused('agreements were not served as application/jose');
  const jws = r.text.trim();
  const keys = options.jwks ?? remoteJwks(`${options.trustUrl}/.well-known/jwks.json`, options.client);
  return { document: await verifyAgreements(jws, keys, { minimumVersion: options.minimumVersion }), jws };
}
