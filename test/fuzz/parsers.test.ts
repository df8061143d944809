import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseClosedQuestion } from '../../src/consent/closed-question.ts';
import { parseConsent } from '../../src/consent/fhir.ts';
import { parseConsentNotification } from '../../src/consent/notifications.ts';
import { checkQuery } from '../../src/consent/pdp/query.ts';
import { parseSubscription } from '../../src/consent/subscription-store.ts';
import { parseIfMatch } from '../../src/directory/feed.ts';
import { validateEntry } from '../../src/directory/validation.ts';
import { HttpError } from '../../src/kit/fhir/outcome.ts';
import { credentialTooLong } from '../../src/kit/http/credential-limits.ts';
import { checkUrl, jsonProblem } from '../../src/kit/http/edge.ts';
import { parseKvkUri, parseUziOtherName } from '../../src/kit/pki/uzi-san.ts';
import { parseTraceparent } from '../../src/kit/trace.ts';
import { parseFaults } from '../../src/node/ehr-sim/faults.ts';
import { parseDate, parsePatientReference, parseToken } from '../../src/node/ehr-sim/search-params.ts';
import { batchSearches, decodeReason, onePatient } from '../../src/node/source/holder-api.ts';
import { bsnOfQuery, parseEntryUrl } from '../../src/node/source/query-translation.ts';
import { checkSearchValues } from '../../src/node/source/search-values.ts';
import { parseEvalRequest } from '../../src/pseudonyms/evaluate.ts';
import { acceptRecipientJwk } from '../../src/pseudonyms/recipient-keys.ts';
import { parseLocalizationList } from '../../src/referral-index/list-resource.ts';
import { parseCodeParam, parseSourceParam, parseSubjectParam } from '../../src/referral-index/search-params.ts';
import { defaultAgreements } from '../../src/trust/agreements/default-agreements.ts';

// Fuzzing every parser at the network's edges with fast-check (issue 15): whatever a caller
// sends, a parser returns or refuses with a 4xx HttpError; it never throws anything else (which
// the kit would answer as a 500) and never hangs. `npm run fuzz` runs 10 000 inputs per
// property (LDN_FUZZ_RUNS); npm test a smaller count.

const RUNS = Number(process.env.LDN_FUZZ_RUNS ?? 300);
const agreements = defaultAgreements();
const acute = agreements.exchanges.find((e) => e.code === 'acute-zorg')!;
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

/** Runs fn; passes when it returns, or throws a 4xx HttpError (or one of the `also` error types). */
function refusesCleanly(fn: () => unknown, also: Array<new (...a: never[]) => Error> = []): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) {
      assert.ok(err.status >= 400 && err.status < 500, `status ${err.status}: ${err.message}`);
      assert.equal(err.outcome.resourceType, 'OperationOutcome');
      return;
    }
    // `also`: the exact error types a caller maps to 400 itself (never TypeError and the like).
    if (also.some((t) => (err as Error).constructor === t)) return;
    throw err;
  }
}

// Inputs an attacker would try: any JSON, strings with the characters that break parsers.
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\u0000', '%00', '|', '||', '%', '%E0%A4%A', '../..', '*', ',', ',,,', 'a'.repeat(5000), '９０００１００１０', '900010010', `${BSN}|900010010`),
);
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('patient:identifier', 'subject:identifier', 'identifier', 'clinical-status', 'status', 'category', 'date', 'code', '_include', '_count', '_format', 'date:missing', 'code:not'), fc.string()),
  fc.oneof(nasty, fc.array(nasty, { maxLength: 8 })),
  { maxKeys: 6 },
);
const resourceType = fc.oneof(fc.constantFrom('Patient', 'AllergyIntolerance', 'Observation', 'Condition', 'MedicationStatement', 'Flag', 'Encounter', 'Basic'), fc.string());
const json = fc.jsonValue({ maxDepth: 5 });
const objectish = fc.oneof(json, fc.anything({ maxDepth: 4 }), fc.record({ resourceType: fc.constantFrom('Bundle', 'Consent', 'List', 'Subscription', 'Parameters', 'Organization'), type: fc.constantFrom('batch', 'transaction', 'history'), entry: fc.anything({ maxDepth: 3 }) }));

describe('fuzzing the parsers at the edges', () => {
  it('the kit edge: URL and body checks', () => {
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => checkUrl(s))), { numRuns: RUNS });
    fc.assert(fc.property(fc.anything({ maxDepth: 8 }), (v) => void jsonProblem(v)), { numRuns: RUNS });
    fc.assert(fc.property(fc.string(), (s) => void credentialTooLong('x', s)), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => void parseTraceparent(s)), { numRuns: RUNS });
  });

  it('the holder: batch bodies, entry URLs, patients, search values, emergency reasons', () => {
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => onePatient(batchSearches(b)))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (u) => refusesCleanly(() => parseEntryUrl(u))), { numRuns: RUNS });
    fc.assert(fc.property(resourceType, query, (t, q) => refusesCleanly(() => bsnOfQuery(t, q))), { numRuns: RUNS });
    fc.assert(fc.property(resourceType, query, (t, q) => refusesCleanly(() => checkSearchValues(t, q))), { numRuns: RUNS });
    fc.assert(fc.property(fc.oneof(nasty, fc.array(nasty)), (r) => refusesCleanly(() => decodeReason(r))), { numRuns: RUNS });
  });

  it('the policy decision: allow-list checks of arbitrary searches', () => {
    fc.assert(
      fc.property(fc.constantFrom('GET', 'POST', 'DELETE'), resourceType, query, (method, type, q) => {
        const r = checkQuery(acute, { method, path: `/${type}`, query_params: q }, '900010010');
        assert.equal(typeof r.ok, 'boolean');
      }),
      { numRuns: RUNS },
    );
  });

  it('consent: closed questions, Consents, Subscriptions, notifications', () => {
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseClosedQuestion(b, agreements))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseConsent(b))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseSubscription(b, '90000101'))), { numRuns: RUNS });
    // The node's notification route maps this parser's Error to 400 (node/consent-notifications.ts).
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseConsentNotification(b), [Error])), { numRuns: RUNS });
  });

  it('the referral index and the pseudonym service', () => {
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseSubjectParam(s))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseCodeParam(s))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseSourceParam(s))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseLocalizationList(b, new Set(['AllergyIntolerance'])))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseEvalRequest(b))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => acceptRecipientJwk(b))), { numRuns: RUNS });
  });

  it('the directory: entries and If-Match', () => {
    fc.assert(fc.property(fc.constantFrom('Organization', 'Endpoint', 'Location', 'HealthcareService', 'OrganizationAffiliation'), objectish, (t, b) => refusesCleanly(() => validateEntry(t as 'Organization', b))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseIfMatch(s))), { numRuns: RUNS });
  });

  it('certificates and the EHR simulator', () => {
    fc.assert(fc.property(nasty, (s) => void parseUziOtherName(s)), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => void parseKvkUri(s)), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseToken(s))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parseDate(s))), { numRuns: RUNS });
    fc.assert(fc.property(nasty, (s) => refusesCleanly(() => parsePatientReference(s))), { numRuns: RUNS });
    fc.assert(fc.property(objectish, (b) => refusesCleanly(() => parseFaults(b))), { numRuns: RUNS });
  });
});
