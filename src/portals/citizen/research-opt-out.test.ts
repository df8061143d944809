import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { consentResource, parseConsent } from '../../consent/fhir.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { type PortalTestApp, portalForTest } from '../test-fakes.ts';
import { type CookieJar, csrfOf, formRequest } from '../test-support.ts';

// The citizen's objection to secondary use (EHDS) on the consent page: its own section, its own
// kind of Consent (research, HRESCH), never listed or changed as a care choice.

describe('citizen portal: research opt-out', () => {
  let app: FastifyInstance;
  let fakes: PortalTestApp['fakes'];
  let close: () => Promise<void>;
  let citizen: PortalTestApp['citizen'];

  before(async () => {
    ({ app, fakes, close, citizen } = await portalForTest({ settings: { sandbox: 'true' } }));
  });
  after(() => close());

  const get = (jar: CookieJar, url: string) => app.inject({ url, headers: { cookie: jar.header() } });

  test('objects and withdraws in its own section, as a research Consent, apart from the care choices', async () => {
    const jar = await citizen();
    const page0 = await get(jar, '/citizen/consent');
    assert.match(page0.body, /Gebruik van je gegevens voor onderzoek/);
    assert.match(page0.body, /data-research-state="none"/);
    const csrf = csrfOf(page0.body);

    const objected = await app.inject({ url: '/citizen/consent/research', ...formRequest(jar, { csrf, objection: 'object' }) });
    assert.equal(objected.statusCode, 303);
    const [choice] = [...fakes.consent.all.values()];
    assert.equal(choice.purpose, 'HRESCH');
    assert.equal(choice.provision, 'deny');
    assert.equal(choice.bsn, DE_GROOT.bsn);
    // Its FHIR form is a research consent (what the consent part stores and the holders' question counts).
    const fhir = consentResource(choice);
    assert.equal(fhir.scope?.coding?.[0].code, 'research');
    assert.equal(parseConsent(fhir).purpose, 'HRESCH');

    const page1 = await get(jar, '/citizen/consent?saved=1');
    assert.match(page1.body, /data-research-state="objected"/);
    // Not shown as a care objection ("je maakt bezwaar ... al je gegevens").
    assert.match(page1.body, /Je hebt nog geen keuzes vastgelegd\./);
    // Objecting twice records one objection.
    await app.inject({ url: '/citizen/consent/research', ...formRequest(jar, { csrf, objection: 'object' }) });
    assert.equal(fakes.consent.all.size, 1);

    const withdrawn = await app.inject({ url: '/citizen/consent/research', ...formRequest(jar, { csrf, objection: 'withdraw' }) });
    assert.equal(withdrawn.statusCode, 303);
    assert.equal(fakes.consent.all.get(choice.id)?.status, 'inactive');
    assert.match((await get(jar, '/citizen/consent')).body, /data-research-state="none"/);

    assert.equal((await app.inject({ url: '/citizen/consent/research', ...formRequest(jar, { csrf, objection: 'maybe' }) })).statusCode, 400);
    assert.equal((await app.inject({ url: '/citizen/consent/research', ...formRequest(jar, { csrf: 'forged', objection: 'object' }) })).statusCode, 403);
    const en = await get(await citizen('en'), '/citizen/consent');
    assert.match(en.body, /Use of your data for research/);
  });
});
