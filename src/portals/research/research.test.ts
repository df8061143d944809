import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { PermitView, QueryReleaseView } from '../../secondary-use/contract.ts';
import type { HdabResearcherPort, ResearcherIdentity } from '../ports.ts';
import { portalForTest } from '../test-fakes.ts';
import { CookieJar, csrfOf, fakeLogin, HOSTILE } from '../test-support.ts';
import { applicationOfForm } from './routes.ts';

// The researcher portal: login with the professional provider gives her verklaring, which every
// HDAB call carries; the application form becomes the HDAB's application; a query's answer shows
// only released cells and says how many were suppressed; the HDAB's refusal is shown in its words.

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const VERKLARING = `${b64({ alg: 'RS256' })}.${b64({ voorletters: 'R.', voorvoegsel: 'de', achternaam: 'Boer', dezi_nummer: '900009601', abonnee_nummer: '90000960', abonnee_naam: 'Universiteit Utrecht' })}.c2ln`;

const granted: PermitView = {
  id: 'p9',
  applicant: '90000960',
  status: 'granted',
  application: { purpose: 'TIA per leeftijdsgroep', legalBasis: 'EHDS', categories: ['Patient'], cohort: {}, types: ['Patient'], datePrecision: 'year', minCell: 10, periodStart: '2026-01-01T00:00:00Z', periodEnd: '2027-01-01T00:00:00Z' },
  appliedAt: '2026-11-01T00:00:00Z',
  workspace: 'ready',
};

function fakeHdab(): HdabResearcherPort & { seen: ResearcherIdentity[]; applied: Record<string, unknown>[] } {
  const seen: ResearcherIdentity[] = [];
  const applied: Record<string, unknown>[] = [];
  return {
    seen,
    applied,
    async permits(who) {
      seen.push(who);
      return [granted];
    },
    async permit(who, id) {
      seen.push(who);
      if (id !== 'p9') throw Object.assign(new Error('404'), { outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'permit does not exist' }] } });
      return granted;
    },
    async apply(who, application) {
      seen.push(who);
      applied.push(application);
      return { ...granted, id: 'p10', status: 'applied', workspace: 'none' };
    },
    async query(who, _id, sql): Promise<QueryReleaseView> {
      seen.push(who);
      if (/who/.test(sql)) throw Object.assign(new Error('422'), { outcome: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: 'every cell counts fewer than 10 patients: nothing can be released' }] } });
      return { released: [{ dims: { age_band: `70+${HOSTILE}` }, n: 23 }], suppressed: 2, minCell: 10 };
    },
  };
}

describe('portal part: researcher pages (secondary use)', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  const hdab = fakeHdab();

  before(async () => {
    ({ app, close } = await portalForTest({ settings: { operator_password: 's3cret' }, options: { hdabResearcher: hdab, researchLogin: fakeLogin({ verklaring: VERKLARING }, 'researcher-1') } }));
  });
  after(() => close());

  const get = (jar: CookieJar, url: string) => app.inject({ url, headers: { cookie: jar.header() } });
  const post = (jar: CookieJar, url: string, payload: Record<string, string | string[]>) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(payload)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return app.inject({ url, method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() });
  };
  async function researcher() {
    const jar = new CookieJar();
    const start = await app.inject({ url: '/research/login' });
    jar.take(start);
    const state = new URL(String(start.headers.location)).searchParams.get('state');
    const cb = await get(jar, `/research/callback?code=good-code&state=${state}`);
    assert.equal(cb.headers.location, '/research/permits');
    jar.take(cb);
    return jar;
  }

  test('pages need a login; the login carries her verklaring to every HDAB call', async () => {
    assert.equal((await app.inject({ url: '/research/permits' })).statusCode, 302);
    const jar = await researcher();
    const list = await get(jar, '/research/permits');
    assert.match(list.body, /R\. de Boer \(Universiteit Utrecht\)/);
    assert.match(list.body, /TIA per leeftijdsgroep/);
    assert.equal(hdab.seen.at(-1)?.verklaring, VERKLARING);
    assert.equal(hdab.seen.at(-1)?.ura, '90000960');
  });

  test('the application form becomes the HDAB application', async () => {
    const jar = await researcher();
    const csrf = csrfOf((await get(jar, '/research/apply')).body);
    const r = await post(jar, '/research/apply', { csrf, purpose: 'Onderzoek', legalBasis: 'EHDS', categories: ['Patient', 'Condition'], types: ['Patient'], conditions: '266257000, 230690007', ageMin: '18', periodStart: '2026-01-01', periodEnd: '2027-01-01', datePrecision: 'year' });
    assert.equal(r.headers.location, '/research/permits/p10');
    assert.deepEqual(hdab.applied.at(-1), {
      purpose: 'Onderzoek',
      legalBasis: 'EHDS',
      categories: ['Patient', 'Condition'],
      types: ['Patient'],
      cohort: { conditions: ['266257000', '230690007'], ageMin: 18 },
      datePrecision: 'year',
      periodStart: '2026-01-01',
      periodEnd: '2027-01-01',
    });
    assert.deepEqual(applicationOfForm({ purpose: ' x ' }).cohort, {});
  });

  test('a query shows released cells only, the suppressed count said; a refusal in the HDAB\'s words', async () => {
    const jar = await researcher();
    const csrf = csrfOf((await get(jar, '/research/permits/p9')).body);
    const ok = await post(jar, '/research/permits/p9/query', { csrf, sql: 'SELECT id AS patient, age_band FROM x' });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /<td data-n>23<\/td>/);
    assert.match(ok.body, /data-suppressed-count="2"/);
    assert.match(ok.body, /2 groep\(en\) met minder dan 10 patiënten zijn weggelaten/);
    assert.doesNotMatch(ok.body, /<script>alert/);
    const refused = await post(jar, '/research/permits/p9/query', { csrf, sql: 'SELECT id AS patient, id AS who FROM patient' });
    assert.equal(refused.statusCode, 422);
    assert.match(refused.body, /nothing can be released/);
    const forged = await post(jar, '/research/permits/p9/query', { csrf: 'x', sql: 'SELECT 1' });
    assert.equal(forged.statusCode, 403);
    assert.match((await get(jar, '/research/permits/p9?lang=en')).body, /Ask a question \(SQL\)/);
  });
});
