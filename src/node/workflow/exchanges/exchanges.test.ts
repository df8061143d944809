import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { deGrootDischarge, deGrootPrescription } from '../../ehr-sim/workflow-stories.ts';
import { eoverdracht } from './eoverdracht.ts';
import { dispenseFor, medicatieoverdracht } from './medicatieoverdracht.ts';
import { isBuildingBlock, treatmentOf } from './mp9.ts';

// What each notified-pull exchange checks of what the sender names, on the sandbox stories.

const byRefs = (all: Resource[], refs: string[]) => refs.map((r) => all.find((x) => `${x.resourceType}/${x.id}` === r)!);

describe('eOverdracht inputs', () => {
  const story = deGrootDischarge('2026-06-01T09:00:00Z');
  it('the transfer Composition with every source its sections name is a handover', () => {
    assert.deepEqual(eoverdracht.checkInputs(byRefs(story.resources, story.inputs)), []);
    assert.equal(eoverdracht.describe(byRefs(story.resources, story.inputs)), story.composition.title);
  });
  it('a Composition without one of its sources, or without a Composition, is not', () => {
    assert.match(eoverdracht.checkInputs(byRefs(story.resources, story.inputs.slice(0, -1))).join(), /does not name/);
    assert.match(eoverdracht.checkInputs(byRefs(story.resources, story.inputs.slice(1))).join(), /exactly one Composition/);
  });
});

describe('medicatieoverdracht inputs and the dispense', () => {
  const story = deGrootPrescription('2026-06-01T09:00:00Z');
  it('an agreement and a dispense request of one treatment are a prescription', () => {
    assert.deepEqual(medicatieoverdracht.checkInputs(story.resources), []);
    assert.match(medicatieoverdracht.describe(story.resources), /CLOPIDOGREL/);
  });
  it('one without the other, or of two treatments, is not', () => {
    assert.match(medicatieoverdracht.checkInputs([story.agreement]).join(), /dispense request/);
    const other = deGrootPrescription('2026-06-01T09:00:00Z', { treatment: 'other' });
    assert.match(medicatieoverdracht.checkInputs([story.agreement, other.dispenseRequest]).join(), /same treatment identifier/);
  });
  it('the dispense carries the treatment, the drug and the prescriber\'s request', () => {
    const d = dispenseFor(story.dispenseRequest, 'https://gp.example/org/90000103/fhir/MedicationRequest/vv', { reference: 'Patient/x' }, '2026-06-02T10:00:00Z');
    assert.equal(treatmentOf(d), treatmentOf(story.agreement));
    assert.ok(isBuildingBlock(d, 'dispense'));
    assert.equal(d.authorizingPrescription?.[0]?.reference, 'https://gp.example/org/90000103/fhir/MedicationRequest/vv');
    assert.equal(d.daysSupply?.value, 30);
    assert.match(JSON.stringify(d.contained), /B01AC04/);
  });
});
