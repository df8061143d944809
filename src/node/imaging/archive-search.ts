import type { Bundle, ImagingStudy, Resource } from '@medplum/fhirtypes';
import { badRequest } from '../../kit/fhir/outcome.ts';
import type { EhrConnector } from '../source/ehr-connector.ts';
import type { Query } from '../source/query-translation.ts';
import { permittedResources, type FilteredAnswer } from '../source/response-filter.ts';
import type { Permitted } from '../source/holder-api.ts';
import { holderSearchset } from '../source/searchset.ts';
import type { DicomWebArchive } from './archive-client.ts';
import { imagingStudyFromQido } from './qido-fhir.ts';

// The holder's ImagingStudy search, answered from the image archive: the EHR names the patient's
// own ids (found by BSN, as for every search), the archive files studies under that id
// (PatientID), QIDO-RS lists them and each becomes an ImagingStudy whose Endpoint is this node's
// WADO-RS gate. The same last gate as for EHR data decides what leaves.

const PATIENT_PARAMS = new Set(['patient:identifier', 'subject:identifier', '_count']);

type DateFilter = { prefix: 'eq' | 'ge' | 'le' | 'gt' | 'lt'; day: string };

function values(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(','));
}

/** `modality` (token) and `started` (date, day precision) filters; anything else is refused. */
export function archiveFilters(query: Query): { modalities: string[]; started: DateFilter[] } {
  for (const k of Object.keys(query)) {
    if (!PATIENT_PARAMS.has(k) && k !== 'modality' && k !== 'started') throw badRequest(`the image archive search does not support ${k}`);
  }
  const modalities = values(query.modality).map((m) => m.slice(m.indexOf('|') + 1));
  if (modalities.some((m) => !/^[A-Z]{1,16}$/.test(m))) throw badRequest('modality must be a DICOM modality code, e.g. CT');
  const started = values(query.started).map((raw): DateFilter => {
    const m = /^(eq|ge|le|gt|lt)?(\d{4}-\d{2}-\d{2})$/.exec(raw);
    if (!m || Number.isNaN(Date.parse(m[2]))) throw badRequest('started must be a date (YYYY-MM-DD) with an optional eq/ge/le/gt/lt prefix');
    return { prefix: (m[1] ?? 'eq') as DateFilter['prefix'], day: m[2] };
  });
  return { modalities, started };
}

export function matchesFilters(study: ImagingStudy, f: { modalities: string[]; started: DateFilter[] }): boolean {
  if (f.modalities.length && !study.modality?.some((m) => f.modalities.includes(m.code ?? ''))) return false;
  const day = study.started?.slice(0, 10);
  for (const d of f.started) {
    if (!day) return false;
    const ok = { eq: day === d.day, ge: day >= d.day, le: day <= d.day, gt: day > d.day, lt: day < d.day }[d.prefix];
    if (!ok) return false;
  }
  return true;
}

export async function searchArchive(
  archive: DicomWebArchive,
  connector: EhrConnector,
  fhirBase: string,
  query: Query,
  bsn: string,
  permitted: Permitted,
  signal?: AbortSignal,
): Promise<{ bundle: Bundle; patientRefs: string[]; withheld: number }> {
  const filters = archiveFilters(query);
  const patients = await connector.patientsByBsn(bsn);
  const wadoAddress = fhirBase.replace(/\/fhir$/, '/dicomweb');
  const found: Resource[] = [];
  let withheld = 0;
  for (const p of patients) {
    const studies = await archive.studiesOf(p.id!, signal);
    const mapped: ImagingStudy[] = [];
    for (const s of studies) {
      const uid = (s['0020000D']?.Value?.[0] as string | undefined) ?? '';
      const series = await archive.seriesOf(uid, signal);
      const study = imagingStudyFromQido(s, series, { patientReference: `Patient/${p.id}`, wadoAddress });
      if (study && matchesFilters(study, filters)) mapped.push(study);
    }
    const answer: FilteredAnswer = permittedResources(mapped, 'ImagingStudy', permitted.exchange, permitted.categories);
    found.push(...answer.kept);
    withheld += answer.withheld;
  }
  return { bundle: holderSearchset(fhirBase, 'ImagingStudy', found), patientRefs: patients.map((p) => `Patient/${p.id}`), withheld };
}
