import type { Bundle, DiagnosticReport, Endpoint, ImagingStudy, Resource } from '@medplum/fhirtypes';
import { SOURCE_EXTENSION } from '../../node/contract.ts';

// The imaging part of a merged overview as the viewer shows it: one line per study with its
// date, modality, body part, source and the radiologist's conclusion (a radiology
// DiagnosticReport of the same holder naming the same Study Instance UID), and what a preview
// needs: the holder, the study and its first series. Only studies whose Endpoint is a WADO-RS
// root get a preview.

export interface ImagingLine {
  studyUid: string;
  seriesUid?: string;
  date: string;
  modality: string;
  bodyPart: string;
  description: string;
  source: string;
  sourceUra: string;
  report?: string;
  previewable: boolean;
}

const DICOM_UID_SYSTEM = 'urn:dicom:uid';

function uidOf(identifiers: Array<{ system?: string; value?: string }> | undefined): string | undefined {
  return identifiers?.find((i) => i.system === DICOM_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
}

function sourceOf(r: Resource): { name: string; ura: string } {
  const ext = ((r as { extension?: Array<{ url: string; valueReference?: { display?: string; identifier?: { value?: string } } }> }).extension ?? []).find(
    (e) => e.url === SOURCE_EXTENSION,
  );
  return { name: ext?.valueReference?.display ?? '', ura: ext?.valueReference?.identifier?.value ?? '' };
}

export function imagingLines(bundle: Bundle): ImagingLine[] {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => r !== undefined);
  const reports = resources.filter(
    (r): r is DiagnosticReport =>
      r.resourceType === 'DiagnosticReport' && (r.category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === 'RAD' || x.code === 'LP29684-5')),
  );
  const lines: ImagingLine[] = [];
  for (const study of resources.filter((r): r is ImagingStudy => r.resourceType === 'ImagingStudy')) {
    const uid = uidOf(study.identifier) ?? study.id ?? '';
    const source = sourceOf(study);
    const report = reports.find((d) => sourceOf(d).ura === source.ura && (d.imagingStudy ?? []).some((ref) => uidOf(ref.identifier ? [ref.identifier] : []) === uid));
    const endpoint = (study.contained ?? []).find((c): c is Endpoint => c.resourceType === 'Endpoint' && c.connectionType?.code === 'dicom-wado-rs');
    const series = study.series?.[0];
    lines.push({
      studyUid: uid,
      seriesUid: series?.uid,
      date: study.started ?? '',
      modality: [...new Set([...(study.modality ?? []).map((m) => m.code ?? ''), ...(study.series ?? []).map((s) => s.modality.code ?? '')])].filter(Boolean).join(', '),
      bodyPart: [...new Set((study.series ?? []).map((s) => s.bodySite?.display ?? s.bodySite?.code ?? '').filter(Boolean))].join(', '),
      description: study.description ?? '',
      source: source.name,
      sourceUra: source.ura,
      report: report?.conclusion ?? report?.code?.text,
      previewable: endpoint !== undefined && /^[0-9.]+$/.test(uid) && /^\d{8}$/.test(source.ura),
    });
  }
  return lines.sort((a, b) => b.date.localeCompare(a.date));
}
