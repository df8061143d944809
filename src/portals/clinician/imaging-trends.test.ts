import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { SOURCE_EXTENSION } from '../../node/integration/merge.ts';
import { imagingLines } from './imaging-model.ts';
import { labTrends, plotGeometry } from './lab-trends.ts';

const source = (ura: string, name: string) => [{ url: SOURCE_EXTENSION, valueReference: { identifier: { system: 'http://fhir.nl/fhir/NamingSystem/ura', value: ura }, display: name } }];
const bundle = (resources: Resource[]): Bundle => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });

describe('imaging lines', () => {
  it('joins a study with its radiology report of the same holder and UID', () => {
    const lines = imagingLines(
      bundle([
        {
          resourceType: 'ImagingStudy',
          status: 'available',
          subject: {},
          identifier: [{ system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' }],
          started: '2025-06-01T08:00:00Z',
          description: 'CT hersenen blanco',
          series: [{ uid: '1.2.3.4', modality: { code: 'CT' }, bodySite: { display: 'Head structure' } }],
          contained: [{ resourceType: 'Endpoint', status: 'active', connectionType: { code: 'dicom-wado-rs' }, payloadType: [], address: 'https://n/org/90000101/dicomweb' }],
          extension: source('90000101', 'Ziekenhuis Veluwe'),
        } as Resource,
        {
          resourceType: 'DiagnosticReport',
          status: 'final',
          code: {},
          category: [{ coding: [{ code: 'RAD' }] }],
          imagingStudy: [{ identifier: { system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' } }],
          conclusion: 'Geen bloeding',
          extension: source('90000101', 'Ziekenhuis Veluwe'),
        } as Resource,
        { resourceType: 'DiagnosticReport', status: 'final', code: {}, category: [{ coding: [{ code: 'RAD' }] }], imagingStudy: [{ identifier: { system: 'urn:dicom:uid', value: 'urn:oid:1.2.3' } }], conclusion: 'other holder', extension: source('90000102', 'Leiden') } as Resource,
      ]),
    );
    assert.equal(lines.length, 1);
    assert.equal(lines[0].report, 'Geen bloeding');
    assert.equal(lines[0].bodyPart, 'Head structure');
    assert.equal(lines[0].previewable, true);
  });

  it('offers no preview without a WADO-RS endpoint', () => {
    const [line] = imagingLines(bundle([{ resourceType: 'ImagingStudy', status: 'available', subject: {}, id: '1.2', extension: source('90000101', 'x') } as Resource]));
    assert.equal(line.previewable, false);
  });
});

describe('lab trends', () => {
  const lab = (code: string, value: number, date: string, interpretation = 'N') =>
    ({
      resourceType: 'Observation',
      status: 'final',
      category: [{ coding: [{ code: 'laboratory' }] }],
      code: { coding: [{ system: 'http://loinc.org', code }], text: code === '59261-8' ? 'HbA1c' : 'eGFR' },
      effectiveDateTime: date,
      valueQuantity: { value, unit: 'mmol/mol' },
      interpretation: [{ coding: [{ code: interpretation }] }],
      referenceRange: [{ low: { value: 20 }, high: { value: 42 } }],
    }) as Resource;

  it('groups per test, oldest first, with range and interpretation from the source', () => {
    const [hba1c] = labTrends(bundle([lab('59261-8', 56, '2025-05-18', 'H'), lab('59261-8', 48, '2024-05-18', 'H'), lab('62238-1', 78, '2025-05-18')]));
    assert.equal(hba1c.label, 'HbA1c');
    assert.deepEqual(hba1c.points.map((p) => p.value), [48, 56]);
    assert.equal(hba1c.low, 20);
    assert.equal(hba1c.points[1].interpretation, 'H');
  });

  it('plots every point inside the box (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 4000 })), { minLength: 1, maxLength: 20 }), (values) => {
        const resources = values.map(([v, d]) => lab('59261-8', v, new Date(Date.UTC(2020, 0, 1) + d * 86_400_000).toISOString()));
        const [t] = labTrends(bundle(resources));
        const g = plotGeometry(t);
        for (const [x, y] of g.points) assert.ok(x >= 0 && x <= 160 && y >= 0 && y <= 40, `${x},${y}`);
      }),
    );
  });
});
