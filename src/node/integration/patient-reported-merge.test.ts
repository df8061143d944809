import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { checkMeasurement, isPatientReported } from '../../kit/fhir/patient-reported.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { type HolderResult, mergeOverview } from './merge.ts';

// A blood pressure the citizen sent from her app and the same reading measured at the GP's (same
// code, same minute) stay two items: what she reported is never merged as if measured in care.

const when = '2026-12-01T08:30:00Z';
const bp = (sys: number, dia: number) => ({
  resourceType: 'Observation',
  code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }] },
  effectiveDateTime: when,
  component: [
    { code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] }, valueQuantity: { value: sys, unit: 'mm[Hg]' } },
    { code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] }, valueQuantity: { value: dia, unit: 'mm[Hg]' } },
  ],
});
const patient: Resource = { resourceType: 'Patient', id: 'p1', identifier: [{ system: SYSTEM.bsn, value: DE_GROOT.bsn }] };
const holder = (ura: string, resources: Resource[]): HolderResult => ({ ura, name: `Org ${ura}`, endpoint: `https://node/org/${ura}/fhir`, status: 'ok', reason: '', resources: [patient, ...resources], elapsedMs: 1 });

test('a patient-reported measurement is never merged with a care measurement', () => {
  const reported = { ...checkMeasurement(bp(140, 90)), id: 'r1', subject: { reference: 'Patient/p1' } } as Observation;
  const { meta: _m, ...measured } = { ...reported, id: 'm1' };
  const { bundle } = mergeOverview({
    bsn: DE_GROOT.bsn,
    holders: [holder('90000103', [reported]), holder('90000101', [{ ...measured, id: 'm1' } as Observation])],
  });
  const observations = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Observation => r?.resourceType === 'Observation');
  assert.equal(observations.length, 2);
  assert.equal(observations.filter((o) => isPatientReported(o)).length, 1, 'the tag survives the merge');
  // Two care measurements of the same reading still merge (the rule is unchanged for them).
  const { bundle: care } = mergeOverview({
    bsn: DE_GROOT.bsn,
    holders: [holder('90000103', [{ ...measured, id: 'a' } as Observation]), holder('90000101', [{ ...measured, id: 'b' } as Observation])],
  });
  assert.equal((care.entry ?? []).filter((e) => e.resource?.resourceType === 'Observation').length, 1);
});
