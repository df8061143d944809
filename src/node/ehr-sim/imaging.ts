import { createHash } from 'node:crypto';
import type { DiagnosticReport, ImagingStudy, Resource } from '@medplum/fhirtypes';
import { DE_GROOT, organizationByUra } from '../../sandbox/cast.ts';
import * as b from './build.ts';
import { Chart } from './build.ts';
import { daysBefore } from './dates.ts';
import { DICOM_MODALITY_SYSTEM, DICOM_UID_SYSTEM } from '../imaging/qido-fhir.ts';
import { TERMINOLOGY } from './systems.ts';

// Imaging in the cast (issue 19): Mr De Groot's CT head for his TIA at Ziekenhuis Veluwe (today)
// and an older abdominal X-ray at Ziekenhuis Leiden (the 2019 kidney-stone episode). Each study
// exists twice, as in a hospital: the pixels in the image archive (DICOM, made by
// src/node/imaging/dicom-files.ts from the same description) and the ImagingStudy plus the
// radiologist's DiagnosticReport in the EHR. UIDs and ids are stable hashes of the seed.


export interface CastStudy {
  ura: string;
  /** The EHR's own Patient id: the archive's PatientID (0010,0020). */
  patientId: string;
  person: { given: string; prefix?: string; family: string; birthDate: string; gender: string };
  studyUid: string;
  seriesUid: string;
  accession: string;
  /** ISO instant the study started. */
  started: string;
  modality: 'CT' | 'DX';
  /** DICOM Body Part Examined (0018,0015). */
  bodyPart: 'HEAD' | 'ABDOMEN';
  bodySite: { code: string; display: string };
  description: string;
  /** Number of images in the one series; each is one frame. */
  images: number;
  rows: number;
  columns: number;
  reason: { code: string; display: string; text: string };
  conclusion: string;
}

/** A DICOM UID under the UUID-derived root 2.25 (PS3.5 B.2): stable for the same parts. */
export function dicomUid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

const VELUWE = '90000101';
const LEIDEN = '90000102';

function chartFor(ura: string, seed: string): Chart {
  const org = organizationByUra(ura);
  if (!org) throw new Error(`cast organisation ${ura} missing`);
  return new Chart({ ura, name: org.name }, { ...DE_GROOT }, seed);
}

/** The studies one cast organisation's archive and EHR hold. */
export function castImagingStudies(ura: string, seed: string, reference: string): CastStudy[] {
  const person = { given: DE_GROOT.given, prefix: DE_GROOT.prefix, family: DE_GROOT.family, birthDate: DE_GROOT.birthDate, gender: DE_GROOT.gender };
  const base = (key: string) => ({
    ura,
    patientId: chartFor(ura, seed).patientId,
    person,
    studyUid: dicomUid(seed, ura, key, 'study'),
    seriesUid: dicomUid(seed, ura, key, 'series'),
    accession: `ACC${createHash('sha256').update(`${seed}${ura}${key}`).digest('hex').slice(0, 8).toUpperCase()}`,
  });
  if (ura === VELUWE) {
    return [
      {
        ...base('ct-head-tia'),
        started: daysBefore(reference, 0, 8),
        modality: 'CT',
        bodyPart: 'HEAD',
        bodySite: { code: '69536005', display: 'Head structure' },
        description: 'CT hersenen blanco',
        images: 24,
        rows: 128,
        columns: 128,
        reason: { code: '266257000', display: 'Transient ischemic attack', text: 'TIA' },
        conclusion: 'CT hersenen zonder contrast: geen intracraniële bloeding, geen territoriaal infarct, geen ruimte-innemend proces. Beeld past bij een TIA.',
      },
    ];
  }
  if (ura === LEIDEN) {
    return [
      {
        ...base('xr-abdomen-2019'),
        // The kidney-stone episode of de-groot.ts (2179 days before the reference date).
        started: daysBefore(reference, 2179, 9),
        modality: 'DX',
        bodyPart: 'ABDOMEN',
        bodySite: { code: '113345001', display: 'Abdominal structure' },
        description: 'X-buikoverzicht',
        images: 1,
        rows: 256,
        columns: 256,
        reason: { code: '95570007', display: 'Kidney stone', text: 'Niersteen' },
        conclusion: 'Buikoverzicht: kalkhaltige densiteit van 6 mm projecterend op de rechter ureter, passend bij een ureterolithiasis.',
      },
    ];
  }
  return [];
}

/** The EHR side of the studies: ImagingStudy and the radiology DiagnosticReport (and the Patient at Veluwe, who knew him not before). */
export function imagingEhrResources(ura: string, seed: string, reference: string, options: { withPatient: boolean }): Resource[] {
  const studies = castImagingStudies(ura, seed, reference);
  if (studies.length === 0) return [];
  const chart = chartFor(ura, seed);
  if (options.withPatient) b.patient(chart, studies[0].started);
  for (const s of studies) {
    const studyId = chart.nextId('img');
    const reportId = chart.nextId('rad');
    const ready = new Date(Date.parse(s.started) + 2 * 3_600_000).toISOString().replace('.000Z', 'Z');
    const study: ImagingStudy = {
      resourceType: 'ImagingStudy',
      id: studyId,
      meta: { versionId: '1', lastUpdated: s.started },
      identifier: [
        chart.identifier('ImagingStudy', studyId),
        { system: DICOM_UID_SYSTEM, value: `urn:oid:${s.studyUid}` },
        { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: s.accession },
      ],
      status: 'available',
      modality: [{ system: DICOM_MODALITY_SYSTEM, code: s.modality }],
      subject: chart.patientRef,
      started: s.started,
      numberOfSeries: 1,
      numberOfInstances: s.images,
      description: s.description,
      reasonCode: [{ coding: [{ system: TERMINOLOGY.snomed, code: s.reason.code, display: s.reason.display }], text: s.reason.text }],
      series: [
        {
          uid: s.seriesUid,
          number: 1,
          modality: { system: DICOM_MODALITY_SYSTEM, code: s.modality },
          numberOfInstances: s.images,
          bodySite: { system: TERMINOLOGY.snomed, code: s.bodySite.code, display: s.bodySite.display },
        },
      ],
    };
    chart.add(study);
    chart.add<DiagnosticReport>({
      resourceType: 'DiagnosticReport',
      id: reportId,
      meta: { versionId: '1', lastUpdated: ready },
      identifier: [chart.identifier('DiagnosticReport', reportId)],
      status: 'final',
      category: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' }] },
      ],
      code: { coding: [{ system: TERMINOLOGY.loinc, code: '18748-4', display: 'Diagnostic imaging study' }], text: s.description },
      subject: chart.patientRef,
      effectiveDateTime: s.started,
      issued: ready,
      imagingStudy: [{ reference: `ImagingStudy/${studyId}`, identifier: { system: DICOM_UID_SYSTEM, value: `urn:oid:${s.studyUid}` } }],
      conclusion: s.conclusion,
    });
  }
  return chart.resources;
}
