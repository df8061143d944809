import { KeyObject as NodeKeyObject } from 'node:crypto';
import { compactDecrypt, type CryptoKey, type KeyObject } from 'jose';
import { isEcdhKey, openEcdhEsA256Kw, sealEcdhEsA256Kw } from './jwe-ecdh.ts';
import { sealRsaOaep256A256Gcm } from './jwe-seal.ts';
import { TokenRefused } from './errors.ts';

// The PRS answer (design §5): the evaluated element(s) encrypted to the recipient with JWE
// RSA-OAEP-256 + A256GCM, or ECDH-ES+A256KW + A256GCM (X25519 or P-256) for a recipient that
// registered an elliptic-curve key, so the requesting holder that relays it can read nothing. The
// recipient checks audience and expiry before it uses the element; the key it holds decides the
// one algorithm it accepts (no algorithm choice is taken from the token).

export const TOKEN_ALG = 'RSA-OAEP-256';
export const TOKEN_ENC = 'A256GCM';
export const MAX_TOKEN_SECONDS = 300;
const SUBJECT_PREFIX = 'pseudonym:eval:';
const CLOCK_SKEW_SECONDS = 60;

export interface EvaluatedElement {
  version: number;
  evaluated: Uint8Array;
}

export interface EvaluationClaims {
  /** "pseudonym:eval:<base64url element>" under the current key version. */
  subject: string;
  /** "ura:<URA>" of the recipient. */
  aud: string;
  scope: string;
  iat: number;
  exp: number;
  /** Key version of `subject`. */
  version: number;
  /** Older active versions: version → "pseudonym:eval:<…>". */
  extra_versions: Record<string, string>;
}

export { TokenRefused };

type Key = CryptoKey | KeyObject | Uint8Array;

export async function sealEvaluation(
  elements: EvaluatedElement[],
  to: { recipientOrganization: string; recipientScope: string; key: CryptoKey | NodeKeyObject; kid?: string },
  options: { now?: number; ttlSeconds?: number } = {},
): Promise<string> {
  if (elements.length === 0) throw new Error('nothing to seal');
  const ttl = Math.min(options.ttlSeconds ?? MAX_TOKEN_SECONDS, MAX_TOKEN_SECONDS);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const [current, ...older] = [...elements].sort((a, b) => b.version - a.version);
  const claims: EvaluationClaims = {
    subject: SUBJECT_PREFIX + Buffer.from(current.evaluated).toString('base64url'),
    aud: to.recipientOrganization,
    scope: to.recipientScope,
    iat,
    exp: iat + ttl,
    version: current.version,
    extra_versions: Object.fromEntries(older.map((e) => [String(e.version), SUBJECT_PREFIX + Buffer.from(e.evaluated).toString('base64url')])),
  };
  const header = { typ: 'prs-eval+json', ...(to.kid ? { kid: to.kid } : {}) };
  const plaintext = Buffer.from(JSON.stringify(claims));
  const ec = ecdhKeyObject(to.key);
  return ec ? sealEcdhEsA256Kw(plaintext, ec, header) : sealRsaOaep256A256Gcm(plaintext, to.key, header);
}

/** An X25519/P-256 key as a node KeyObject (a WebCrypto CryptoKey is converted), else undefined. */
function ecdhKeyObject(key: unknown): NodeKeyObject | undefined {
  if (key instanceof NodeKeyObject) return isEcdhKey(key) ? key : undefined;
  const name = (key as { algorithm?: { name?: string } } | null)?.algorithm?.name;
  if (name !== 'X25519' && name !== 'ECDH') return undefined;
  const ko = NodeKeyObject.from(key as Parameters<typeof NodeKeyObject.from>[0]);
  return isEcdhKey(ko) ? ko : undefined;
}

/** Decrypts and checks a PRS token; returns the evaluated elements, current version first. */
export async function openEvaluation(
  jwe: string,
  key: Key,
  expect: { audience: string; scope?: string; now?: number },
): Promise<EvaluatedElement[]> {
  let plaintext: Uint8Array;
  const ec = ecdhKeyObject(key);
  try {
    if (ec) ({ plaintext } = openEcdhEsA256Kw(jwe, ec));
    else ({ plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [TOKEN_ALG], contentEncryptionAlgorithms: [TOKEN_ENC] }));
  } catch {
    throw new TokenRefused('pseudonym token cannot be decrypted by this recipient');
  }
  let claims: Partial<EvaluationClaims>;
  try {
    claims = JSON.parse(new TextDecoder().decode(plaintext));
  } catch {
    throw new TokenRefused('pseudonym token payload is not JSON');
  }
  const now = Math.floor((expect.now ?? Date.now()) / 1000);
  if (claims.aud !== expect.audience) throw new TokenRefused('pseudonym token is addressed to another recipient');
  if (expect.scope !== undefined && claims.scope !== expect.scope) throw new TokenRefused('pseudonym token is for another scope');
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') throw new TokenRefused('pseudonym token lacks iat/exp');
  if (claims.exp <= now) throw new TokenRefused('pseudonym token has expired');
  if (claims.exp - claims.iat > MAX_TOKEN_SECONDS) throw new TokenRefused('pseudonym token lives longer than 5 minutes');
  if (claims.iat > now + CLOCK_SKEW_SECONDS) throw new TokenRefused('pseudonym token is issued in the future');
  if (!Number.isInteger(claims.version)) throw new TokenRefused('pseudonym token lacks a key version');
  const out: EvaluatedElement[] = [{ version: claims.version as number, evaluated: parseSubject(claims.subject) }];
  for (const [v, s] of Object.entries(claims.extra_versions ?? {})) {
    const version = Number(v);
    if (!Number.isInteger(version)) throw new TokenRefused('pseudonym token has a malformed extra version');
    out.push({ version, evaluated: parseSubject(s) });
  }
  return out;
}

function parseSubject(subject: unknown): Uint8Array {
  if (typeof subject !== 'string' || !subject.startsWith(SUBJECT_PREFIX)) throw new TokenRefused('pseudonym token subject is malformed');
  const bytes = Buffer.from(subject.slice(SUBJECT_PREFIX.length), 'base64url');
  if (bytes.length !== 32) throw new TokenRefused('pseudonym token subject is not a 32-byte element');
  return new Uint8Array(bytes);
}
