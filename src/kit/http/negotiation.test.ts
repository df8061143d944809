import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LdnError } from '../errors.ts';
import { MethodTable } from './method-table.ts';
import { refuseUnservableFormat } from './negotiation.ts';

// Content negotiation (406 for XML only) and the method table behind 405: examples and properties.

const refused = (query: Record<string, unknown>, accept?: string) => {
  try {
    refuseUnservableFormat(query, accept);
    return false;
  } catch (err) {
    assert.ok(err instanceof LdnError && err.status === 406 && err.code === 'ERR_KIT_FORMAT_NOT_SERVED', String(err));
    return true;
  }
};

describe('content negotiation', () => {
  it('refuses XML asked by _format or Accept, and nothing a JSON client or browser sends', () => {
    for (const f of ['xml', 'text/xml', 'application/xml', 'application/fhir+xml']) assert.ok(refused({ _format: f }), f);
    assert.ok(refused({}, 'application/fhir+xml'));
    assert.ok(refused({}, 'application/xml, text/xml;q=0.5'));
    for (const a of [undefined, '*/*', 'application/fhir+json', 'application/json', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/fhir+xml, application/fhir+json;q=0.5']) {
      assert.ok(!refused({}, a), String(a));
    }
    assert.ok(!refused({ _format: 'json' }));
    assert.ok(!refused({ _format: 'application/fhir+json' }));
  });

  it('never throws anything but a 406, and never refuses an Accept that admits JSON or anything', () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), fc.option(fc.oneof(fc.string(), fc.array(fc.string())), { nil: undefined }), (accept, format) => {
        refused(format === undefined ? {} : { _format: format }, accept);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('application/fhir+xml', 'text/xml', 'text/plain', 'image/png')), fc.constantFrom('*/*', 'application/json', 'application/fhir+json'), (others, ok) => {
        assert.ok(!refused({}, [...others, ok].join(', ')));
      }),
    );
  });
});

describe('method table', () => {
  it('knows which methods a concrete path is served with', () => {
    const t = new MethodTable();
    t.add('GET', '/:type/:id');
    t.add(['PUT'], '/:type/:id');
    t.add('GET', '/org/:ura/fhir/Patient/$overview');
    t.add('GET', '/assets/*');
    assert.deepEqual(t.allowed('/Organization/abc'), ['GET', 'PUT']);
    assert.deepEqual(t.allowed('/org/1/fhir/Patient/$overview'), ['GET']);
    assert.deepEqual(t.allowed('/org/1/fhir/Patient/xoverview'), []);
    assert.deepEqual(t.allowed('/assets/a/b.css'), ['GET']);
    assert.deepEqual(t.allowed('/a/b/c'), []);
  });

  it('matches a parametrised route for any segment without a slash, and nothing with more segments', () => {
    const t = new MethodTable();
    t.add('DELETE', '/List/:id');
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => !s.includes('/')), (id) => {
        assert.deepEqual(t.allowed(`/List/${id}`), ['DELETE']);
        assert.deepEqual(t.allowed(`/List/${id}/x`), []);
      }),
    );
  });
});
