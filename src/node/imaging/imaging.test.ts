import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImagingStudy } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { archiveFilters, matchesFilters } from './archive-search.ts';
import { dicomDateTime, type DicomJson, integerValue, isDicomUid, stringValue } from './dicom-json.ts';
import { imagingStudyFromQido, studyUidOf } from './qido-fhir.ts';
import { isRetrievePath } from './wado-gate.ts';

const uidArb = fc
  .array(fc.oneof(fc.constant('0'), fc.integer({ min: 1, max: 99999 }).map(String)), { minLength: 2, maxLength: 8 })
  .map((parts) => parts.join('.'));

const study = (uid: unknown, extra: DicomJson = {}): DicomJson => ({
  '0020000D': { vr: 'UI', Value: [uid] },
  '00080020': { vr: 'DA', Value: ['20250601'] },
  '00080030': { vr: 'TM', Value: ['081500'] },
  '00080061': { vr: 'CS', Value: ['CT'] },
  '00201208': { vr: 'IS', Value: [24] },
  ...extra,
});

describe('DICOM JSON readers', () => {
  it('accepts UIDs and refuses anything else', () => {
    fc.assert(fc.property(uidArb, (uid) => assert.equal(isDicomUid(uid), uid.length <= 64)));
    for (const bad of ['', '1..2', '01.2', '1.2.', 'a.b', '1.2/3', `1.${'2'.repeat(70)}`, '1.2\n']) assert.equal(isDicomUid(bad), false, bad);
  });

  it('reads dates and times as FHIR dateTime, never an impossible date', () => {
    assert.equal(dicomDateTime('20250601', '081500'), '2025-06-01T08:15:00Z');
    assert.equal(dicomDateTime('20250601', '0815', '+0200'), '2025-06-01T08:15:00+02:00');
    assert.equal(dicomDateTime('20250601'), '2025-06-01');
    assert.equal(dicomDateTime('20250231', '081500'), undefined);
    assert.equal(dicomDateTime('2025-06-01'), undefined);
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 14 }), (da, tm) => {
        const out = dicomDateTime(da, tm);
        if (out !== undefined) assert.ok(!Number.isNaN(Date.parse(out.length === 10 ? `${out}T00:00:00Z` : out)), out);
      }),
    );
  });

  it('reads values defensively whatever the archive sends (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = { '00100020': { vr: 'LO', Value: [value] } } as DicomJson;
        const s = stringValue(json, '00100020');
        assert.ok(s === undefined || typeof s === 'string');
        const n = integerValue(json, '00100020');
        assert.ok(n === undefined || (Number.isInteger(n) && n >= 0));
      }),
    );
  });
});

describe('QIDO-RS to ImagingStudy', () => {
  const ctx = { patientReference: 'Patient/p1', wadoAddress: 'https://node.example/org/90000101/dicomweb' };

  it('maps a study and its series, with a dicom-wado-rs Endpoint on the node', () => {
    const s = imagingStudyFromQido(study('1.2.3'), [{ '0020000E': { Value: ['1.2.3.4'] }, '00080060': { Value: ['CT'] }, '00180015': { Value: ['HEAD'] }, '00201209': { Value: [24] } }], ctx)!;
    assert.equal(s.id, '1.2.3');
    assert.equal(studyUidOf(s), '1.2.3');
    assert.equal(s.started, '2025-06-01T08:15:00Z');
    assert.equal(s.numberOfInstances, 24);
    assert.equal(s.series?.[0].bodySite?.code, '69536005');
    assert.deepEqual(s.endpoint, [{ reference: '#wado-rs' }]);
    const endpoint = s.contained?.[0] as { connectionType: { code: string }; address: string };
    assert.equal(endpoint.connectionType.code, 'dicom-wado-rs');
    assert.equal(endpoint.address, ctx.wadoAddress);
  });

  it('skips a study whose UID is not a UID, and series likewise (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (uid, seriesUid) => {
        const mapped = imagingStudyFromQido(study(uid), [{ '0020000E': { Value: [seriesUid] }, '00080060': { Value: ['CT'] } }], ctx);
        // DICOM pads values with spaces; a number is read as its digits.
        const read = stringValue(study(uid), '0020000D');
        if (read === undefined || !isDicomUid(read)) assert.equal(mapped, undefined);
        else {
          assert.equal(mapped?.id, read);
          for (const s of mapped?.series ?? []) assert.ok(isDicomUid(s.uid));
          assert.ok(!JSON.stringify(mapped).includes('127.0.0.1'));
        }
      }),
    );
  });
});

describe('archive search filters', () => {
  const s = { resourceType: 'ImagingStudy', status: 'available', subject: {}, started: '2025-06-01T08:00:00Z', modality: [{ code: 'CT' }] } as ImagingStudy;

  it('filters by modality and start date, and refuses other parameters', () => {
    assert.equal(matchesFilters(s, archiveFilters({ modality: 'CT' })), true);
    assert.equal(matchesFilters(s, archiveFilters({ modality: 'http://dicom.nema.org/resources/ontology/DCM|MR' })), false);
    assert.equal(matchesFilters(s, archiveFilters({ started: 'ge2025-01-01' })), true);
    assert.equal(matchesFilters(s, archiveFilters({ started: 'lt2025-06-01' })), false);
    assert.throws(() => archiveFilters({ _include: '*' }), /does not support/);
    assert.throws(() => archiveFilters({ started: '1 june' }), /started must be a date/);
    assert.throws(() => archiveFilters({ modality: "CT' OR 1=1" }), /modality/);
  });
});

describe('WADO-RS gate paths', () => {
  it('passes retrieves of the study only', () => {
    for (const ok of ['', '/rendered', '/metadata', '/series/1.2', '/series/1.2/rendered', '/series/1.2/instances/1.2.3/frames/1,2,3', '/series/1.2/instances/1.2.3/frames/4/rendered']) {
      assert.equal(isRetrievePath(ok), true, ok);
    }
    for (const bad of ['/..', '/series/../../system', '/series/1.2/instances/x', '/series/01.2', '/studies', '/series/1.2/instances/1.2/frames/0', '/bulk/1', '//rendered']) {
      assert.equal(isRetrievePath(bad), false, bad);
    }
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (p) => {
      if (isRetrievePath(p)) assert.ok(!p.includes('..') && !p.includes('?') && !p.includes('%'));
    }));
  });
});
