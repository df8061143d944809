import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { dataCategoriesOf, permittedResources } from './response-filter.ts';

// Whatever the EHR answers, only resources in a category the decision permits leave the node.

const ACUTE = defaultAgreements().exchanges.find((e) => e.code === 'acute-zorg')!;
const OBS = 'http://terminology.hl7.org/CodeSystem/observation-category';
const obs = (id: string, code?: string): Resource =>
  ({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' }, ...(code ? { category: [{ coding: [{ system: OBS, code }] }] } : {}) }) as Resource;
const statement = (id: string, medication: string): Resource =>
  ({ resourceType: 'MedicationStatement', id, status: 'active', subject: { reference: 'Patient/p1' }, medicationReference: { reference: medication } }) as Resource;
const medication = (id: string): Resource => ({ resourceType: 'Medication', id }) as Resource;
const ids = (rs: Resource[]) => rs.map((r) => `${r.resourceType}/${r.id}`);

describe('response filter', () => {
  it('maps resources to data categories by the allow-list', () => {
    assert.deepEqual(dataCategoriesOf(obs('a', 'vital-signs'), ACUTE), ['ObservationVitalSigns']);
    assert.deepEqual(dataCategoriesOf(obs('a', 'laboratory'), ACUTE), ['ObservationLaboratory']);
    assert.deepEqual(dataCategoriesOf(obs('a', 'social-history'), ACUTE), []);
    assert.deepEqual(dataCategoriesOf(obs('a'), ACUTE), []);
    assert.deepEqual(dataCategoriesOf({ resourceType: 'AllergyIntolerance', category: ['medication'] } as Resource, ACUTE), ['AllergyIntolerance']);
    assert.deepEqual(dataCategoriesOf({ resourceType: 'Procedure' } as Resource, ACUTE), []);
  });

  it('drops Observations outside the permitted categories', () => {
    const answer = [obs('v', 'vital-signs'), obs('l', 'laboratory'), obs('s', 'social-history'), obs('n')];
    const r = permittedResources(answer, 'Observation', ACUTE, ['ObservationVitalSigns']);
    assert.deepEqual(ids(r.kept), ['Observation/v']);
    assert.equal(r.withheld, 3);
    assert.deepEqual(ids(permittedResources(answer, 'Observation', ACUTE, ['ObservationVitalSigns', 'ObservationLaboratory']).kept), ['Observation/v', 'Observation/l']);
  });

  it('lets a Medication go along only when a permitted statement points to it', () => {
    const answer = [statement('s1', 'Medication/m1'), statement('s2', 'https://ehr.example/fhir/Medication/m2/_history/3'), medication('m1'), medication('m2'), medication('m3')];
    const r = permittedResources(answer, 'MedicationStatement', ACUTE, ['MedicationUse']);
    assert.deepEqual(ids(r.kept), ['MedicationStatement/s1', 'MedicationStatement/s2', 'Medication/m1', 'Medication/m2']);
    assert.deepEqual(permittedResources(answer, 'MedicationStatement', ACUTE, ['AllergyIntolerance']).kept, []);
  });

  it('withholds a resource in two categories when only one of them is permitted', () => {
    const both = { resourceType: 'Observation', id: 'b', category: [{ coding: [{ code: 'vital-signs' }] }, { coding: [{ code: 'laboratory' }] }] } as Resource;
    assert.deepEqual(permittedResources([both], 'Observation', ACUTE, ['ObservationLaboratory']).kept, []);
    assert.deepEqual(ids(permittedResources([both], 'Observation', ACUTE, ['ObservationLaboratory', 'ObservationVitalSigns']).kept), ['Observation/b']);
  });

  it('never lets anything but the searched type and its companions out', () => {
    const answer = [{ resourceType: 'Condition', id: 'c', category: [{ coding: [{ code: 'problem-list-item' }] }] } as Resource, obs('v', 'vital-signs')];
    assert.deepEqual(ids(permittedResources(answer, 'Observation', ACUTE, ['ObservationVitalSigns', 'Condition']).kept), ['Observation/v']);
    assert.deepEqual(permittedResources([medication('m')], 'Observation', ACUTE, ['ObservationVitalSigns']).kept, []);
  });

  // The oracle is written out here, independent of the allow-list: which categories each kind of
  // resource is in for acute-zorg. A resource in two categories (an Observation coded both
  // vital-signs and laboratory) may leave only when both are permitted.
  function expectedCategories(r: Resource): string[] {
    const codes = ((r as { category?: Array<{ coding?: Array<{ code?: string }> }> }).category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code);
    if (r.resourceType === 'Observation') {
      return [...(codes.includes('vital-signs') ? ['ObservationVitalSigns'] : []), ...(codes.includes('laboratory') ? ['ObservationLaboratory'] : [])];
    }
    const one = expectedCategory(r);
    return one ? [one] : [];
  }
  const mayLeave = (r: Resource, permitted: string[]) => {
    const categories = expectedCategories(r);
    return categories.length > 0 && categories.every((c) => permitted.includes(c));
  };

  function expectedCategory(r: Resource): string | undefined {
    const codes = ((r as { category?: Array<{ coding?: Array<{ code?: string }> }> }).category ?? []).flatMap((c) => c.coding ?? []).map((c) => c.code);
    switch (r.resourceType) {
      case 'Condition':
        return codes.some((c) => c === 'problem-list-item' || c === 'encounter-diagnosis') ? 'Condition' : undefined;
      case 'MedicationStatement':
      case 'MedicationDispense':
        return 'MedicationUse';
      case 'MedicationRequest':
        return 'MedicationRequest';
      case 'Flag':
        return 'Alert';
      case 'AllergyIntolerance':
        return 'AllergyIntolerance';
      case 'Patient':
        return 'Patient';
      default:
        return undefined;
    }
  }

  it('never lets a resource of a non-permitted category out (property)', () => {
    const TYPES = ['Observation', 'Condition', 'MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'Flag', 'AllergyIntolerance', 'Procedure', 'Medication', 'Patient', 'Encounter'];
    const CODES = ['vital-signs', 'laboratory', 'social-history', 'survey', 'problem-list-item', 'encounter-diagnosis', 'health-concern'];
    const CATEGORIES = ['ObservationVitalSigns', 'ObservationLaboratory', 'ObservationSocialHistory', 'Condition', 'MedicationUse', 'MedicationRequest', 'Alert', 'AllergyIntolerance', 'Procedure', 'Patient'];
    const resource = fc
      .record({
        type: fc.constantFrom(...TYPES),
        id: fc.constantFrom('1', '2', '3', '4'),
        codes: fc.array(fc.constantFrom(...CODES), { maxLength: 2 }),
        ref: fc.option(fc.constantFrom('Medication/1', 'Medication/2', 'Observation/1', 'Patient/9'), { nil: undefined }),
      })
      .map(
        ({ type, id, codes, ref }) =>
          ({
            resourceType: type,
            id,
            ...(codes.length ? { category: codes.map((code) => ({ coding: [{ system: 'http://any', code }] })) } : {}),
            ...(ref ? { medicationReference: { reference: ref } } : {}),
          }) as Resource,
      );
    fc.assert(
      fc.property(fc.array(resource, { maxLength: 12 }), fc.constantFrom(...TYPES), fc.subarray(CATEGORIES), (answer, searched, permitted) => {
        const { kept, withheld } = permittedResources(answer, searched, ACUTE, permitted);
        assert.equal(kept.length + withheld, answer.length);
        const primary = kept.filter((r) => r.resourceType !== 'Medication');
        for (const r of primary) {
          assert.equal(r.resourceType, searched);
          assert.ok(mayLeave(r, permitted), `${r.resourceType} ${JSON.stringify(r)} left with ${permitted}`);
        }
        const pointedTo = new Set(primary.map((r) => (r as { medicationReference?: { reference?: string } }).medicationReference?.reference));
        for (const m of kept.filter((r) => r.resourceType === 'Medication')) assert.ok(pointedTo.has(`Medication/${m.id}`));
        // Nothing permitted is lost: every resource of the searched type in a permitted category goes out.
        const expected = answer.filter((r) => r.resourceType === searched && mayLeave(r, permitted));
        assert.equal(primary.length, expected.length);
      }),
      { numRuns: 500 },
    );
  });
});
