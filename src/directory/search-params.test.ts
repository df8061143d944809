import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { referenceValue, searchParamsOf } from './search-params.ts';

// The directory's reference search values: every accepted form names one Organization; anything
// else is a 400, never an exception of another kind.

describe('directory reference values', () => {
  it('accepts a bare id, a relative and an absolute reference', () => {
    for (const v of ['abc', 'Organization/abc', 'https://directory.example/fhir/Organization/abc']) assert.equal(referenceValue(v, 'Organization'), 'Organization/abc');
    for (const v of ['Location/abc', '', 'Organization/', 'Organization/a b', `Organization/${'x'.repeat(65)}`]) {
      assert.throws(() => referenceValue(v, 'Organization'), (e: unknown) => e instanceof HttpError && e.status === 400, v);
    }
  });

  it('either names the target type with a valid id or refuses with 400', () => {
    fc.assert(
      fc.property(fc.string(), (v) => {
        try {
          assert.match(referenceValue(v, 'Organization'), /^Organization\/[A-Za-z0-9\-.]{1,64}$/);
        } catch (e) {
          assert.ok(e instanceof HttpError && e.status === 400, String(e));
        }
      }),
    );
  });

  it('builds a parameterised condition: values never reach the SQL text', () => {
    const param = searchParamsOf('Endpoint').find((p) => p.name === 'organization')!;
    fc.assert(
      // Ids carry a marker that no SQL keyword or alias contains, so finding one in the text means it leaked.
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9.-]{1,20}$/).map((s) => `zq${s}`), { minLength: 1, maxLength: 4 }), (ids) => {
        const args: unknown[] = [];
        const sql = param.condition!(ids.join(','), args);
        assert.deepEqual(args, ids.map((id) => `Organization/${id}`));
        for (const id of ids) assert.ok(!sql.includes(id), id);
      }),
    );
  });
});
