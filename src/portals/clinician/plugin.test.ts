import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { isValidBsn, testBsn } from '../../kit/identifiers/bsn.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import type { OverviewInput } from '../ports.ts';
import { CLINICIAN_CLAIMS, CookieJar, csrfOf, deGrootOverview, EXCHANGES, fakeLogin, HOSTILE } from '../test-support.ts';
import { CONTENT_SECURITY_POLICY } from '../ui/web.ts';
import { clinicianViewerPlugin } from './plugin.ts';

const BASE = '/viewer';

describe('clinician viewer plugin', () => {
  let app: FastifyInstance;
  const calls: OverviewInput[] = [];
  let nextBundle = () => deGrootOverview();

  before(async () => {
    app = Fastify();
    await app.register((scope) =>
      clinicianViewerPlugin(scope, {
        basePath: BASE,
        oidc: fakeLogin(CLINICIAN_CLAIMS),
        exchanges: EXCHANGES,
        secureCookies: false,
        overview: async (input) => {
          calls.push(input);
          return nextBundle();
        },
      }),
    );
    await app.ready();
  });
  after(() => app.close());

  async function loggedIn(lang?: 'en') {
    const jar = new CookieJar();
    const start = await app.inject({ url: `${BASE}/login` });
    assert.equal(start.statusCode, 302);
    jar.take(start);
    const state = new URL(String(start.headers.location)).searchParams.get('state');
    const cb = await app.inject({ url: `${BASE}/callback?code=good-code&state=${state}`, headers: { cookie: jar.header() } });
    assert.equal(cb.statusCode, 302);
    assert.equal(cb.headers.location, `${BASE}/search`);
    jar.take(cb);
    const search = await app.inject({ url: `${BASE}/search${lang ? '?lang=en' : ''}`, headers: { cookie: jar.header() } });
    assert.equal(search.statusCode, 200);
    jar.take(search);
    return { jar, csrf: csrfOf(search.body), search };
  }

  const post = (jar: CookieJar, payload: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: `${BASE}/overview`,
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(payload).toString(),
    });

  test('login page in Dutch by default, English via ?lang=en, with a language toggle, strict CSP and no inline script', async () => {
    const nl = await app.inject({ url: `${BASE}/` });
    assert.equal(nl.statusCode, 200);
    assert.match(nl.body, /<html lang="nl">/);
    assert.match(nl.body, /Inloggen met Dezi/);
    assert.match(nl.body, /hreflang="en"/);
    assert.equal(nl.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    assert.match(String(nl.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(nl.body, /<script>|<script [^>]*>[^<]+<\/script>|style=/);
    assert.equal(nl.headers['x-content-type-options'], 'nosniff');
    const en = await app.inject({ url: `${BASE}/?lang=en` });
    assert.match(en.body, /<html lang="en">/);
    assert.match(en.body, /Log in with Dezi/);
    assert.match(String(en.headers['set-cookie']), /ldn_lang=en/);
    const remembered = await app.inject({ url: `${BASE}/`, headers: { cookie: 'ldn_lang=en' } });
    assert.match(remembered.body, /Log in with Dezi/);
  });

  test('assets are local files with the right types', async () => {
    const css = await app.inject({ url: `${BASE}/assets/portal.css` });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    assert.doesNotMatch(css.body, /https?:\/\//);
    const js = await app.inject({ url: `${BASE}/assets/portal.js` });
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(js.body, /isValidBsn/);
  });

  test('a wrong code or a forged state does not log in', async () => {
    const jar = new CookieJar();
    const start = await app.inject({ url: `${BASE}/login` });
    jar.take(start);
    const bad = await app.inject({ url: `${BASE}/callback?code=good-code&state=forged`, headers: { cookie: jar.header() } });
    assert.equal(bad.statusCode, 401);
    const noSession = await app.inject({ url: `${BASE}/callback?code=good-code&state=x` });
    assert.equal(noSession.statusCode, 400);
    const search = await app.inject({ url: `${BASE}/search`, headers: { cookie: jar.header() } });
    assert.equal(search.statusCode, 302);
  });

  test('search page names the clinician and lists acute care first', async () => {
    const { search } = await loggedIn();
    assert.match(search.body, /A\. Bakker, Spoedeisende hulp arts, Ziekenhuis Veluwe/);
    const options = [...search.body.matchAll(/<option value="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(options, ['acute-zorg', 'bgz']);
    assert.match(search.body, /data-bsn/);
  });

  test('overview: allergies first, one line per drug with every source, dates, refusal banner', async () => {
    const { jar, csrf } = await loggedIn();
    const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    assert.equal(res.statusCode, 200);
    const b = res.body;
    const order = ['Allergieën en intoleranties', 'Medicatie', 'Problemen', 'Recente uitslagen'].map((h) => b.indexOf(`>${h}</h2>`));
    assert.ok(order.every((i) => i > 0), 'every group heading present');
    assert.deepEqual([...order].sort((x, y) => x - y), order, 'groups in clinical order');
    assert.equal((b.match(/Acetylsalicylzuur 80 mg/g) ?? []).length, 1, 'one line per drug');
    assert.match(b, /Huisartsenpraktijk Kerkrade, Apotheek Kerkrade|Apotheek Kerkrade, Huisartsenpraktijk Kerkrade/);
    assert.match(b, /<time datetime="2019-05-02">/);
    assert.match(b, /role="alert"/);
    assert.match(b, /Thuiszorg Limburg gaf geen gegevens vrij \(geweigerd\)\./, 'the refusal in Dutch, not the English diagnostics');
    assert.match(b, /hoog risico/);
    assert.match(b, /<td>88 μmol\/L · definitief<\/td>/, 'status codes in Dutch');
    assert.match(b, /Noodtoegang gebruiken/);
    assert.equal(calls.at(-1)?.bsn, DE_GROOT.bsn);
    assert.equal(calls.at(-1)?.session.ura, '90000101');
    assert.equal(calls.at(-1)?.emergencyReason, undefined);
  });

  test('overview in English', async () => {
    const { jar, csrf } = await loggedIn('en');
    const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    assert.match(res.body, /<html lang="en">/);
    assert.match(res.body, />Allergies and intolerances</);
    assert.match(res.body, /Not every source is complete/);
    assert.match(res.body, /Thuiszorg Limburg released no data \(refused\)\./);
    assert.match(res.body, /<td>88 μmol\/L · final<\/td>/);
    assert.match(res.body, /Use emergency access/);
  });

  test("the overview's language toggle works: English is remembered and the search comes back, without a second fetch", async () => {
    const { jar, csrf } = await loggedIn();
    const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    const toggle = /<a class="lang-toggle" href="([^"]+)"/.exec(res.body)?.[1]?.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replaceAll('&amp;', '&');
    assert.ok(toggle, 'the overview has a language toggle');
    const fetches = calls.length;
    const switched = await app.inject({ url: toggle, headers: { cookie: jar.header() } });
    assert.equal(switched.statusCode, 302);
    assert.equal(switched.headers.location, `${BASE}/search`);
    assert.match(String(switched.headers['set-cookie']), /ldn_lang=en/);
    jar.take(switched);
    const search = await app.inject({ url: `${BASE}/search`, headers: { cookie: jar.header() } });
    assert.match(search.body, /<html lang="en">/);
    assert.equal(calls.length, fetches, 'switching language fetched no patient data');
  });

  test('hostile strings from sources are escaped everywhere', async () => {
    const { jar, csrf } = await loggedIn();
    nextBundle = () => deGrootOverview({ hostile: true });
    try {
      const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
      assert.equal(res.statusCode, 200);
      assert.doesNotMatch(res.body, /<script>alert/);
      assert.match(res.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;&quot;&#61;&#96;/);
    } finally {
      nextBundle = () => deGrootOverview();
    }
  });

  test('an invalid BSN is refused server-side (400) without calling the network', async () => {
    const { jar, csrf } = await loggedIn();
    const before = calls.length;
    for (const bsn of ['123456789', '12345678', 'abcdefghi', '000000000', `${DE_GROOT.bsn}0`, HOSTILE]) {
      const res = await post(jar, { csrf, bsn, exchange: 'acute-zorg' });
      assert.equal(res.statusCode, 400, bsn);
      assert.match(res.body, /elfproef/);
      assert.match(res.body, /aria-invalid="true"/);
      assert.doesNotMatch(res.body, /<script>alert/);
    }
    assert.equal(calls.length, before);
  });

  test('property: the server accepts exactly the BSNs that pass the 11-test', async () => {
    const { jar, csrf } = await loggedIn();
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.stringMatching(/^\d{9}$/), fc.integer({ min: 0, max: 9_999_999 }).map(testBsn)), async (bsn) => {
        const res = await post(jar, { csrf, bsn, exchange: 'bgz' });
        assert.equal(res.statusCode === 200, isValidBsn(bsn));
      }),
      { numRuns: 40 },
    );
  });

  test('emergency access needs a reason, only where the exchange allows it, and reaches the port', async () => {
    const { jar, csrf } = await loggedIn();
    const before = calls.length;
    const empty = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg', emergency: '1', emergencyReason: '   ' });
    assert.equal(empty.statusCode, 422);
    assert.match(empty.body, /Geef een reden op voor noodtoegang/);
    // A reason the holders' policy would refuse is refused at the form already (one rule: kit/rules).
    const tooShort = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg', emergency: '1', emergencyReason: ' pijn ' });
    assert.equal(tooShort.statusCode, 422);
    const notAllowed = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'bgz', emergency: '1', emergencyReason: 'bewusteloos' });
    assert.equal(notAllowed.statusCode, 403);
    assert.equal(calls.length, before);
    const ok = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg', emergency: '1', emergencyReason: 'Bewusteloos binnengebracht' });
    assert.equal(ok.statusCode, 200);
    assert.equal(calls.at(-1)?.emergencyReason, 'Bewusteloos binnengebracht');
    assert.match(ok.body, /U gebruikt noodtoegang\. Reden: Bewusteloos binnengebracht/);
  });

  test('bgz overview offers no emergency button', async () => {
    const { jar, csrf } = await loggedIn();
    const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'bgz' });
    assert.doesNotMatch(res.body, /Noodtoegang gebruiken/);
    assert.match(res.body, /niet toegestaan/);
  });

  test('a failing overview port becomes a page, not a stack trace', async () => {
    const { jar, csrf } = await loggedIn();
    nextBundle = () => {
      throw new Error(`node down ${HOSTILE}`);
    };
    try {
      const res = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
      assert.equal(res.statusCode, 502);
      assert.match(res.body, /Het overzicht kon niet worden opgehaald: node down/);
      assert.doesNotMatch(res.body, /<script>alert/);
    } finally {
      nextBundle = () => deGrootOverview();
    }
  });

  test('CSRF token and login are required; logout ends the session', async () => {
    const { jar, csrf } = await loggedIn();
    const forged = await post(jar, { csrf: 'wrong', bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    assert.equal(forged.statusCode, 403);
    assert.match(forged.body, /formulier is verlopen/);
    const anonymous = await post(new CookieJar(), { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    assert.equal(anonymous.statusCode, 401);
    const out = await app.inject({
      method: 'POST',
      url: `${BASE}/logout`,
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: `csrf=${encodeURIComponent(csrf)}`,
    });
    assert.equal(out.statusCode, 302);
    const after = await post(jar, { csrf, bsn: DE_GROOT.bsn, exchange: 'acute-zorg' });
    assert.equal(after.statusCode, 401);
  });

  test('session cookie is HttpOnly, SameSite=Lax and scoped to the viewer', async () => {
    const start = await app.inject({ url: `${BASE}/login` });
    const cookie = String(start.headers['set-cookie']);
    assert.match(cookie, /ldn_viewer=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/viewer/);
  });
});
