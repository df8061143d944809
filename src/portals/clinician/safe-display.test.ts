import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import Fastify, { type FastifyInstance } from 'fastify';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { type HolderResult, mergeOverview } from '../../node/integration/merge.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { CLINICIAN_CLAIMS, CookieJar, csrfOf, EXCHANGES, fakeLogin } from '../test-support.ts';
import { ageOn, maskedBsn } from './pages.ts';
import { clinicianViewerPlugin } from './plugin.ts';

// What the viewer shows must be safe and readable (issue 14): withheld categories said in their
// section, the patient banner, units and numbers as people read them, the holders asked, and a
// clear refusal for a professional of an organisation this node does not serve.

const BASE = '/viewer';
const UCUM = 'http://unitsofmeasure.org';

const patient: Patient = {
  resourceType: 'Patient',
  id: 'p1',
  identifier: [{ system: SYSTEM.bsn, value: DE_GROOT.bsn }],
  name: [{ given: ['Hendrik'], family: 'de Groot' }],
  gender: 'male',
  birthDate: '1974-03-12',
};
const egfr: Observation = {
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
  code: { text: 'eGFR' },
  subject: { reference: 'Patient/p1' },
  effectiveDateTime: '2024-01-15',
  valueQuantity: { value: 52.5, unit: 'mL/min/{1.73_m2}', system: UCUM, code: 'mL/min/{1.73_m2}' },
  interpretation: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'L' }] }],
  referenceRange: [{ low: { value: 60, unit: 'mL/min/{1.73_m2}', system: UCUM, code: 'mL/min/{1.73_m2}' } }],
};

function overview() {
  const holders: HolderResult[] = [
    {
      ura: '90000102',
      name: 'Ziekenhuis Leiden',
      endpoint: 'https://leiden.example/fhir',
      status: 'ok',
      resources: [patient, egfr],
      elapsedMs: 1,
      withheld: [
        { category: 'AllergyIntolerance', reason: 'patient-objection' },
        { category: 'Condition', reason: 'timeout' },
      ],
    },
  ];
  return { bundle: mergeOverview({ bsn: DE_GROOT.bsn, holders }).bundle, holders: [{ name: 'Ziekenhuis Leiden', status: 'ok' }] };
}

describe('the viewer shows what it shows safely', () => {
  let app: FastifyInstance;
  let claims: Record<string, unknown> = CLINICIAN_CLAIMS;
  before(async () => {
    app = Fastify();
    await app.register((scope) =>
      clinicianViewerPlugin(scope, {
        basePath: BASE,
        oidc: { begin: (...a) => fakeLogin(claims).begin(...a), complete: (...a) => fakeLogin(claims).complete(...a) },
        exchanges: EXCHANGES,
        secureCookies: false,
        servesOrganisation: (ura) => ura === '90000101',
        overview: async () => overview(),
      }),
    );
    await app.ready();
  });
  after(() => app.close());

  async function login(): Promise<{ status: number; jar: CookieJar; body: string }> {
    const jar = new CookieJar();
    const start = await app.inject({ url: `${BASE}/login` });
    jar.take(start);
    const state = new URL(String(start.headers.location)).searchParams.get('state');
    const cb = await app.inject({ url: `${BASE}/callback?code=good-code&state=${state}`, headers: { cookie: jar.header() } });
    jar.take(cb);
    return { status: cb.statusCode, jar, body: cb.body };
  }

  async function overviewPage(lang: 'nl' | 'en' = 'nl'): Promise<string> {
    const { jar } = await login();
    const search = await app.inject({ url: `${BASE}/search?lang=${lang}`, headers: { cookie: jar.header() } });
    jar.take(search);
    const res = await app.inject({
      method: 'POST',
      url: `${BASE}/overview`,
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ csrf: csrfOf(search.body), bsn: DE_GROOT.bsn, exchange: 'acute-zorg' }).toString(),
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    return res.body;
  }
  const section = (page: string, group: string) => new RegExp(`<section aria-labelledby="g-${group}"[\\s\\S]*?</section>`).exec(page)?.[0] ?? '';

  test('a withheld category is said inside its section, never "no data", and names no holder', async () => {
    const page = await overviewPage();
    const allergies = section(page, 'allergies');
    assert.match(allergies, /Niet gedeeld op verzoek van de patiënt/);
    assert.doesNotMatch(allergies, /Geen gegevens|Leiden/);
    assert.match(section(page, 'problems'), /Niet ontvangen: Ziekenhuis Leiden antwoordde niet op tijd/);
    assert.match(section(page, 'alerts'), /Geen gegevens/);
    const en = await overviewPage('en');
    assert.match(section(en, 'allergies'), /Not shared at the patient(&#39;|')s request/);
  });

  test('the patient banner: name, birth date with age, sex, masked BSN', async () => {
    const page = await overviewPage();
    const card = /<section class="patient-card"[\s\S]*?<\/section>/.exec(page)?.[0] ?? '';
    assert.match(card, /Hendrik de Groot/);
    assert.match(card, /12 mrt 1974/);
    assert.match(card, /\(\d+ jaar\)/);
    assert.match(card, /man/);
    assert.match(card, /\*\*\*\*\*0010/);
    assert.ok(!card.includes(DE_GROOT.bsn), 'the whole BSN is not on screen');
  });

  test('units and numbers as people read them, the flag spelled out, the reference range, the date column named', async () => {
    const nl = section(await overviewPage(), 'results');
    assert.match(nl, /52,5 mL\/min\/1,73 m² · laag · ref\. ≥ 60 mL\/min\/1,73 m²/);
    assert.match(nl, /Gemeten op/);
    const en = section(await overviewPage('en'), 'results');
    assert.match(en, /52\.5 mL\/min\/1\.73 m² · low · ref\. ≥ 60 mL\/min\/1\.73 m²/);
  });

  test('the holders asked and how they answered, also when all answered; the role in the header', async () => {
    const page = await overviewPage();
    assert.match(page, /Gevraagde zorgaanbieders[\s\S]*1 van 1 zorgaanbieders antwoordden[\s\S]*Ziekenhuis Leiden: geantwoord/);
    assert.match(page, /Ingelogd als A\. Bakker, Spoedeisende hulp arts, Ziekenhuis Veluwe/);
    assert.match(page, /<link rel="icon" href="data:,">/, 'no /favicon.ico request (401 at the node)');
  });

  test('a professional of another organisation is refused at login with a clear page, not an empty form', async () => {
    claims = { ...CLINICIAN_CLAIMS, abonnee_nummer: '90000102', abonnee_naam: 'Ziekenhuis Leiden' };
    try {
      const r = await login();
      assert.equal(r.status, 403);
      assert.match(r.body, /U bent ingelogd voor Ziekenhuis Leiden/);
      const search = await app.inject({ url: `${BASE}/search`, headers: { cookie: r.jar.header() } });
      assert.equal(search.statusCode, 302, 'no session was made');
    } finally {
      claims = CLINICIAN_CLAIMS;
    }
  });

  test('masked BSN and age', () => {
    assert.equal(maskedBsn('900010010'), '*****0010');
    assert.equal(ageOn('1974-03-12', new Date('2026-03-11T12:00:00Z')), 51);
    assert.equal(ageOn('1974-03-12', new Date('2026-03-12T12:00:00Z')), 52);
    assert.equal(ageOn('not a date'), undefined);
  });
});
