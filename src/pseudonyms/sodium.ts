import { createRequire } from 'node:module';
import { GroupRefused } from './errors.ts';

// libsodium (sumo build, WASM) for the two hot ristretto255 operations: PRS evaluation and NVI
// unblinding. It is ~10x faster than pure-JS bigint arithmetic and gives the same bytes (proven
// by sodium.test.ts against noble). Loaded through require: the package's ESM entry points at a
// file it does not ship (0.7.x). No types ship for the sumo build, so we name what we use.

interface Sodium {
  ready: Promise<void>;
  /** q = n·p; throws on a non-canonical or identity p and on an identity result. Clears n's top bit. */
  crypto_scalarmult_ristretto255(n: Uint8Array, p: Uint8Array): Uint8Array;
  crypto_core_ristretto255_scalar_invert(s: Uint8Array): Uint8Array;
  crypto_core_ristretto255_is_valid_point(p: Uint8Array): boolean;
}

const sodium = createRequire(import.meta.url)('libsodium-wrappers-sumo') as Sodium;
let ready = false;

/** Resolves once the WASM module is instantiated; parts await it at start (cheap after the first). */
export async function sodiumReady(): Promise<void> {
  if (ready) return;
  await sodium.ready;
  ready = true;
}

// Every importer gets a ready library: the module is instantiated once, at first import.
await sodiumReady();

export { GroupRefused };

/**
 * n·P for a canonical ristretto255 encoding P and a scalar n < 2^255. Refuses (GroupRefused) what
 * libsodium refuses: non-canonical encodings, the identity as input, and an identity result.
 */
export function ristrettoScalarMult(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  if (scalar.length !== 32 || point.length !== 32) throw new GroupRefused('scalar and element must be 32 bytes');
  if ((scalar[31] & 0x80) !== 0) throw new GroupRefused('scalar must be reduced'); // libsodium would silently clear this bit
  try {
    return sodium.crypto_scalarmult_ristretto255(scalar, point);
  } catch {
    throw new GroupRefused('not a valid ristretto255 element, or the result is the identity');
  }
}

/** s⁻¹ mod ℓ. The caller checks s is canonical and non-zero. */
export function ristrettoScalarInvert(scalar: Uint8Array): Uint8Array {
  return sodium.crypto_core_ristretto255_scalar_invert(scalar);
}

/** The raw library, for benchmarks that measure it as a ceiling. */
export function rawSodium(): Sodium {
  return sodium;
}
