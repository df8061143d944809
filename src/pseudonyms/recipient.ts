import type { CryptoKey, KeyObject } from 'jose';
import { openEvaluation, TokenRefused } from './evaluation-token.ts';
import type { PseudonymToken } from './nvi-identifier.ts';
import { unblind } from './oprf.ts';

// Recipient side of a pseudonym token: decrypt the PRS answer, check it is for us and fresh,
// and remove the holder's blind. The result, per key version, is the stable element k·H(input)
// for this recipient; it is never stored as such (the NVI keeps only a keyed hash of it).

export interface RecipientElement {
  version: number;
  element: Uint8Array;
}

export async function recipientElements(
  token: PseudonymToken,
  key: CryptoKey | KeyObject | Uint8Array,
  expect: { audience: string; scope?: string; now?: number },
): Promise<RecipientElement[]> {
  const evaluated = await openEvaluation(token.evaluatedOutput, key, expect);
  try {
    return evaluated.map((e) => ({ version: e.version, element: unblind(e.evaluated, token.blindFactor) }));
  } catch {
    throw new TokenRefused('pseudonym token does not carry a valid group element or blind');
  }
}
