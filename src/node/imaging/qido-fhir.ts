import type { Coding, Endpoint, ImagingStudy, ImagingStudySeries } from '@medplum/fhirtypes';
import { type DicomJson, dicomDateTime, integerValue, isDicomUid, stringValue, stringValues, TAG } from './dicom-json.ts';

// QIDO-RS answers (DICOM JSON) as FHIR R4 ImagingStudy, each with a contained Endpoint of type
// dicom-wado-rs at the holder's node: the images are fetched through the node's enforcement
// point, never from the archive itself. A study whose UID is not a UID is skipped.

export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
export const DICOM_MODALITY_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
export const ENDPOINT_CONNECTION_TYPE = 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type';
const SNOMED = 'http://snomed.info/sct';

/** DICOM Body Part Examined (PS3.16 Annex L) to SNOMED CT, for the parts the sandbox uses and a few more. */
const BODY_PART: Record<string, { code: string; display: string }> = {
  HEAD: { code: '69536005', display: 'Head structure' },
  BRAIN: { code: '12738006', display: 'Brain structure' },
  CHEST: { code: '51185008', display: 'Thoracic structure' },
  ABDOMEN: { code: '113345001', display: 'Abdominal structure' },
  PELVIS: { code: '12921003', display: 'Pelvic structure' },
  KNEE: { code: '72696002', display: 'Knee region structure' },
};

export function bodySiteOf(bodyPart: string | undefined): Coding | undefined {
  if (!bodyPart) return undefined;
  const known = BODY_PART[bodyPart.toUpperCase()];
  return known ? { system: SNOMED, code: known.code, display: known.display } : { display: bodyPart };
}

/** The contained Endpoint every mapped study points to: the holder's WADO-RS root on its node. */
export function wadoEndpoint(address: string): Endpoint {
  return {
    resourceType: 'Endpoint',
    id: 'wado-rs',
    status: 'active',
    connectionType: { system: ENDPOINT_CONNECTION_TYPE, code: 'dicom-wado-rs' },
    payloadType: [{ text: 'DICOM' }],
    payloadMimeType: ['application/dicom', 'image/png', 'image/jpeg'],
    address,
  };
}

function modalityCoding(code: string): Coding {
  return { system: DICOM_MODALITY_SYSTEM, code };
}

export interface MappingContext {
  /** The EHR's Patient reference the archive's PatientID stands for, e.g. Patient/abc. */
  patientReference: string;
  /** WADO-RS root at the holder's node, e.g. https://node/org/<ura>/dicomweb. */
  wadoAddress: string;
}

/** One QIDO study (and its series, when asked) as an ImagingStudy; undefined when the study UID is invalid. */
export function imagingStudyFromQido(study: DicomJson, series: DicomJson[], ctx: MappingContext): ImagingStudy | undefined {
  const uid = stringValue(study, TAG.studyUid);
  if (!uid || !isDicomUid(uid)) return undefined;
  const accession = stringValue(study, TAG.accession);
  const mappedSeries: ImagingStudySeries[] = [];
  for (const s of series) {
    const seriesUid = stringValue(s, TAG.seriesUid);
    const modality = stringValue(s, TAG.modality);
    if (!seriesUid || !isDicomUid(seriesUid) || !modality) continue;
    const number = integerValue(s, TAG.seriesNumber);
    const count = integerValue(s, TAG.instancesInSeries);
    const bodySite = bodySiteOf(stringValue(s, TAG.bodyPart));
    const description = stringValue(s, TAG.seriesDescription);
    mappedSeries.push({
      uid: seriesUid,
      ...(number !== undefined ? { number } : {}),
      modality: modalityCoding(modality),
      ...(description ? { description } : {}),
      ...(count !== undefined ? { numberOfInstances: count } : {}),
      ...(bodySite ? { bodySite } : {}),
    });
  }
  const modalities = [...new Set([...stringValues(study, TAG.modalitiesInStudy), ...mappedSeries.map((s) => s.modality.code as string)])];
  const started = dicomDateTime(stringValue(study, TAG.studyDate), stringValue(study, TAG.studyTime), stringValue(study, TAG.timezoneOffset));
  const numberOfSeries = integerValue(study, TAG.seriesInStudy);
  const numberOfInstances = integerValue(study, TAG.instancesInStudy);
  const description = stringValue(study, TAG.studyDescription);
  return {
    resourceType: 'ImagingStudy',
    id: uid,
    contained: [wadoEndpoint(ctx.wadoAddress)],
    identifier: [
      { system: DICOM_UID_SYSTEM, value: `urn:oid:${uid}` },
      ...(accession ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: accession }] : []),
    ],
    status: 'available',
    ...(modalities.length ? { modality: modalities.map(modalityCoding) } : {}),
    subject: { reference: ctx.patientReference },
    ...(started ? { started } : {}),
    endpoint: [{ reference: '#wado-rs' }],
    ...(numberOfSeries !== undefined ? { numberOfSeries } : {}),
    ...(numberOfInstances !== undefined ? { numberOfInstances } : {}),
    ...(description ? { description } : {}),
    ...(mappedSeries.length ? { series: mappedSeries } : {}),
  };
}

/** The study UID of an ImagingStudy (its urn:dicom:uid identifier, else its id when that is a UID). */
export function studyUidOf(study: Pick<ImagingStudy, 'identifier' | 'id'>): string | undefined {
  const v = study.identifier?.find((i) => i.system === DICOM_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
  if (v && isDicomUid(v)) return v;
  return study.id && isDicomUid(study.id) ? study.id : undefined;
}
