import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ristretto255, ristretto255_hasher, ristretto255_oprf } from '@noble/curves/ed25519.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { blindInput, deriveOprfKey, evaluateBlinded, unblind } from './oprf.ts';
import { GroupRefused, ristrettoScalarInvert, ristrettoScalarMult } from './sodium.ts';

// The swap from noble to libsodium on the hot paths is only sound if both give the same bytes and
// refuse the same inputs. These properties check exactly that on random scalars and elements.

const { Point } = ristretto255;
const Fn = Point.Fn;
const DST = new TextEncoder().encode('HashToGroup-OPRFV1-\x00-ristretto255-SHA512');

/** A canonical non-zero scalar (little-endian) from arbitrary bytes. */
const scalarArb = fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  const s = Fn.create(x);
  return Fn.toBytes(s === 0n ? 1n : s);
});
/** A valid, non-identity element: hash-to-group of arbitrary input. */
const elementArb = fc.uint8Array({ minLength: 0, maxLength: 48 }).map((m) => ristretto255_hasher.hashToCurve(m, { DST }).toBytes());

const nobleMul = (scalar: Uint8Array, element: Uint8Array) => Point.fromBytes(element).multiply(Fn.fromBytes(scalar)).toBytes();

describe('libsodium and noble agree on ristretto255 (property)', () => {
  it('scalar multiplication gives the same bytes', () => {
    fc.assert(
      fc.property(scalarArb, elementArb, (s, p) => {
        assert.equal(bytesToHex(ristrettoScalarMult(s, p)), bytesToHex(nobleMul(s, p)));
      }),
      { numRuns: 200 },
    );
  });

  it('scalar inversion gives the same bytes', () => {
    fc.assert(
      fc.property(scalarArb, (s) => {
        assert.equal(bytesToHex(ristrettoScalarInvert(s)), bytesToHex(Fn.toBytes(Fn.inv(Fn.fromBytes(s)))));
      }),
      { numRuns: 200 },
    );
  });

  it('PRS evaluation equals noble RFC 9497 BlindEvaluate', () => {
    const key = deriveOprfKey(new Uint8Array(32).fill(7), 'agree');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (input) => {
        const { blinded } = blindInput(input);
        assert.equal(bytesToHex(evaluateBlinded(key.secretKey, blinded)), bytesToHex(ristretto255_oprf.oprf.blindEvaluate(key.secretKey, blinded)));
      }),
      { numRuns: 100 },
    );
  });

  it('unblinding equals noble evaluated·blind⁻¹', () => {
    fc.assert(
      fc.property(scalarArb, elementArb, (blind, evaluated) => {
        const noble = Point.fromBytes(evaluated).multiply(Fn.inv(Fn.fromBytes(blind))).toBytes();
        assert.equal(bytesToHex(unblind(evaluated, blind)), bytesToHex(noble));
      }),
      { numRuns: 200 },
    );
  });

  it('accepts exactly the encodings noble accepts, except the identity, which libsodium refuses', () => {
    const s = Fn.toBytes(12345n);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        let noble: string | null;
        try {
          const p = Point.fromBytes(bytes);
          noble = p.equals(Point.ZERO) ? null : bytesToHex(p.multiply(12345n).toBytes());
        } catch {
          noble = null;
        }
        let sodium: string | null;
        try {
          sodium = bytesToHex(ristrettoScalarMult(s, bytes));
        } catch (err) {
          assert.ok(err instanceof GroupRefused);
          sodium = null;
        }
        assert.equal(sodium, noble);
      }),
      { numRuns: 2000 },
    );
    assert.throws(() => ristrettoScalarMult(s, new Uint8Array(32)), GroupRefused);
    assert.throws(() => evaluateBlinded(s, new Uint8Array(32)), GroupRefused);
    assert.throws(() => unblind(new Uint8Array(32), s), GroupRefused);
  });

  it('refuses unreduced scalars instead of letting libsodium clear the top bit', () => {
    const p = Point.BASE.toBytes();
    assert.throws(() => ristrettoScalarMult(new Uint8Array(32).fill(0xff), p), GroupRefused);
    assert.throws(() => unblind(p, new Uint8Array(32).fill(0xff)));
  });
});
