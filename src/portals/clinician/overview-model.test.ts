import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle } from '@medplum/fhirtypes';
import { overviewModel } from './overview-model.ts';

describe('overviewModel details', () => {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    entry: [
      {
        resource: {
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'Bloeddruk' },
          category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
          effectiveDateTime: '2024-05-01',
          component: [
            { code: { text: 'systolisch' }, valueQuantity: { value: 135, unit: 'mm[Hg]' } },
            { code: { text: 'diastolisch' }, valueQuantity: { value: 85, unit: 'mm[Hg]' } },
          ],
        },
      },
    ],
  };
  const items = (wording?: (c: string) => string | undefined) => overviewModel(bundle, wording).groups.flatMap((g) => g.items);

  it("shows a panel's component values and words the status in the reader's language", () => {
    assert.deepEqual(items((c) => (c === 'final' ? 'definitief' : undefined))[0].details, ['135 mmHg / 85 mmHg', 'definitief']);
  });

  it('keeps the source status when there is no wording for it', () => {
    assert.deepEqual(items()[0].details, ['135 mmHg / 85 mmHg', 'final']);
  });
});
