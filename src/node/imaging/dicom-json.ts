// Readers for the DICOM JSON model (PS3.18 F.2) that QIDO-RS answers in: attributes keyed by
// eight hex digits, each with a VR and a Value array. Everything from the archive is checked
// here before it is used: a UID must be a UID, a date a date.

export type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

const UID_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** A DICOM UID (PS3.5 9.1): digits and dots, no leading zeros, at most 64 characters. */
export function isDicomUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && UID_RE.test(value);
}

function attribute(json: DicomJson, tag: string): unknown[] | undefined {
  const a = json[tag.toUpperCase()] ?? json[tag.toLowerCase()];
  return Array.isArray(a?.Value) ? a.Value : undefined;
}

/** The first value of a text-like attribute (CS, LO, SH, UI, DA, TM, DS, IS). */
export function stringValue(json: DicomJson, tag: string): string | undefined {
  const v = attribute(json, tag)?.[0];
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** All values of a multi-valued text attribute (e.g. Modalities in Study, 0008,0061). */
export function stringValues(json: DicomJson, tag: string): string[] {
  return (attribute(json, tag) ?? []).filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

/** A non-negative integer attribute (IS or US), or undefined. */
export function integerValue(json: DicomJson, tag: string): number | undefined {
  const raw = attribute(json, tag)?.[0];
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The alphabetic form of a PN attribute. */
export function personNameValue(json: DicomJson, tag: string): string | undefined {
  const v = attribute(json, tag)?.[0] as { Alphabetic?: unknown } | undefined;
  return typeof v?.Alphabetic === 'string' ? v.Alphabetic : undefined;
}

/**
 * A FHIR dateTime from DA (YYYYMMDD) and optional TM (HHMMSS.FFFFFF) and timezone offset
 * (0008,0201, ±HHMM). Without an offset the archive's time is taken as UTC (the sandbox writes
 * UTC). Undefined when the date is not a real calendar date.
 */
export function dicomDateTime(da: string | undefined, tm?: string, offset?: string): string | undefined {
  const d = da ? /^(\d{4})(\d{2})(\d{2})$/.exec(da) : null;
  if (!d) return undefined;
  const [, y, mo, day] = d;
  const check = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(day)));
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(day)) return undefined;
  const date = `${y}-${mo}-${day}`;
  const t = tm ? /^(\d{2})(\d{2})?(\d{2})?(?:\.\d{1,6})?$/.exec(tm) : null;
  if (!t || Number(t[1]) > 23 || Number(t[2] ?? 0) > 59 || Number(t[3] ?? 0) > 59) return date;
  const o = offset ? /^([+-])(\d{2})(\d{2})$/.exec(offset) : null;
  const zone = o && Number(o[2]) <= 14 && Number(o[3]) <= 59 ? `${o[1]}${o[2]}:${o[3]}` : 'Z';
  return `${date}T${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}${zone}`;
}

export const TAG = {
  studyDate: '00080020',
  studyTime: '00080030',
  accession: '00080050',
  modality: '00080060',
  modalitiesInStudy: '00080061',
  timezoneOffset: '00080201',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  patientId: '00100020',
  bodyPart: '00180015',
  studyUid: '0020000D',
  seriesUid: '0020000E',
  seriesNumber: '00200011',
  seriesInStudy: '00201206',
  instancesInStudy: '00201208',
  instancesInSeries: '00201209',
} as const;
