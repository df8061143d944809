import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BELGIAN_PATIENTS, belgianSummary } from '../../ncpeh/foreign/belgian-patients.ts';
import { transcodeIncoming } from '../../ncpeh/terms/inbound.ts';
import { foreignSummaryModel } from './foreign-model.ts';
import { foreignSummaryPage } from './foreign-pages.ts';

// The foreign summary as the viewer shows it: origin, Dutch and original terms, and a section
// that is empty says why (refused, nothing known, not sent), never a bare "no data".

const tagged = (b: ReturnType<typeof belgianSummary>) => ({
  ...transcodeIncoming(b),
  meta: { source: 'https://be.example:9443', lastUpdated: '2026-11-01T10:00:05Z', tag: [{ system: 'https://ldn.example.nl/fhir/NamingSystem/cross-border/origin', code: 'BE', display: 'NCPeH België' }] },
});

describe('foreign summary model and page', () => {
  it('gives each section a state and each item its Dutch and original terms', () => {
    const model = foreignSummaryModel(tagged(belgianSummary(BELGIAN_PATIENTS[0], new Date('2026-11-01T10:00:00Z'))));
    assert.equal(model.country, 'BE');
    assert.equal(model.contactPoint, 'NCPeH België');
    assert.equal(model.patient.name, 'Camille Marie Lambert');
    const state = Object.fromEntries(model.sections.map((s) => [s.key, s.state]));
    assert.deepEqual(state, { problems: 'items', medication: 'items', allergies: 'items', immunizations: 'withheld', results: 'not-sent', procedures: 'not-sent' });
    const problems = model.sections.find((s) => s.key === 'problems')!.items;
    assert.deepEqual(problems[0], { dutch: 'Diabetes mellitus type 2', original: 'Diabète sucré de type 2', codes: ['SNOMED CT 44054006', 'IBUI 10071385'], details: [] });
    assert.equal(problems[2].dutch, undefined);
    assert.equal(problems[2].untranslated, 'no-mapping');
    const allergy = model.sections.find((s) => s.key === 'allergies')!.items[0];
    assert.deepEqual(allergy.details, ['Urticaria (netelroos) (Urticaire)']);
  });

  it('says "nothing known" only when the other country says so', () => {
    const model = foreignSummaryModel(tagged(belgianSummary(BELGIAN_PATIENTS[1])));
    assert.equal(model.sections.find((s) => s.key === 'allergies')!.state, 'nilknown');
  });

  it('renders the foreign banner and the per-section words in Dutch and English', () => {
    const model = foreignSummaryModel(tagged(belgianSummary(BELGIAN_PATIENTS[0])));
    const frame = { basePath: '/viewer', path: '/viewer/buitenland' };
    const nl = foreignSummaryPage({ ...frame, lang: 'nl' }, model);
    assert.match(nl, /Buitenlandse gegevens: België \(BE\)/);
    assert.match(nl, /heeft deze gegevens niet vrijgegeven \(geweigerd\)/);
    assert.match(nl, /België heeft voor dit onderdeel niets meegestuurd/);
    assert.match(nl, /Bron: NCPeH België \(https:\/\/be.example:9443\)/);
    assert.match(nl, /<strong>Diabetes mellitus type 2<\/strong><\/td>\s*<td>Diabète sucré de type 2<\/td>/);
    assert.doesNotMatch(nl, /Geen gegevens/i);
    const en = foreignSummaryPage({ ...frame, lang: 'en' }, model);
    assert.match(en, /Data from abroad: Belgium \(BE\)/);
    assert.match(en, /did not release this data \(refused\)/);
  });
});
