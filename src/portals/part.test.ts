import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DE_GROOT } from '../sandbox/cast.ts';
import { createPortalPart } from './part.ts';
import { type FakeAccessLog, mountForTest, type PortalTestApp, portalForTest } from './test-fakes.ts';
import { CookieJar, csrfOf, formRequest, HOSTILE } from './test-support.ts';
import { CONTENT_SECURITY_POLICY } from './ui/web.ts';

describe('portal part: Mijn Gezondheidsoverzicht', () => {
  let app: FastifyInstance;
  let fakes: PortalTestApp['fakes'];
  let close: () => Promise<void>;
  let citizen: PortalTestApp['citizen'];

  before(async () => {
    ({ app, fakes, close, citizen } = await portalForTest({ settings: { sandbox: 'true' } }));
  });
  after(() => close());

  const get = (jar: CookieJar, url: string) => app.inject({ url, headers: { cookie: jar.header() } });

  test('landing and login pages: Dutch default, English toggle, CSP', async () => {
    const home = await app.inject({ url: '/' });
    assert.equal(home.statusCode, 200);
    assert.equal(home.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(home.body, /Mijn Gezondheidsoverzicht/);
    const login = await app.inject({ url: '/citizen/?lang=en' });
    assert.match(login.body, /Log in with DigiD/);
    assert.match(login.body, /hreflang="nl"/);
  });

  test('pages need a login', async () => {
    for (const path of ['/citizen/data', '/citizen/timeline', '/citizen/consent', '/citizen/access']) {
      const r = await app.inject({ url: path });
      assert.equal(r.statusCode, 302, path);
      assert.equal(r.headers.location, '/citizen/');
    }
  });

  test('my data grouped with sources, and on a timeline newest first', async () => {
    const jar = await citizen();
    const data = await get(jar, '/citizen/data');
    assert.equal(data.statusCode, 200);
    assert.match(data.body, /Hendrik de Groot/);
    assert.match(data.body, />Allergieën en intoleranties</);
    assert.match(data.body, /Apotheek Kerkrade/);
    const tl = await get(jar, '/citizen/timeline');
    const dates = [...tl.body.matchAll(/<li><time datetime="([^"]+)"/g)].map((m) => m[1]);
    assert.ok(dates.length >= 4);
    assert.deepEqual([...dates].sort().reverse(), dates);
    const en = await get(await citizen('en'), '/citizen/timeline');
    assert.match(en.body, /<h1>Timeline<\/h1>/);
  });

  test('consent: record an objection, flip it, withdraw it, in place', async () => {
    const jar = await citizen();
    const page0 = await get(jar, '/citizen/consent');
    assert.match(page0.body, /tenzij jij daar bezwaar tegen maakt/);
    assert.match(page0.body, /nog geen keuzes/);
    const csrf = csrfOf(page0.body);
    const created = await app.inject({ url: '/citizen/consent', ...formRequest(jar, { csrf, provision: 'deny', scope: 'type', type: 'V4' }) });
    assert.equal(created.statusCode, 303);
    const page1 = await get(jar, '/citizen/consent?saved=1');
    assert.match(page1.body, /Je keuze is opgeslagen/);
    assert.match(page1.body, /Je maakt bezwaar: Ziekenhuizen mogen al je gegevens niet inzien\./);
    const [choice] = await fakes.consent.list({ bsn: DE_GROOT.bsn });
    assert.deepEqual(choice.requesterTypes, ['V4']);
    const flip = await app.inject({ url: `/citizen/consent/${choice.id}`, ...formRequest(jar, { csrf, version: '1', action: 'flip' }) });
    assert.equal(flip.statusCode, 303);
    assert.equal(fakes.consent.all.get(choice.id)?.provision, 'permit');
    const stale = await app.inject({ url: `/citizen/consent/${choice.id}`, ...formRequest(jar, { csrf, version: '1', action: 'withdraw' }) });
    assert.equal(stale.statusCode, 502, 'a stale version is refused by the registry');
    const withdraw = await app.inject({ url: `/citizen/consent/${choice.id}`, ...formRequest(jar, { csrf, version: '2', action: 'withdraw' }) });
    assert.equal(withdraw.statusCode, 303);
    assert.equal(fakes.consent.all.get(choice.id)?.status, 'inactive');
    assert.match((await get(jar, '/citizen/consent')).body, /Ingetrokken op [^:<]+: je gaf toestemming dat ziekenhuizen al je gegevens mochten inzien\./);
  });

  test('consent: bad input is refused, and the BSN always comes from the session', async () => {
    const jar = await citizen();
    const csrf = csrfOf((await get(jar, '/citizen/consent')).body);
    const bads: Array<Record<string, string>> = [
      { provision: 'maybe', scope: 'all' },
      { provision: 'deny', scope: 'category', category: HOSTILE },
      { provision: 'deny', scope: 'provider', provider: '99999999' },
      { provision: 'deny', scope: 'everything' },
    ];
    for (const bad of bads) {
      const r = await app.inject({ url: '/citizen/consent', ...formRequest(jar, { csrf, ...bad }) });
      assert.equal(r.statusCode, 400);
      assert.doesNotMatch(r.body, /<script>alert/);
    }
    const before = fakes.consent.all.size;
    const ok = await app.inject({ url: '/citizen/consent', ...formRequest(jar, { csrf, provision: 'deny', scope: 'all', bsn: '111222333' }) });
    assert.equal(ok.statusCode, 303);
    assert.equal(fakes.consent.all.size, before + 1);
    assert.ok([...fakes.consent.all.values()].every((c) => c.bsn === DE_GROOT.bsn));
    const forged = await app.inject({ url: '/citizen/consent', ...formRequest(jar, { csrf: 'nope', provision: 'deny', scope: 'all' }) });
    assert.equal(forged.statusCode, 403);
  });

  test('who accessed my data: entries with emergency flag, proofs verified against the signed head', async () => {
    const jar = await citizen();
    const r = await get(jar, '/citizen/access');
    assert.equal(r.statusCode, 200);
    assert.match(r.body, /Het logboek is gecontroleerd/);
    assert.equal((r.body.match(/✓ staat in het logboek/g) ?? []).length, 2);
    assert.match(r.body, /Noodtoegang<\/span> Bewusteloos binnengebracht/);
    assert.match(r.body, /A\. Bakker/);
    assert.match(r.body, /Spoedeisende hulp arts/);
    assert.equal((r.body.match(/Geweigerd: er zijn geen gegevens getoond/g) ?? []).length, 1, 'a refused access says so');
    assert.doesNotMatch(r.body, /<script>alert/);
    assert.match(r.body, /&lt;script&gt;/);
  });

  test('a tampered tree head is reported, and no entry is marked as in the log', async () => {
    const log: FakeAccessLog = fakes.accessLog;
    log.tamper();
    const jar = await citizen('en');
    const r = await get(jar, '/citizen/access');
    assert.match(r.body, /could not be checked/);
    assert.doesNotMatch(r.body, /is in the log/);
  });

  test('logout ends the citizen session', async () => {
    const jar = await citizen();
    const csrf = csrfOf((await get(jar, '/citizen/data')).body);
    const out = await app.inject({ url: '/citizen/logout', ...formRequest(jar, { csrf }) });
    assert.equal(out.statusCode, 303);
    jar.take(out);
    assert.equal((await get(jar, '/citizen/data')).statusCode, 302);
  });
});

describe('portal part: operator dashboard', () => {
  let app: FastifyInstance;
  let store: PortalTestApp['store'];
  let fakes: PortalTestApp['fakes'];
  let close: () => Promise<void>;

  before(async () => {
    ({ app, store, fakes, close } = await portalForTest({ settings: { operator_password: 's3cret', operator_ura: '90000106' } }));
  });
  after(() => close());

  async function operator() {
    const jar = new CookieJar();
    const wrong = await app.inject({ url: '/operator/login', ...formRequest(jar, { password: 'guess' }) });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.body, /wachtwoord klopt niet/);
    const ok = await app.inject({ url: '/operator/login', ...formRequest(jar, { password: 's3cret' }) });
    assert.equal(ok.statusCode, 303);
    jar.take(ok);
    return jar;
  }
  const get = (jar: CookieJar, url: string) => app.inject({ url, headers: { cookie: jar.header() } });

  test('refuses to start outside the sandbox without an operator password', async () => {
    await assert.rejects(mountForTest(createPortalPart(fakes.options), { store, settings: {} }), /operator_password is required/);
  });

  test('the login page asks for the password; pages need a login', async () => {
    const login = await app.inject({ url: '/operator/' });
    assert.match(login.body, /type="password"/);
    assert.match(login.body, /<label for="password">Wachtwoord<\/label>/);
    assert.equal((await app.inject({ url: '/operator/participants' })).statusCode, 302);
  });

  test('participants: suspend with a reason, then admit again; qualify and withdraw', async () => {
    const jar = await operator();
    const page = await get(jar, '/operator/participants');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Huisartsenpraktijk Kerkrade/);
    assert.match(page.body, /toegelaten/);
    const csrf = csrfOf(page.body);
    const noReason = await app.inject({ url: '/operator/participants/90000103/status', ...formRequest(jar, { csrf, status: 'suspended', reason: '' }) });
    assert.equal(noReason.statusCode, 303);
    assert.match((await get(jar, '/operator/participants')).body, /Mislukt: status and reason are required/);
    const suspend = await app.inject({ url: '/operator/participants/90000103/status', ...formRequest(jar, { csrf, status: 'suspended', reason: 'security incident' }) });
    assert.equal(suspend.statusCode, 303);
    assert.equal(fakes.trust.participantsByUra.get('90000103')?.status, 'suspended');
    const after = await get(jar, '/operator/participants');
    assert.match(after.body, /Uitgevoerd: Huisartsenpraktijk Kerkrade: geschorst/);
    await app.inject({ url: '/operator/participants/90000103/status', ...formRequest(jar, { csrf, status: 'admitted', reason: 'resolved' }) });
    assert.equal(fakes.trust.participantsByUra.get('90000103')?.status, 'admitted');
    await app.inject({ url: '/operator/participants/90000104/qualify', ...formRequest(jar, { csrf, qualification: 'medicatieoverdracht', validUntil: '2030-01-01' }) });
    assert.ok(fakes.trust.participantsByUra.get('90000104')?.qualifications.some((q) => q.qualification === 'medicatieoverdracht'));
    await app.inject({ url: '/operator/participants/90000104/withdraw', ...formRequest(jar, { csrf, qualification: 'medicatieoverdracht' }) });
    assert.ok(!fakes.trust.participantsByUra.get('90000104')?.qualifications.some((q) => q.qualification === 'medicatieoverdracht'));
    const forged = await app.inject({ url: '/operator/participants/90000103/status', ...formRequest(jar, { csrf: 'x', status: 'revoked', reason: 'r' }) });
    assert.equal(forged.statusCode, 403);
    assert.equal(fakes.trust.participantsByUra.get('90000103')?.status, 'admitted');
  });

  test('network picture, certificate warnings, agreements — in English too, hostile text escaped', async () => {
    const jar = await operator();
    const net = await get(jar, '/operator/network');
    assert.match(net.body, /onbereikbaar/);
    assert.match(net.body, /2\.5%/);
    assert.doesNotMatch(net.body, /<script>alert/);
    const certs = await get(jar, '/operator/certificates?lang=en');
    assert.match(certs.body, /expire within 30 days/);
    assert.match(certs.body, /0a1b2c/);
    assert.match(certs.body, /expired/);
    assert.match(certs.body, /111111/, 'a long-lived certificate can be revoked too');
    assert.ok(certs.body.indexOf('0a1b2c') < certs.body.indexOf('111111'), 'expiring certificates first');
    assert.equal((certs.body.match(/tag-danger/g) ?? []).length, 2, 'only the expiring and the expired one are marked');
    assert.doesNotMatch(certs.body, /<script>alert/);
    const csrf = csrfOf(certs.body);
    await app.inject({ url: '/operator/certificates/0a1b2c/revoke', ...formRequest(jar, { csrf, reason: 'key compromise' }) });
    assert.deepEqual(fakes.trust.revoked, ['0a1b2c']);
    const agreements = await get(jar, '/operator/agreements');
    assert.match(agreements.body, /Versie 1, uitgegeven op/);
    assert.match(agreements.body, /acute-zorg/);
  });

  test('participants: a compact table with search, a detail page with the actions, never suspend or revoke the operator itself; role names', async () => {
    const jar = await operator();
    const list = await get(jar, '/operator/participants?q=kerkrade');
    assert.match(list.body, /Huisartsenpraktijk Kerkrade/);
    assert.doesNotMatch(list.body, /Ziekenhuis Veluwe/, 'the search filters');
    assert.doesNotMatch(list.body, /Schorsen/, 'no action buttons in the table');
    assert.match(list.body, /href="\/operator\/participants\/90000103"/);
    const detail = await get(jar, '/operator/participants/90000103');
    assert.equal(detail.statusCode, 200);
    assert.match(detail.body, /Schorsen/);
    const own = await get(jar, '/operator/participants/90000106');
    assert.doesNotMatch(own.body, /Schorsen|>Intrekken</);
    assert.match(own.body, /de beheerder zelf/);
    const csrf = csrfOf(own.body);
    await app.inject({ url: '/operator/participants/90000106/status', ...formRequest(jar, { csrf, status: 'suspended', reason: 'by mistake' }) });
    assert.equal(fakes.trust.participantsByUra.get('90000106')?.status, 'admitted');
    assert.equal((await get(jar, '/operator/participants/99999999')).statusCode, 404);
    const agreements = await get(jar, '/operator/agreements');
    assert.match(agreements.body, /Spoedeisende hulp arts <span class="mono muted">\(01\.045\)<\/span>/);
  });
});
