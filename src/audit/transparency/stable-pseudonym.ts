import { createHmac } from 'node:crypto';
import type { CryptoKey, KeyObject } from 'jose';
import { decodePseudonymToken, recipientElements, TokenRefused } from '../../pseudonyms/contract.ts';
import { PseudonymTokenRefused } from '../errors.ts';

// From a node's (or the portal's) PRS token to the pseudonym the transparency log stores: decrypt
// the JWE with the part's key, check audience, scope and expiry, unblind, and keep only
// HMAC-SHA256(pseudonym key, element). Every node's token for one citizen yields the same value;
// a copy of the table is useless without the part's key, and the part never sees a BSN.

export { PseudonymTokenRefused };

export interface PseudonymKeys {
  audience: string;
  scope: string;
  decryptionKey: CryptoKey | KeyObject;
  pseudonymKey: Uint8Array;
}

/** "<PRS key version>.<base64url HMAC>"; the version keeps pseudonyms of different PRS keys apart. */
export function stablePseudonymOf(pseudonymKey: Uint8Array, version: number, element: Uint8Array): string {
  return `${version}.${createHmac('sha256', pseudonymKey).update(element).digest('base64url')}`;
}

/**
 * Stable pseudonyms for a token, current PRS key version first (older active versions follow, so
 * events logged before a PRS key rotation stay findable). `now` (ms) is the moment the token must
 * have been valid at. Throws PseudonymTokenRefused with a message that never quotes the token.
 */
export async function stablePseudonyms(tokenValue: unknown, keys: PseudonymKeys, now?: number): Promise<string[]> {
  const token = decodePseudonymToken(tokenValue);
  if (!token) throw new PseudonymTokenRefused('not a PRS pseudonym token (base64url JSON with evaluated_output and blind_factor)');
  try {
    const elements = await recipientElements(token, keys.decryptionKey, { audience: keys.audience, scope: keys.scope, now });
    return elements.map((e) => stablePseudonymOf(keys.pseudonymKey, e.version, e.element));
  } catch (err) {
    if (err instanceof TokenRefused) throw new PseudonymTokenRefused(err.message);
    throw err;
  }
}
