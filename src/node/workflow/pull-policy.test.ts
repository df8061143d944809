import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { decidePull, type PullInput } from './pull-policy.ts';
import type { WorkflowTaskRecord } from './task-resources.ts';

const exchange = defaultAgreements().exchanges.find((e) => e.code === 'eoverdracht')!;
const task: WorkflowTaskRecord = {
  id: 't1',
  tenantUra: '90000101',
  tenantName: 'Ziekenhuis Veluwe',
  exchange: 'eoverdracht',
  ownerUra: '90000105',
  patientId: 'p1',
  status: 'accepted',
  inputs: ['Composition/c1', 'Condition/k1'],
  outputs: [],
  requester: {},
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
const input = (over: Partial<PullInput> = {}, req: Partial<PullInput['requester']> = {}): PullInput => ({
  task,
  basis: 't1',
  exchange,
  holderUra: '90000101',
  requester: { ura: '90000105', type: 'T2', status: 'admitted', qualifications: ['eoverdracht'], scope: 'eoverdracht', roleCode: '30.015', deziNumber: '900001051', ...req },
  reference: 'Composition/c1',
  now: new Date('2026-06-01'),
  ...over,
});

describe('pull policy under a workflow Task', () => {
  it('allows exactly what the Task names, and the patient, to the owner while active', () => {
    for (const reference of ['Composition/c1', 'Condition/k1', 'Patient/p1', 'Task/t1']) assert.equal(decidePull(input({ reference })).allow, true, reference);
    assert.equal(decidePull(input()).basis, 'treatment-relationship');
  });

  it('refuses anything else, with the reason', () => {
    const cases: Array<[PullInput, RegExp]> = [
      [input({ reference: 'Condition/k2' }), /not named/],
      [input({ reference: 'Patient/p2' }), /not named/],
      [input({ task: { ...task, status: 'requested' } }), /requested, not active/],
      [input({ task: { ...task, status: 'completed' } }), /completed, not active/],
      [input({ task: { ...task, status: 'cancelled' } }), /cancelled, not active/],
      [input({}, { ura: '90000104', type: 'J8' }), /addressed to 90000105/],
      [input({}, { scope: 'acute-zorg' }), /scope lacks/],
      [input({}, { roleCode: '01.045' }), /role 01.045/],
      [input({}, { qualifications: [] }), /no valid qualification/],
      [input({}, { status: 'suspended' }), /not an admitted/],
      [input({}, { deziNumber: undefined }), /no professional/],
      [input({ task: null }), /no such workflow Task/],
      [input({ holderUra: '90000102' }), /no such workflow Task/],
      [input({ task: { ...task, inputs: ['Encounter/e1'] }, reference: 'Encounter/e1' }), /Encounter is not pulled/],
      [input({ basis: undefined }), /names no workflow Task/],
      [input({ basis: undefined, reference: 'Task/t1' }), /names no workflow Task/],
      [input({ basis: 't2' }), /granted for workflow Task t2, not for t1/],
      [input({ basis: 't2', reference: 'Task/t1' }), /granted for workflow Task t2/],
    ];
    for (const [i, why] of cases) {
      const d = decidePull(i);
      assert.equal(d.allow, false, JSON.stringify(i.reference));
      assert.match(d.reasons.map((r) => r.description).join('; '), why);
    }
  });

  it('lets the owner read the Task itself before accepting, never its data', () => {
    const requested = { ...task, status: 'requested' as const };
    assert.equal(decidePull(input({ task: requested, reference: 'Task/t1' })).allow, true);
    assert.equal(decidePull(input({ task: requested, reference: 'Composition/c1' })).allow, false);
  });
});
