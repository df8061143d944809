import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { readBounded } from '../../kit/http/bounded-body.ts';
import { EhrError } from '../source/ehr-connector.ts';
import { type DicomJson, isDicomUid, stringValue, TAG } from './dicom-json.ts';

// The node's connection to an organisation's image archive (PACS) over DICOMweb: QIDO-RS to
// find a patient's studies, WADO-RS to fetch them. Only the node holds the credentials; the
// archive listens on the hospital's own network and is never addressed by a requester. An
// archive that does not answer in time is an EhrError, so that one search fails on its own
// entry while the rest of an overview still counts.

/** How the node reaches an archive: its DICOMweb root and the node's own credentials. */
export interface ArchiveConnection {
  /** e.g. http://127.0.0.1:41234/dicom-web */
  dicomWebUrl: string;
  username: string;
  password: string;
  /** How long a search, or the start of a retrieve, may take (ms); default 3000. */
  deadlineMs?: number;
}

export class ArchiveError extends EhrError {
  constructor(diagnostics: string) {
    super(diagnostics, 'ERR_NODE_ARCHIVE_UNAVAILABLE');
  }
}

const MAX_QIDO_BYTES = 5 * 1024 * 1024;

export interface ArchiveRetrieve {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export class DicomWebArchive {
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 30_000 });
  private readonly auth: string;

  constructor(private readonly c: ArchiveConnection) {
    this.auth = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
  }

  /** The archive's DICOMweb root (only for rewriting URLs that name it, never sent to a requester). */
  get root(): string {
    return this.c.dicomWebUrl;
  }

  private signal(outer?: AbortSignal): AbortSignal {
    const t = AbortSignal.timeout(this.c.deadlineMs ?? 3000);
    return outer ? AbortSignal.any([t, outer]) : t;
  }

  private async qido(path: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const res = await request(`${this.c.dicomWebUrl}${path}`, {
      dispatcher: this.agent,
      headers: { accept: 'application/dicom+json', authorization: this.auth },
      signal: this.signal(signal),
    }).catch((err: Error) => {
      throw new ArchiveError(`the image archive did not answer (${err.name === 'TimeoutError' ? 'deadline passed' : err.message})`);
    });
    const bytes = await readBounded(res.body, MAX_QIDO_BYTES).catch((err: Error) => {
      throw new ArchiveError(`the image archive's answer broke off (${err.name === 'TimeoutError' ? 'deadline passed' : err.message})`);
    });
    if (!bytes) throw new ArchiveError('the image archive answered too much');
    // QIDO-RS: 204 (or an empty 200) when nothing matches.
    if (res.statusCode === 204 || bytes.length === 0) return [];
    if (res.statusCode !== 200) throw new ArchiveError(`the image archive answered HTTP ${res.statusCode}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new ArchiveError('the image archive answered malformed JSON');
    }
    if (!Array.isArray(parsed)) throw new ArchiveError('the image archive answered something other than a DICOM JSON array');
    return parsed.filter((x): x is DicomJson => x !== null && typeof x === 'object' && !Array.isArray(x));
  }

  /** The studies filed under this PatientID (the EHR's own patient id). */
  studiesOf(patientId: string, signal?: AbortSignal): Promise<DicomJson[]> {
    const fields = [TAG.studyDescription, TAG.accession, TAG.modalitiesInStudy, TAG.seriesInStudy, TAG.instancesInStudy, TAG.timezoneOffset];
    const q = new URLSearchParams({ PatientID: patientId });
    for (const f of fields) q.append('includefield', f);
    return this.qido(`/studies?${q}`, signal);
  }

  seriesOf(studyUid: string, signal?: AbortSignal): Promise<DicomJson[]> {
    if (!isDicomUid(studyUid)) return Promise.resolve([]);
    const q = new URLSearchParams();
    for (const f of [TAG.bodyPart, TAG.seriesDescription, TAG.seriesNumber, TAG.instancesInSeries]) q.append('includefield', f);
    return this.qido(`/studies/${studyUid}/series?${q}`, signal);
  }

  /** The PatientID a study is filed under; undefined when the archive does not hold it. */
  async patientOfStudy(studyUid: string, signal?: AbortSignal): Promise<string | undefined> {
    if (!isDicomUid(studyUid)) return undefined;
    const found = await this.qido(`/studies?StudyInstanceUID=${studyUid}&includefield=${TAG.patientId}`, signal);
    const match = found.find((s) => stringValue(s, TAG.studyUid) === studyUid);
    return match ? stringValue(match, TAG.patientId) : undefined;
  }

  /** A WADO-RS retrieve below /studies/<uid>; the caller has checked the path. The body streams. */
  async retrieve(path: string, accept: string, signal?: AbortSignal): Promise<ArchiveRetrieve> {
    const res = await request(`${this.c.dicomWebUrl}${path}`, {
      dispatcher: this.agent,
      headers: { accept, authorization: this.auth },
      signal,
      headersTimeout: this.c.deadlineMs ?? 3000,
      bodyTimeout: 30_000,
    }).catch((err: Error) => {
      throw new ArchiveError(`the image archive did not answer (${err.message})`);
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
