import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { errorCodes, LdnError } from '../../kit/errors.ts';
import { installErrorPage, PageError } from './web.ts';

// The portals' error page: a coded refusal from any part (an LdnError, not only the kit's
// HttpError) keeps its status, for a browser and for a program; anything else is a 500 that
// tells nothing of the cause.

const CODES = errorCodes({ ERR_TEST_REFUSED: { status: 422, issue: 'processing' } });
class TestRefusal extends LdnError {
  constructor() {
    super('ERR_TEST_REFUSED', CODES.ERR_TEST_REFUSED, 'refused for the test');
  }
}

async function portalThrowing(err: Error) {
  const app = Fastify();
  installErrorPage(app, { portal: () => 'Portaal', home: '/', assetBase: '/assets' });
  app.get('/x', async () => {
    throw err;
  });
  await app.ready();
  return app;
}

describe('the portals\' error page', () => {
  it('keeps the status of a coded refusal that is not an HttpError, as a page and as an OperationOutcome', async () => {
    const app = await portalThrowing(new TestRefusal());
    const page = await app.inject({ url: '/x', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 422);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const json = await app.inject({ url: '/x', headers: { accept: 'application/fhir+json' } });
    assert.equal(json.statusCode, 422);
    assert.equal(json.json().issue[0].details.coding.find((c: { code: string }) => c.code === 'ERR_TEST_REFUSED')?.code, 'ERR_TEST_REFUSED');
    await app.close();
  });

  it('answers anything uncoded with a 500 that names no cause', async () => {
    const app = await portalThrowing(new Error('secret detail'));
    const json = await app.inject({ url: '/x', headers: { accept: 'application/json' } });
    assert.equal(json.statusCode, 500);
    assert.ok(!json.body.includes('secret detail'));
    await app.close();
  });

  it('shows a page error as the visitor\'s page and codes it by status for a program, in her language', async () => {
    const app = await portalThrowing(new PageError(403, 'common.csrf'));
    const page = await app.inject({ url: '/x', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 403);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    const json = await app.inject({ url: '/x', headers: { accept: 'application/fhir+json' } });
    assert.equal(json.statusCode, 403);
    const issue = json.json().issue[0];
    assert.equal(issue.code, 'forbidden');
    assert.ok(issue.details.coding.some((c: { code: string }) => c.code === 'ERR_PORTAL_PAGE_FORBIDDEN'));
    assert.notEqual(issue.diagnostics, 'common.csrf', 'the message, not its key');
    await app.close();
    for (const [status, code] of [[400, 'ERR_PORTAL_PAGE_INVALID'], [401, 'ERR_PORTAL_LOGIN_REQUIRED'], [404, 'ERR_PORTAL_PAGE_INVALID'], [503, 'ERR_PORTAL_PAGE_FAILED']] as const) {
      const e = new PageError(status, 'common.error');
      assert.deepEqual([e.status, e.code], [status, code]);
    }
  });
});
