import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { ExchangeDefinition } from '../../trust/agreements/types.ts';
import { checkQuery } from './query.ts';

// The allow-list limits parameter values as well as names: a category or _include the agreements
// do not list is refused with a reason, before anything reaches the EHR.

const BSN = testBsn(1001);
const exchangeOf = (code: string): ExchangeDefinition => defaultAgreements().exchanges.find((e) => e.code === code)!;
const ACUTE = exchangeOf('acute-zorg');
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';

function check(path: string, extra: Record<string, string | string[]> = {}, exchange = ACUTE) {
  const patient = path === '/Patient' ? { identifier: `${SYSTEM.bsn}|${BSN}` } : { 'patient:identifier': `${SYSTEM.bsn}|${BSN}` };
  return checkQuery(exchange, { method: 'GET', path, query_params: { ...patient, ...extra } }, BSN);
}

describe('query allow-list: parameter values', () => {
  it('allows a listed category and names only its data category', () => {
    assert.deepEqual(check('/Observation', { category: 'vital-signs' }), { ok: true, problems: [], dataCategories: ['ObservationVitalSigns'] });
    const lab = check('/Observation', { category: `${OBS_CATEGORY}|laboratory` });
    assert.deepEqual(lab.dataCategories, ['ObservationLaboratory']);
    assert.equal(check('/Condition', { category: 'problem-list-item' }).ok, true);
  });

  it('leaves a search without the limited parameter to every fitting entry (the results are filtered later)', () => {
    const r = check('/Observation');
    assert.equal(r.ok, true);
    assert.deepEqual(r.dataCategories.sort(), ['ObservationLaboratory', 'ObservationVitalSigns']);
  });

  it('refuses an unlisted category with the values that are allowed', () => {
    const r = check('/Observation', { category: 'social-history' });
    assert.equal(r.ok, false);
    assert.match(r.problems.join(' | '), /category=social-history is not allow-listed for Observation in acute-zorg \(allowed: vital-signs, laboratory\)/);
    assert.deepEqual(r.dataCategories, []);
    assert.match(check('/Condition', { category: 'health-concern' }).problems.join(), /category=health-concern/);
    assert.match(check('/Observation', { category: 'vital-signs,social-history' }).problems.join(), /category=social-history/);
    assert.match(check('/Observation', { category: ['vital-signs', 'social-history'] }).problems.join(), /category=social-history/);
  });

  it('refuses categories that no single entry allows together, and modifiers on limited parameters', () => {
    assert.match(check('/Observation', { category: 'vital-signs,laboratory' }).problems.join(), /fit no single allow-listed search/);
    assert.match(check('/Observation', { 'category:not': 'vital-signs' }).problems.join(), /modifiers are not allow-listed on category/);
    assert.match(check('/Observation', { 'category:missing': 'true' }).problems.join(), /modifiers/);
  });

  it('allows only the listed _include, never a wildcard or an iterating one', () => {
    assert.equal(check('/MedicationStatement', { _include: 'MedicationStatement:medication' }).ok, true);
    assert.match(check('/MedicationStatement', { _include: '*' }).problems.join(), /_include=\* is never allow-listed/);
    assert.match(check('/MedicationStatement', { _include: 'MedicationStatement:source' }).problems.join(), /_include=MedicationStatement:source is not allow-listed/);
    assert.match(check('/MedicationStatement', { '_include:iterate': 'MedicationStatement:medication' }).problems.join(), /modifiers on _include/);
    assert.match(check('/MedicationStatement', { _revinclude: '*' }).problems.join(), /not allow-listed/);
  });

  it('checks _count and _format, which every search may carry', () => {
    assert.equal(check('/AllergyIntolerance', { _count: '50', _format: 'application/fhir+json' }).ok, true);
    assert.match(check('/AllergyIntolerance', { _count: 'all' }).problems.join(), /_count must be a whole number/);
    assert.match(check('/AllergyIntolerance', { _format: 'xml' }).problems.join(), /_format must ask for JSON/);
  });

  it('keeps the limits in the merged citizen-access allow-list', () => {
    const citizen = exchangeOf('citizen-access');
    assert.equal(check('/Observation', { category: 'laboratory' }, citizen).ok, true);
    assert.equal(check('/Observation', { category: 'social-history' }, citizen).ok, false);
    assert.equal(check('/MedicationStatement', { _include: '*' }, citizen).ok, false);
  });

  it('reads an older document without value limits as before, except for wildcard includes', () => {
    const old = structuredClone(ACUTE);
    for (const q of old.queries) delete q.values;
    assert.equal(check('/Observation', { category: 'social-history' }, old).ok, true);
    assert.equal(check('/MedicationStatement', { _include: 'MedicationStatement:source' }, old).ok, true);
    assert.equal(check('/MedicationStatement', { _include: '*' }, old).ok, false);
  });

  it('allows an Observation category search exactly when every value is a listed code (property)', () => {
    const code = fc.oneof(fc.constantFrom('vital-signs', 'laboratory', 'social-history', 'survey', 'exam', '*', ''), fc.string({ maxLength: 12 }));
    const item = fc.tuple(fc.option(fc.constantFrom(OBS_CATEGORY, 'http://other'), { nil: undefined }), code).map(([sys, c]) => (sys ? `${sys}|${c}` : c));
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 3 }), (items) => {
        const r = check('/Observation', { category: items.join(',') });
        const codes = items.join(',').split(',').map((x) => x.slice(x.indexOf('|') + 1));
        const one = new Set(codes).size === 1 && ['vital-signs', 'laboratory'].includes(codes[0]);
        assert.equal(r.ok, one, `${items.join(',')}: ${r.problems.join('; ')}`);
        if (r.ok) assert.deepEqual(r.dataCategories, [codes[0] === 'vital-signs' ? 'ObservationVitalSigns' : 'ObservationLaboratory']);
      }),
      { numRuns: 300 },
    );
  });
});
