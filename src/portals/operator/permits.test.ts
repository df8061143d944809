import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { PermitView } from '../../secondary-use/contract.ts';
import type { HdabOperatorPort } from '../ports.ts';
import { mountForTest, type PortalTestApp, portalForTest } from '../test-fakes.ts';
import { createPortalPart } from '../part.ts';
import { CookieJar, csrfOf, formRequest, HOSTILE } from '../test-support.ts';

// The HDAB operator's pages: the permit list with status, the full application for review, a
// decision only with a reason, the extraction started and each holder's part shown; a refused
// holder said out loud; hostile text from an application escaped.

function fakeHdab(): HdabOperatorPort & { permits_: Map<string, PermitView>; decisions: Array<{ id: string; decision: string; reason: string }> } {
  const permits_ = new Map<string, PermitView>();
  const decisions: Array<{ id: string; decision: string; reason: string }> = [];
  const get = (id: string) => {
    const p = permits_.get(id);
    if (!p) throw new Error(`permit ${id} does not exist`);
    return p;
  };
  return {
    permits_,
    decisions,
    permits: async () => [...permits_.values()],
    permit: async (id) => get(id),
    async decide(id, decision, reason) {
      const p = get(id);
      if (p.status !== 'applied') throw new Error(`permit ${id} is ${p.status}, not applied`);
      decisions.push({ id, decision, reason });
      const next: PermitView = { ...p, status: decision === 'grant' ? 'granted' : 'refused', decisionReason: reason, decidedAt: new Date().toISOString() };
      permits_.set(id, next);
      return next;
    },
    async startExtraction(id) {
      const p = get(id);
      if (p.status !== 'granted') throw new Error(`permit ${id} is ${p.status}, not granted`);
      const next: PermitView = {
        ...p,
        workspace: 'ready',
        extraction: {
          at: new Date().toISOString(),
          resources: 1234,
          holders: [
            { ura: '90000103', name: 'Huisartsenpraktijk Kerkrade', status: 'delivered', resources: 1234 },
            { ura: '90000104', name: 'Apotheek Kerkrade', status: 'refused', reason: 'permit not verifiable' },
          ],
        },
      };
      permits_.set(id, next);
      return next;
    },
  };
}

const application = (purpose: string): PermitView['application'] => ({
  purpose,
  legalBasis: 'EHDS art. 53 lid 1 onder e',
  categories: ['Patient', 'Condition', 'MedicationUse'],
  cohort: { conditions: ['266257000'], medications: ['C10AA'], ageMin: 18 },
  types: ['Patient', 'Condition', 'MedicationStatement'],
  datePrecision: 'year',
  minCell: 10,
  periodStart: '2026-01-01T00:00:00.000Z',
  periodEnd: '2027-01-01T00:00:00.000Z',
});

describe('portal part: HDAB operator pages (data permits)', () => {
  let app: FastifyInstance;
  let fakes: PortalTestApp['fakes'];
  let store: PortalTestApp['store'];
  let close: () => Promise<void>;
  const hdab = fakeHdab();

  before(async () => {
    ({ app, fakes, store, close } = await portalForTest({ settings: { operator_password: 's3cret', operator_ura: '90000106' }, options: { hdab } }));
    hdab.permits_.set('p1', { id: 'p1', applicant: '90000960', status: 'applied', application: application(`TIA en statines ${HOSTILE}`), appliedAt: '2026-11-30T09:00:00Z', workspace: 'none' });
  });
  after(() => close());

  const get = (jar: CookieJar, url: string) => app.inject({ url, headers: { cookie: jar.header() } });
  async function operator() {
    const jar = new CookieJar();
    const ok = await app.inject({ url: '/operator/login', ...formRequest(jar, { password: 's3cret' }) });
    jar.take(ok);
    return jar;
  }

  test('lists permits with status; the review shows the whole application, escaped', async () => {
    assert.equal((await app.inject({ url: '/operator/permits' })).statusCode, 302, 'a login first');
    const jar = await operator();
    const list = await get(jar, '/operator/permits');
    assert.equal(list.statusCode, 200);
    assert.match(list.body, /data-permit-status="applied"/);
    assert.match(list.body, /Datavergunningen/);
    const detail = await get(jar, '/operator/permits/p1');
    for (const shown of [/EHDS art\. 53/, /Aandoeningen|Condition|Problemen/, /266257000/, /C10AA/, /leeftijd 18/, /MedicationStatement/, /afgerond op jaar/]) assert.match(detail.body, shown);
    assert.doesNotMatch(detail.body, /<script>alert/);
    assert.match((await get(jar, '/operator/permits/p1?lang=en')).body, /Grant<\/button>/);
  });

  test('grant needs a reason; extraction shows each holder, a refusal said out loud', async () => {
    const jar = await operator();
    const csrf = csrfOf((await get(jar, '/operator/permits/p1')).body);
    await app.inject({ url: '/operator/permits/p1/decision', ...formRequest(jar, { csrf, decision: 'grant', reason: '' }) });
    assert.equal(hdab.permits_.get('p1')?.status, 'applied', 'no decision without a reason');
    assert.match((await get(jar, '/operator/permits/p1')).body, /Mislukt/);
    const forged = await app.inject({ url: '/operator/permits/p1/decision', ...formRequest(jar, { csrf: 'x', decision: 'grant', reason: 'r' }) });
    assert.equal(forged.statusCode, 403);
    await app.inject({ url: '/operator/permits/p1/decision', ...formRequest(jar, { csrf, decision: 'grant', reason: 'wetenschappelijk onderzoek' }) });
    assert.deepEqual(hdab.decisions, [{ id: 'p1', decision: 'grant', reason: 'wetenschappelijk onderzoek' }]);
    const granted = await get(jar, '/operator/permits/p1');
    assert.match(granted.body, /data-permit-status="granted"/);
    assert.match(granted.body, /Extractie starten/);
    await app.inject({ url: '/operator/permits/p1/extraction', ...formRequest(jar, { csrf }) });
    const done = await get(jar, '/operator/permits/p1');
    assert.match(done.body, /data-workspace="ready"/);
    assert.match(done.body, /data-holder="90000103"[\s\S]*geleverd/);
    assert.match(done.body, /data-holder="90000104"[\s\S]*geweigerd[\s\S]*permit not verifiable/);
  });

  test('an HDAB that cannot be reached is said, not shown as no permits', async () => {
    const down = await mountForTest(createPortalPart({ ...fakes.options, hdab: { ...hdab, permits: () => Promise.reject(new Error('hdab unreachable')) } }), { store, settings: { operator_password: 's3cret' } });
    try {
      const jar = new CookieJar();
      jar.take(await down.inject({ url: '/operator/login', method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'password=s3cret' }));
      const page = await down.inject({ url: '/operator/permits', headers: { cookie: jar.header() } });
      assert.match(page.body, /konden niet worden opgehaald/);
      assert.match(page.body, /hdab unreachable/);
    } finally {
      await down.close();
    }
  });
});
