import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Condition, MedicationStatement, Patient } from '@medplum/fhirtypes';
import { generatePopulation } from './population.ts';
import { generateResearchPopulation, TIA } from './research-population.ts';

// The research population: deterministic from the seed, a TIA (mostly with a statin) for some
// patients of 45 and over, and otherwise the scale generator's output unchanged.

const orgs = [
  { ura: '80000001', name: 'Huisarts', type: 'Z3' },
  { ura: '80000002', name: 'Apotheek', type: 'J8' },
];

describe('research population', () => {
  it('is the same for the same seed and different for another', () => {
    const a = JSON.stringify([...generateResearchPopulation({ patients: 80, organizations: orgs, seed: 's1' })]);
    assert.equal(JSON.stringify([...generateResearchPopulation({ patients: 80, organizations: orgs, seed: 's1' })]), a);
    assert.notEqual(JSON.stringify([...generateResearchPopulation({ patients: 80, organizations: orgs, seed: 's2' })]), a);
  });

  it('gives some patients of 45+ a TIA, most with a statin since, recorded once and referencing their own Patient', () => {
    const charts = [...generateResearchPopulation({ patients: 500, organizations: orgs, seed: 'tia', reference: '2026-12-01T09:00:00Z' })];
    let tia = 0;
    let statin = 0;
    const withTia = new Set<string>();
    for (const c of charts) {
      const patient = c.resources.find((r): r is Patient => r.resourceType === 'Patient')!;
      const conditions = c.resources.filter((r): r is Condition => r.resourceType === 'Condition' && !!r.code?.coding?.some((x) => x.code === TIA.code));
      if (!conditions.length) continue;
      assert.ok(!withTia.has(c.bsn), 'one holder records it');
      withTia.add(c.bsn);
      tia++;
      assert.ok(Number(patient.birthDate?.slice(0, 4)) <= 2026 - 45);
      for (const r of conditions) assert.equal(r.subject?.reference, `Patient/${patient.id}`);
      const ids = c.resources.map((r) => `${r.resourceType}/${r.id}`);
      assert.equal(new Set(ids).size, ids.length, 'no id collides with the chart\'s own');
      if (c.resources.some((r) => r.resourceType === 'MedicationStatement' && JSON.stringify((r as MedicationStatement).contained).includes('"C10AA'))) statin++;
    }
    assert.ok(tia >= 8 && tia <= 45, `about 8% of the 45+ (${tia})`);
    assert.ok(statin >= tia / 2, `most on a statin (${statin}/${tia})`);
  });

  it('leaves every other chart byte-identical to the scale generator', () => {
    const plain = [...generatePopulation({ patients: 120, organizations: orgs, seed: 'same' })];
    const research = [...generateResearchPopulation({ patients: 120, organizations: orgs, seed: 'same' })];
    assert.equal(research.length, plain.length);
    for (let i = 0; i < plain.length; i++) assert.deepEqual(research[i].resources.slice(0, plain[i].resources.length), plain[i].resources);
  });
});
