import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { bsnOfQuery, ehrSearchParams, parseEntryUrl } from './query-translation.ts';

describe('open-interface query translation', () => {
  const bsn = testBsn(5);

  it('finds the BSN and rewrites the search to the EHR patient id', () => {
    const q = { 'patient:identifier': `${SYSTEM.bsn}|${bsn}`, 'clinical-status': 'active' };
    assert.equal(bsnOfQuery('AllergyIntolerance', q), bsn);
    assert.equal(ehrSearchParams('AllergyIntolerance', q, 'p1').toString(), 'clinical-status=active&patient=Patient%2Fp1');
    assert.equal(ehrSearchParams('Patient', { identifier: `${SYSTEM.bsn}|${bsn}` }, 'p1').toString(), '_id=p1');
  });

  it('refuses a missing, foreign-system or invalid BSN with 400', () => {
    for (const q of [{}, { 'patient:identifier': `urn:x|${bsn}` }, { 'patient:identifier': `${SYSTEM.bsn}|123456789` }]) {
      assert.throws(() => bsnOfQuery('Condition', q), (e: unknown) => e instanceof HttpError && e.status === 400);
    }
  });

  it('parses any batch entry URL without crashing (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (url) => {
        try {
          const { type } = parseEntryUrl(url);
          assert.match(type, /^[A-Z][A-Za-z]+$/);
        } catch (err) {
          assert.ok(err instanceof HttpError && err.status === 400);
        }
      }),
    );
  });
});
