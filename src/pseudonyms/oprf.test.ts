import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { blindInput, deriveOprfKey, evaluateBlinded, finalizeOutput, unblind } from './oprf.ts';

// RFC 9497 Appendix A.1.1, OPRF mode, ristretto255-SHA512. noble's blind() draws its own random
// scalar, so the fixed RFC blind is applied to HashToGroup(input) directly (ts-dependencies §3.2).
const SEED = hexToBytes('a3'.repeat(32));
const KEY_INFO = 'test key';
const SK = '5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e';
const BLIND = '64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706';
const DST = new TextEncoder().encode('HashToGroup-OPRFV1-\x00-ristretto255-SHA512');
const VECTORS = [
  {
    input: '00',
    blinded: '609a0ae68c15a3cf6903766461307e5c8bb2f95e7e6550e1ffa2dc99e412803c',
    evaluated: '7ec6578ae5120958eb2db1745758ff379e77cb64fe77b0b2d8cc917ea0869c7e',
    output: '527759c3d9366f277d8c6020418d96bb393ba2afb20ff90df23fb7708264e2f3ab9135e3bd69955851de4b1f9fe8a0973396719b7912ba9ee8aa7d0b5e24bcf6',
  },
  {
    input: '5a'.repeat(17),
    blinded: 'da27ef466870f5f15296299850aa088629945a17d1f5b7f5ff043f76b3c06418',
    evaluated: 'b4cbf5a4f1eeda5a63ce7b77c7d23f461db3fcab0dd28e4e17cecb5c90d02c25',
    output: 'f4a74c9c592497375e796aa837e907b1a045d34306a749db9f34221f7e750cb4f2a6413a6bf6fa5e19ba6348eb673934a722a7ede2e7621306d18951e7cf2c73',
  },
];

describe('OPRF ristretto255-SHA512 (RFC 9497 A.1.1)', () => {
  it('derives the RFC server key', () => {
    assert.equal(bytesToHex(deriveOprfKey(SEED, KEY_INFO).secretKey), SK);
  });

  for (const [i, v] of VECTORS.entries()) {
    it(`vector ${i + 1}: blinded element, evaluation and output match`, () => {
      const { Point } = ristretto255;
      const blinded = ristretto255_hasher.hashToCurve(hexToBytes(v.input), { DST }).multiply(Point.Fn.fromBytes(hexToBytes(BLIND))).toBytes();
      assert.equal(bytesToHex(blinded), v.blinded);
      const evaluated = evaluateBlinded(hexToBytes(SK), blinded);
      assert.equal(bytesToHex(evaluated), v.evaluated);
      assert.equal(bytesToHex(finalizeOutput(hexToBytes(v.input), hexToBytes(BLIND), evaluated)), v.output);
    });

    it(`vector ${i + 1}: unblinding yields k·HashToGroup(input)`, () => {
      const { Point } = ristretto255;
      const unblinded = unblind(hexToBytes(v.evaluated), hexToBytes(BLIND));
      const expected = ristretto255_hasher.hashToCurve(hexToBytes(v.input), { DST }).multiply(Point.Fn.fromBytes(hexToBytes(SK))).toBytes();
      assert.equal(bytesToHex(unblinded), bytesToHex(expected));
    });
  }

  it('unblinded element does not depend on the blind (property)', () => {
    const key = deriveOprfKey(SEED, 'property');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (input) => {
        const a = blindInput(input);
        const b = blindInput(input);
        assert.notEqual(bytesToHex(a.blinded), bytesToHex(b.blinded));
        const ua = unblind(evaluateBlinded(key.secretKey, a.blinded), a.blind);
        const ub = unblind(evaluateBlinded(key.secretKey, b.blinded), b.blind);
        assert.equal(bytesToHex(ua), bytesToHex(ub));
      }),
      { numRuns: 15 },
    );
  });

  it('refuses malformed blinded elements', () => {
    const key = deriveOprfKey(SEED, 'x');
    assert.throws(() => evaluateBlinded(key.secretKey, new Uint8Array(31)));
    assert.throws(() => evaluateBlinded(key.secretKey, new Uint8Array(32).fill(0xff)));
    assert.throws(() => unblind(new Uint8Array(32).fill(0xff), hexToBytes(BLIND)));
    assert.throws(() => unblind(hexToBytes(VECTORS[0].evaluated), new Uint8Array(32)));
  });
});
