import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { displayUnit, formatQuantity, formatRange } from './units.ts';

const UCUM = 'http://unitsofmeasure.org';

describe('units as people read them', () => {
  it('shows UCUM codes with their print symbols', () => {
    assert.equal(displayUnit('mm[Hg]'), 'mmHg');
    assert.equal(displayUnit('umol/L'), 'μmol/L');
    assert.equal(displayUnit('mmol/L'), 'mmol/L');
    assert.equal(displayUnit('Cel'), '°C');
    assert.equal(displayUnit('kg/m2'), 'kg/m²');
    assert.equal(displayUnit('10*9/L'), '10⁹/L');
    assert.equal(displayUnit('mL/min/{1.73_m2}', 'nl'), 'mL/min/1,73 m²');
    assert.equal(displayUnit('mL/min/{1.73_m2}', 'en'), 'mL/min/1.73 m²');
  });

  it('keeps a code UCUM does not know', () => {
    assert.equal(displayUnit('stuk'), 'stuk');
  });

  it('formats values with a decimal comma in Dutch, a point in English', () => {
    assert.equal(formatQuantity({ value: 4.25, system: UCUM, code: 'mmol/L', unit: 'mmol/L' }, 'nl'), '4,25 mmol/L');
    assert.equal(formatQuantity({ value: 4.25, system: UCUM, code: 'mmol/L' }, 'en'), '4.25 mmol/L');
    assert.equal(formatQuantity({ value: 97, system: UCUM, code: '%' }, 'nl'), '97%');
    assert.equal(formatQuantity({ value: 12, unit: 'stuk' }, 'nl'), '12 stuk');
    assert.equal(formatRange({ low: { value: 3.5, system: UCUM, code: 'mmol/L' }, high: { value: 5, system: UCUM, code: 'mmol/L' } }, 'nl'), '3,5–5 mmol/L');
  });

  it('never throws and always shows the number (property)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.string({ maxLength: 20 }), (value, code) => {
        const shown = formatQuantity({ value, system: UCUM, code }, 'nl');
        assert.equal(typeof shown, 'string');
        assert.ok(/\d/.test(shown ?? ''));
      }),
      { numRuns: 200 },
    );
  });
});
