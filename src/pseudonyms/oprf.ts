import { ristretto255, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { ristrettoScalarInvert, ristrettoScalarMult } from './sodium.ts';

// RFC 9497 OPRF (mode 0x00, suite ristretto255-SHA512): the client blinds, the PRS evaluates with
// a per-recipient key, and the recipient removes the blind to get a stable element k·H(input)
// that it can hash into its index. The client-side pieces (hash-to-group, blind, finalize, key
// derivation) are noble's RFC 9497 implementation; the two server hot paths (evaluate, unblind)
// are plain scalar multiplications on canonical encodings, done by libsodium for speed
// (sodium.test.ts proves both libraries give the same bytes).

const { Point } = ristretto255;
const oprf = ristretto255_oprf.oprf;

export const ELEMENT_LENGTH = 32;
export const SCALAR_LENGTH = 32;

export interface Blinded {
  /** Secret blind scalar (little-endian); travels only to the recipient. */
  blind: Uint8Array;
  /** Blinded element sent to the PRS. */
  blinded: Uint8Array;
}

export interface OprfKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

export function blindInput(input: Uint8Array): Blinded {
  const b = oprf.blind(input);
  return { blind: b.blind, blinded: b.blinded };
}

/** Deterministic server key from a master seed and a key label (RFC 9497 DeriveKeyPair). */
export function deriveOprfKey(seed: Uint8Array, keyInfo: string): OprfKeyPair {
  const kp = oprf.deriveKeyPair(seed, new TextEncoder().encode(keyInfo));
  return { secretKey: kp.secretKey, publicKey: kp.publicKey };
}

/** Server side: evaluate a blinded element. Throws on bytes that are not a valid ristretto255 element. */
export function evaluateBlinded(secretKey: Uint8Array, blinded: Uint8Array): Uint8Array {
  if (blinded.length !== ELEMENT_LENGTH) throw new Error('blinded element must be 32 bytes');
  // RFC 9497 BlindEvaluate is k·blinded; libsodium refuses non-canonical and identity elements.
  return ristrettoScalarMult(secretKey, blinded);
}

/** Recipient side: evaluated · blind⁻¹ = k·H(input), independent of the blind used. */
export function unblind(evaluated: Uint8Array, blind: Uint8Array): Uint8Array {
  if (evaluated.length !== ELEMENT_LENGTH || blind.length !== SCALAR_LENGTH) throw new Error('bad element or blind length');
  // noble validates the scalar (canonical, < ℓ); libsodium inverts and multiplies.
  if (Point.Fn.fromBytes(blind) === 0n) throw new Error('blind must not be zero');
  return ristrettoScalarMult(ristrettoScalarInvert(blind), evaluated);
}

/** RFC 9497 Finalize (client holding the input); used to check our composition against the RFC vectors. */
export function finalizeOutput(input: Uint8Array, blind: Uint8Array, evaluated: Uint8Array): Uint8Array {
  return oprf.finalize(input, blind, evaluated);
}
