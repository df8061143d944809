import { createHmac, type KeyObject as NodeKeyObject } from 'node:crypto';
import type { CryptoKey, KeyObject } from 'jose';
import { decodePseudonymToken, recipientElements, TokenRefused } from '../pseudonyms/contract.ts';
import { SubjectRefused } from './errors.ts';
import type { SubjectHash } from './referrals.ts';

// From a pseudonymised subject identifier to what the NVI stores: decrypt the PRS token with the
// NVI's key, check audience and expiry, unblind, and keep only HMAC-SHA256(index key, element).
// The keyed hash means a copy of the table is useless without the NVI's configuration.

export const NVI_RECIPIENT_SCOPE = 'nationale-verwijsindex';

export { SubjectRefused };

export interface SubjectKeys {
  /** "ura:<URA>" the PRS tokens must be addressed to. */
  audience: string;
  scope: string;
  /** Private key for the PRS JWE: an X25519/P-256 node KeyObject, or an RSA CryptoKey imported once (jose re-imports a KeyObject per call). */
  decryptionKey: CryptoKey | KeyObject | NodeKeyObject;
  /** HMAC key for the stored subject hash. */
  indexKey: Uint8Array;
}

/** The private JWE key in its ready form (import once, reuse for every token). */
export { importDecryptionKey } from '../pseudonyms/contract.ts';

export function hashElement(indexKey: Uint8Array, element: Uint8Array): Buffer {
  return createHmac('sha256', indexKey).update(element).digest();
}

/** Subject hashes (current key version first) for an NviIdentifier value; throws SubjectRefused. */
export async function subjectHashes(value: string, keys: SubjectKeys, now?: number): Promise<SubjectHash[]> {
  const token = decodePseudonymToken(value);
  if (!token) throw new SubjectRefused('subject identifier is not a pseudonym token (base64url JSON with evaluated_output and blind_factor)');
  try {
    const elements = await recipientElements(token, keys.decryptionKey, { audience: keys.audience, scope: keys.scope, now });
    return elements.map((e) => ({ version: e.version, hash: hashElement(keys.indexKey, e.element) }));
  } catch (err) {
    if (err instanceof TokenRefused) throw new SubjectRefused(err.message);
    throw err;
  }
}
