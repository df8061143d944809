import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import { isValidBsn } from '../kit/identifiers/bsn.ts';
import { InvalidBsnError } from './errors.ts';

// Step 1 and 2 of the GF pseudonymisation flow (design §5): the personal identifier as RFC 8785
// canonical JSON, stretched with HKDF-SHA256 into a recipient- and scope-bound OPRF input, so the
// same BSN yields unrelated inputs for different recipients before the PRS ever sees anything.

export const INPUT_VERSION = 'v1';
const INPUT_LENGTH = 32;

export { InvalidBsnError };

/** "ura:<8 digits>", the recipient organisation as the PRS and the JWE audience name it. */
export function isRecipientOrganization(value: string): boolean {
  return /^ura:\d{8}$/.test(value);
}

/** Scope names are free text in the spec; we keep them to a safe token so the HKDF info is unambiguous. */
export function isRecipientScope(value: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{0,63}$/.test(value);
}

/** The 32-byte OPRF input for one BSN, recipient organisation and scope. Refuses invalid BSNs. */
export function pseudonymInput(bsn: string, recipientOrganization: string, recipientScope: string): Uint8Array {
  if (!isValidBsn(bsn)) throw new InvalidBsnError();
  if (!isRecipientOrganization(recipientOrganization)) throw new Error(`recipient organization must look like ura:<URA>`);
  if (!isRecipientScope(recipientScope)) throw new Error('recipient scope must be a short lowercase token');
  const json = canonicalize({ landCode: 'NL', type: 'BSN', value: bsn });
  if (json === undefined) throw new Error('canonicalisation failed');
  const info = `${recipientOrganization}|${recipientScope}|${INPUT_VERSION}`;
  // No salt, as the GF IG prescribes: the input must be reproducible by every holder.
  return hkdf(sha256, new TextEncoder().encode(json), undefined, new TextEncoder().encode(info), INPUT_LENGTH);
}
