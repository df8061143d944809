import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { ZORGCONTEXT_CODES } from '../kit/fhir/profiles/gf-codes.ts';
import { parseLocalizationList, referralToList } from './list-resource.ts';
import { parseCodeParam, parseSourceParam, parseSubjectParam } from './search-params.ts';

const FIXTURE = JSON.parse(readFileSync('/work/shared/fixtures/gf-ig-examples/localization-list.json', 'utf8'));
const TOKEN = Buffer.from(JSON.stringify({ evaluated_output: 'a.b.c.d.e', blind_factor: 'x' })).toString('base64url');

describe('localization List profile', () => {
  it('accepts the IG example once its subject is a token', () => {
    const list = structuredClone(FIXTURE);
    list.subject.identifier.value = TOKEN;
    const parsed = parseLocalizationList(list, ZORGCONTEXT_CODES);
    assert.deepEqual(parsed, { subjectValue: TOKEN, custodian: '22222222', category: 'MedicationRequest', sourceClient: 'ehr-client-org2' });
  });

  it('round-trips a referral to a List without subject', () => {
    const l = referralToList({ id: 'x', custodian: '22222222', category: 'Condition', sourceClient: 'c', created: '2026-01-01T00:00:00.000Z' }, { includeSource: false });
    assert.equal(l.subject, undefined);
    assert.equal(l.source, undefined);
  });

  it('answers anything else with a 422 (or 422-shaped) HttpError, never another exception (property)', () => {
    fc.assert(
      fc.property(fc.anything(), fc.dictionary(fc.constantFrom('status', 'mode', 'code', 'subject', 'extension', 'source', 'title', 'meta', 'emptyReason'), fc.anything()), (junk, patch) => {
        for (const input of [junk, { ...structuredClone(FIXTURE), ...patch }]) {
          try {
            parseLocalizationList(input, ZORGCONTEXT_CODES);
          } catch (err) {
            assert.ok(err instanceof HttpError && err.status === 422, String(err));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('NVI search parameters', () => {
  it('refuses any plain BSN-looking subject without echoing it (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{9}$/), fc.constantFrom('', 'http://fhir.nl/fhir/NamingSystem/bsn|', 'http://minvws.github.io/generiekefuncties-docs/NamingSystem/nvi-identifier|'), (bsn, prefix) => {
        assert.throws(() => parseSubjectParam(prefix + bsn), (e: HttpError) => e.status === 400 && !JSON.stringify(e.outcome).includes(bsn));
      }),
    );
  });

  it('parses code and source tokens strictly and never throws anything but HttpError (property)', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const f of [parseSubjectParam, parseCodeParam, parseSourceParam]) {
          try {
            f(s);
          } catch (err) {
            assert.ok(err instanceof HttpError && err.status === 400);
          }
        }
      }),
    );
    assert.equal(parseCodeParam('http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs|Condition'), 'Condition');
    assert.throws(() => parseCodeParam('http://other|Condition'));
  });
});
