import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { scanExtract } from './scanner.ts';

// The scanner is the tests' net over extracts: what it flags must be what may not leave, and a
// Dutch SNOMED edition must not look like a BSN.

const line = (o: object) => JSON.stringify(o);

describe('extract scanner', () => {
  it('flags a BSN-like number in free text and as a number, an exact date, and an identifying element', () => {
    const bsn = testBsn(42);
    const findings = scanExtract(
      [line({ resourceType: 'Observation', valueString: `nr ${bsn}`, valueInteger: Number(bsn), effectiveDateTime: '2026-11-28', name: [{ family: 'x' }] })].join('\n'),
    );
    assert.ok(findings.some((f) => f.includes('valueString: BSN-like number')));
    assert.ok(findings.some((f) => f.includes('valueInteger: BSN-like number')));
    assert.ok(findings.some((f) => f.includes('exact date')));
    assert.ok(findings.some((f) => f.includes('identifying element')));
  });

  it("passes a coding with SNOMED's Dutch edition as system version, but not the patient's own BSN there", () => {
    const coding = { system: 'http://snomed.info/sct', version: 'http://snomed.info/sct/11000146104/version/20240331', code: '266257000' };
    assert.deepEqual(scanExtract(line({ resourceType: 'Condition', code: { coding: [coding] } })), []);
    const bsn = testBsn(7);
    assert.equal(scanExtract(line({ resourceType: 'Condition', code: { coding: [{ ...coding, version: bsn }] } }), { forbidden: [bsn] }).length, 1);
  });
});
