import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { migrate } from '../kit/store/migrate.ts';
import type { Store } from '../kit/store/store.ts';
import { applyTransaction } from './feed.ts';
import { DIRECTORY_MIGRATIONS } from './migrations.ts';
import { organization } from './test-support.ts';

// Whatever a client sends as a transaction, the directory answers 4xx or applies it whole:
// never a 5xx (an HttpError below 500 here; anything else becomes a 500 in the service), and
// never a partial write when it refuses.

const URA = '12121212';

const json = fc.jsonValue({ maxDepth: 2 });
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('\u0000', 'a\u0001b', '\ud800', 'x\udfffy', 'Huisartsenpraktijk'),
);
const goodOrganization = text.map((name) => ({ ...organization(URA), name }));
const resource = fc.oneof(
  { weight: 2, arbitrary: fc.constant(organization(URA)) },
  { weight: 4, arbitrary: goodOrganization },
  { weight: 1, arbitrary: fc.record({ id: fc.oneof(text, json) }).map((o) => ({ ...organization(URA), ...o })) },
  { weight: 1, arbitrary: json },
);
const url = fc.oneof(
  fc.constantFrom('Organization', '/Organization', 'Organization/abc', 'Organization/..%2Fx', 'Organization/../x', 'Organization/a/b', 'Patient', '', '/'),
  fc.constantFrom('Organization?x=1', `Organization/${'a'.repeat(65)}`, 'Organization/a b', 'Organization/', 'Endpoint/x'),
  fc.string().map((s) => `Organization/${s}`),
  json,
);
const goodRequest = fc.oneof(
  fc.constant({ method: 'POST', url: 'Organization' }),
  fc.stringMatching(/^[A-Za-z0-9]{1,8}$/).map((id) => ({ method: 'PUT', url: `Organization/${id}` })),
);
const request = fc.oneof(
  { weight: 4, arbitrary: goodRequest },
  { weight: 4, arbitrary: fc.record({ method: fc.oneof(fc.constantFrom('POST', 'PUT', 'DELETE', 'GET'), json), url, ifMatch: fc.oneof(fc.constantFrom('W/"1"', '"2"'), json) }, { requiredKeys: ['method', 'url'] }) },
  { weight: 1, arbitrary: json },
);
const entry = fc.oneof(
  { weight: 5, arbitrary: fc.record({ request: goodRequest, resource }) },
  { weight: 3, arbitrary: fc.record({ fullUrl: fc.oneof(fc.uuid().map((u) => `urn:uuid:${u}`), json), request, resource }, { requiredKeys: ['request'] }) },
  { weight: 1, arbitrary: json },
);
const bundle = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ resourceType: fc.constant('Bundle'), type: fc.constant('transaction'), entry: fc.oneof({ weight: 4, arbitrary: fc.array(entry, { maxLength: 4 }) }, { weight: 1, arbitrary: json }) }),
  },
  { weight: 1, arbitrary: fc.record({ resourceType: fc.oneof(fc.constant('Bundle'), json), type: json, entry: json }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: json },
);

describe('directory transactions with arbitrary input', () => {
  let store: Store;
  before(async () => {
    store = await openIsolatedPgliteStore('dirfuzz');
    await migrate(store, DIRECTORY_MIGRATIONS);
  });
  after(async () => store.close());

  const counts = async () => {
    const [r] = await store.query<{ resources: number; history: number }>(
      'SELECT (SELECT count(*)::int FROM resources) AS resources, (SELECT count(*)::int FROM history) AS history',
    );
    return r;
  };

  it('answers 4xx or applies the whole bundle, and never writes part of a refused one', async () => {
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(bundle, async (b) => {
        const before = await counts();
        try {
          const result = await applyTransaction(store, { ura: URA }, structuredClone(b));
          applied++;
          const now = await counts();
          assert.equal(now.history - before.history, result.entry?.length ?? 0, 'one history row per applied entry');
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}: ${err.message}`);
          assert.deepEqual(await counts(), before, `a refused bundle wrote something (${err.message})`);
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(applied > 0, 'the generator also produces bundles that apply');
  });
});
