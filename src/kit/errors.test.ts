import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OperationOutcome } from '@medplum/fhirtypes';
import fc from 'fast-check';
import Fastify from 'fastify';
import { type ErrorMeaning, errorCodeOf, errorCodes, HttpError, hasErrorCode, type IssueCode, KIT_ERRORS, LdnError } from './errors.ts';
import { badRequest } from './fhir/outcome.ts';
import { CODE_SYSTEM } from './identifiers/systems.ts';
import { answerErrorsAsOutcomes } from './http/service.ts';
import { createLogger } from './log.ts';

// The mapping from a coded error to its answer, through the very handler every service installs:
// any LdnError comes back as an OperationOutcome with its status and its code in the details; a
// 500 only when the code means one.

const ISSUES: IssueCode[] = ['invalid', 'structure', 'required', 'security', 'login', 'forbidden', 'not-found', 'conflict', 'processing', 'transient', 'timeout', 'throttled', 'exception', 'too-costly', 'not-supported'];

const codeArb = fc.stringMatching(/^ERR(_[A-Z0-9]{1,8}){1,3}$/);
const meaningArb = fc.record({ status: fc.integer({ min: 400, max: 599 }), issue: fc.constantFrom(...ISSUES) });
const textArb = fc.string({ maxLength: 80 });

async function answerOf(err: Error, thrownIn: 'handler' | 'hook'): Promise<{ status: number; headers: Record<string, unknown>; body: OperationOutcome }> {
  const app = Fastify();
  answerErrorsAsOutcomes(app, createLogger('errors-test', { level: 'silent' }));
  if (thrownIn === 'hook') {
    app.addHook('onRequest', async () => {
      throw err;
    });
  }
  app.get('/x', async () => {
    throw err;
  });
  const res = await app.inject({ method: 'GET', url: '/x' });
  await app.close();
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

const codesIn = (o: OperationOutcome) => o.issue.map((i) => i.details?.coding?.find((c) => c.system === CODE_SYSTEM.errorCode)?.code);

describe('coded errors to OperationOutcomes', () => {
  it('answers any LdnError with its status, its issue code and its stable code, a 500 only when it means one', async () => {
    await fc.assert(
      fc.asyncProperty(codeArb, meaningArb, textArb, fc.constantFrom<'handler' | 'hook'>('handler', 'hook'), async (code, meaning: ErrorMeaning, text, where) => {
        const answer = await answerOf(new LdnError(code, meaning, text), where);
        assert.equal(answer.status, meaning.status);
        assert.equal(answer.headers['content-type'], 'application/fhir+json; charset=utf-8');
        assert.equal(answer.body.resourceType, 'OperationOutcome');
        assert.deepEqual(codesIn(answer.body), [code]);
        assert.equal(answer.body.issue[0].code, meaning.issue);
        assert.equal(answer.body.issue[0].diagnostics, text);
        assert.equal(answer.body.issue[0].severity, meaning.status >= 500 ? 'fatal' : 'error');
        assert.equal(errorCodeOf(answer.body), code);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps the code when the status is another in context, and the headers and issues it was given', async () => {
    const err = new LdnError('ERR_TEST_REFUSED', { status: 422, issue: 'processing' }, 'no', {
      status: 400,
      headers: { 'retry-after': '3' },
      issues: [
        { severity: 'error', code: 'invalid', diagnostics: 'a', expression: ['x'] },
        { severity: 'error', code: 'invalid', diagnostics: 'b', details: { text: 'kept' } },
      ],
    });
    const answer = await answerOf(err, 'handler');
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['retry-after'], '3');
    assert.deepEqual(codesIn(answer.body), ['ERR_TEST_REFUSED', 'ERR_TEST_REFUSED']);
    assert.equal(answer.body.issue[1].details?.text, 'kept');
    assert.deepEqual(answer.body.issue[0].expression, ['x']);
  });

  it('gives an HttpError without a code of its own the generic code of its status', () => {
    assert.equal(badRequest('x').code, 'ERR_BAD_REQUEST');
    assert.equal(new HttpError(418, 'invalid', 'teapot').code, 'ERR_HTTP_418');
    assert.equal(new HttpError(403, 'forbidden', 'no', { code: 'ERR_TEST_NOPE' }).code, 'ERR_TEST_NOPE');
    assert.ok(hasErrorCode(badRequest('x'), 'ERR_BAD_REQUEST'));
    assert.ok(!hasErrorCode(new Error('x'), 'ERR_BAD_REQUEST'));
  });

  it('answers an uncoded error as a 500 that leaks nothing', async () => {
    const answer = await answerOf(new Error('secret internal detail'), 'handler');
    assert.equal(answer.status, 500);
    assert.deepEqual(codesIn(answer.body), ['ERR_KIT_INTERNAL']);
    assert.ok(!JSON.stringify(answer.body).includes('secret'));
  });

  it('refuses a table whose code does not read ERR_<PART>_<WHAT> or whose status is no error', () => {
    assert.throws(() => errorCodes({ 'err_lower': { status: 400, issue: 'invalid' } }), /ERR_/);
    assert.throws(() => errorCodes({ ERR_X_OK: { status: 200, issue: 'invalid' } }), /not an error status/);
    assert.throws(() => errorCodes({ ERR_X_BIG: { status: 600, issue: 'invalid' } }), /not an error status/);
  });

  it("the kit's own codes are answered with their meaning", async () => {
    for (const [code, meaning] of Object.entries(KIT_ERRORS)) {
      const answer = await answerOf(new LdnError(code, meaning, 'kit'), 'handler');
      assert.equal(answer.status, meaning.status, code);
      assert.deepEqual(codesIn(answer.body), [code]);
    }
  });
});
