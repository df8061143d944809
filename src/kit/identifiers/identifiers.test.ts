import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isAgb, isUra, isUziNumber, isUziRoleCode, isValidBsn, maskBsn, ORGANIZATION_TYPES, roleName, SYSTEM, CODE_SYSTEM, testBsn, UZI_ROLES } from './index.ts';

// The national identifiers: the BSN 11-test (and what it must catch), the fictional test-BSN
// generator, the URA/UZI/AGB shapes, role names and the URI table.

const nineDigits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }).map((d) => d.join(''));
const validBsn = fc.integer({ min: 0, max: 100_000_000 }).map(testBsn);

describe('BSN', () => {
  it('accepts known valid numbers and refuses known invalid ones', () => {
    assert.equal(isValidBsn('111222333'), true);
    assert.equal(isValidBsn('123456782'), true);
    assert.equal(isValidBsn('123456789'), false);
    assert.equal(isValidBsn('000000000'), false);
    assert.equal(isValidBsn('11122233'), false);
    assert.equal(isValidBsn('1112223330'), false);
    assert.equal(isValidBsn(' 11122233'), false);
    assert.equal(isValidBsn('11122233a'), false);
  });

  it('agrees with the 11-test definition on every 9-digit string', () => {
    fc.assert(
      fc.property(nineDigits, (s) => {
        const d = [...s].map(Number);
        const sum = d.slice(0, 8).reduce((acc, x, i) => acc + (9 - i) * x, 0) - d[8];
        assert.equal(isValidBsn(s), sum % 11 === 0 && s !== '000000000');
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses anything that is not exactly nine digits', () => {
    fc.assert(fc.property(fc.string(), (s) => !/^\d{9}$/.test(s) ? !isValidBsn(s) : true));
  });

  it('testBsn generates valid, fictional (9-prefixed), deterministic numbers', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (seed) => {
        const bsn = testBsn(seed);
        assert.equal(isValidBsn(bsn), true, bsn);
        assert.match(bsn, /^9\d{8}$/);
        assert.equal(testBsn(seed), bsn);
      }),
      { numRuns: 2000 },
    );
    assert.ok(new Set(Array.from({ length: 1000 }, (_, i) => testBsn(i))).size > 900);
  });

  it('catches every single-digit error in a valid BSN', () => {
    fc.assert(
      fc.property(validBsn, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (bsn, pos, delta) => {
        const digit = (Number(bsn[pos]) + delta) % 10;
        const changed = bsn.slice(0, pos) + digit + bsn.slice(pos + 1);
        assert.equal(isValidBsn(changed), false, `${bsn} -> ${changed}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('catches every swap of two different adjacent digits', () => {
    fc.assert(
      fc.property(validBsn, fc.integer({ min: 0, max: 7 }), (bsn, pos) => {
        fc.pre(bsn[pos] !== bsn[pos + 1]);
        const swapped = bsn.slice(0, pos) + bsn[pos + 1] + bsn[pos] + bsn.slice(pos + 2);
        assert.equal(isValidBsn(swapped), false, `${bsn} -> ${swapped}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('maskBsn keeps only the last two digits', () => {
    fc.assert(
      fc.property(validBsn, (bsn) => {
        const masked = maskBsn(bsn);
        assert.equal(masked.slice(-2), bsn.slice(-2));
        assert.doesNotMatch(masked, /\d{3}/);
      }),
    );
    assert.equal(maskBsn(''), '*');
  });
});

describe('URA, UZI and AGB numbers', () => {
  it('checks their shapes', () => {
    assert.equal(isUra('90000101'), true);
    assert.equal(isUra('9000010'), false);
    assert.equal(isUra('900001011'), false);
    assert.equal(isUziNumber('900001011'), true);
    assert.equal(isUziNumber('90000101'), false);
    assert.equal(isAgb('06010101'), true);
    assert.equal(isAgb('0601010a'), false);
    fc.assert(fc.property(fc.string(), (s) => (isUra(s) ? /^\d{8}$/.test(s) : true) && (isUziNumber(s) ? /^\d{9}$/.test(s) : true)));
  });
});

describe('UZI roles and organisation types', () => {
  it('names every role code, and every code has the NN.NNN shape', () => {
    for (const [code, name] of Object.entries(UZI_ROLES)) {
      assert.equal(isUziRoleCode(code), true, code);
      assert.equal(roleName(code), name);
    }
    assert.equal(roleName('01.015'), 'Huisarts');
    assert.equal(roleName('99.999'), undefined);
    assert.equal(isUziRoleCode('1.015'), false);
  });

  it('knows the organisation types of the cast', () => {
    for (const type of ['V4', 'Z3', 'J8', 'T2', 'K9']) assert.ok(ORGANIZATION_TYPES[type], type);
  });
});

describe('system URIs', () => {
  it('are absolute http(s) URIs, and identifier systems are unique', () => {
    const systems = Object.values(SYSTEM);
    for (const uri of [...systems, ...Object.values(CODE_SYSTEM)]) assert.match(uri, /^https?:\/\/[^\s]+$/);
    assert.equal(new Set(systems).size, systems.length);
    assert.equal(SYSTEM.bsn, 'http://fhir.nl/fhir/NamingSystem/bsn');
    assert.equal(SYSTEM.ura, 'http://fhir.nl/fhir/NamingSystem/ura');
  });
});
