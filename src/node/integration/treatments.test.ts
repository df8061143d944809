import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MedicationDispense, MedicationRequest, MedicationStatement, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { deGrootPrescription, stopAgreement } from '../ehr-sim/workflow-stories.ts';
import { dispenseFor } from '../workflow/exchanges/medicatieoverdracht.ts';
import { type HolderResult, mergeOverview } from './merge.ts';

// The overview merges medication of one drug into one item; with MP9 agreements in it, the
// prescriber's newest agreement of the treatment stands for it, so a stop supersedes.

const patient = (id: string) => ({ resourceType: 'Patient' as const, id, identifier: [{ system: SYSTEM.bsn, value: DE_GROOT.bsn }] });
const holder = (ura: string, resources: Resource[]): HolderResult => ({ ura, name: ura, endpoint: '', status: 'ok', resources: [patient('p'), ...resources], elapsedMs: 1 });
const onPatient = <T extends Resource>(r: T): T => ({ ...r, subject: { reference: 'Patient/p' } });

function medicationItems(holders: HolderResult[]) {
  const { bundle } = mergeOverview({ bsn: DE_GROOT.bsn, holders });
  return (bundle.entry ?? []).map((e) => e.resource!).filter((r) => r.resourceType.startsWith('Medication') && /B01AC04/.test(JSON.stringify(r)));
}

describe('medication by treatment in the overview', () => {
  const story = deGrootPrescription('2026-05-01T10:00:00Z');
  const dispense = onPatient(dispenseFor(story.dispenseRequest, 'https://gp.example/org/90000103/fhir/MedicationRequest/x', { reference: 'Patient/p' }, '2026-05-02T10:00:00Z'));
  const statement: MedicationStatement = onPatient({
    resourceType: 'MedicationStatement',
    id: 'st',
    status: 'active',
    contained: story.agreement.contained,
    medicationReference: { reference: '#med' },
    subject: { reference: 'Patient/p' },
    effectivePeriod: { start: '2026-04-28' },
  });

  it('the agreement, the dispense and another record of the same drug are one item, the agreement standing for it', () => {
    const items = medicationItems([holder('gp', [onPatient(story.agreement), onPatient(story.dispenseRequest)]), holder('pharmacy', [dispense as MedicationDispense]), holder('hospital', [statement])]);
    assert.equal(items.length, 1);
    assert.equal(items[0].resourceType, 'MedicationRequest');
    assert.equal((items[0] as MedicationRequest).status, 'active');
    assert.match(JSON.stringify(items[0]), /Medicatieafspraak/);
  });

  it('a stop of the agreement by the prescriber supersedes it, whichever holder answers first', () => {
    const stop = onPatient(stopAgreement(story.agreement, '2026-05-20T09:00:00Z', 'ma-stop'));
    for (const order of [
      [holder('gp', [onPatient(story.agreement), stop]), holder('hospital', [statement])],
      [holder('hospital', [statement]), holder('gp', [stop, onPatient(story.agreement)])],
    ]) {
      const items = medicationItems(order);
      assert.equal(items.length, 1);
      assert.equal((items[0] as MedicationRequest).status, 'stopped');
    }
  });
});
