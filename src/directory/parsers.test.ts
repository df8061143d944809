import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { parseIfMatch } from './feed.ts';
import { periodContains } from './ownership.ts';
import { dateRange } from './query.ts';
import { referencedId, rewriteReferences } from './references.ts';
import { fhirVersionsOf } from './replica/search.ts';

// Property tests for everything that parses caller input: it either yields the right value or
// refuses with a 400, and never throws anything else.

const only400 = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpError && err.status === 400, String(err));
  }
};

describe('directory parsers', () => {
  it('If-Match: round-trips W/"n", "n" and n; anything else is a 400', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom('W/"%"', '"%"', '%', ' W/"%" '), (n, shape) => {
        assert.equal(parseIfMatch(shape.replace('%', String(n))), n);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => only400(() => parseIfMatch(s))));
    assert.throws(() => parseIfMatch('W/"abc"'), HttpError);
  });

  it('dates: a range [start, end) that contains the moment itself; garbage is a 400', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        const [s, e] = dateRange(iso);
        assert.equal(s, d.getTime());
        const [ds, de] = dateRange(iso.slice(0, 10));
        assert.ok(ds <= d.getTime() && d.getTime() < de);
        const [ms, me] = dateRange(iso.slice(0, 7));
        assert.ok(ms <= ds && de <= me && e > s);
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => only400(() => dateRange(s))));
    assert.deepEqual(dateRange('0050').map((t) => new Date(t).toISOString().slice(0, 10)), ['0050-01-01', '0051-01-01'], 'a two-digit year is not the 1900s');
    assert.throws(() => dateRange('2024-13'), HttpError);
  });

  it('references: extracts ids of the right type only, and rewriting leaves other values alone', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9\-.]{1,64}$/), fc.constantFrom('', 'https://x.example/fhir/'), (id, prefix) => {
        assert.equal(referencedId({ reference: `${prefix}Organization/${id}` }, 'Organization'), id);
        assert.equal(referencedId({ reference: `${prefix}Endpoint/${id}` }, 'Organization'), undefined);
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.deepEqual(rewriteReferences(v, new Map()), v);
      }),
    );
  });

  it('fhirVersion parameters and periods never throw', () => {
    fc.assert(fc.property(fc.array(fc.string()), (mimes) => void fhirVersionsOf({ resourceType: 'Endpoint', payloadMimeType: mimes } as never)));
    assert.deepEqual(fhirVersionsOf({ resourceType: 'Endpoint', payloadMimeType: ['application/fhir+json; fhirVersion=4.0', 'application/fhir+json'] } as never), ['4.0']);
    fc.assert(fc.property(fc.string(), fc.string(), (start, end) => void periodContains({ start, end }, new Date())));
    assert.equal(periodContains({ start: '2023-01-15', end: '2024-01-14' }, new Date('2024-01-14T12:00:00Z')), true);
    assert.equal(periodContains({ start: '2023-01-15', end: '2024-01-14' }, new Date('2024-01-15T00:00:00Z')), false);
  });
});
