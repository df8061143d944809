import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveConnection } from '../../node/imaging/archive-client.ts';
import type { SandboxContext } from '../context.ts';
import { dcmtkAvailable, DUMP2DCM, dicomInstances } from './dicom-files.ts';
import { orthancMissing, type RunningOrthanc, startOrthanc } from './orthanc-process.ts';

// The sandbox's image archives: one Orthanc per organisation that has studies in the cast
// (the hospitals), started before the nodes and loaded with the cast's synthetic DICOM, stopped
// with the sandbox. Without Orthanc or dcmtk on the machine the sandbox runs without images and
// says so loudly; the imaging tests then skip (test/e2e/imaging-helpers.ts).

export interface CastArchives {
  /** The node's connection per URA (absent: that organisation publishes no images). */
  connections: Map<string, ArchiveConnection>;
  /** The running archives by URA (tests pause one to make it hang). */
  running: Map<string, RunningOrthanc>;
  /** Why there are no archives, when there are none. */
  unavailable?: string;
  stop(): Promise<void>;
}

/** Why imaging cannot run on this machine (undefined: it can). */
export function imagingUnavailable(): string | undefined {
  return orthancMissing() ?? (dcmtkAvailable() ? undefined : `dcmtk's dump2dcm not found at ${DUMP2DCM} (Debian package dcmtk)`);
}

export async function startCastArchives(sb: SandboxContext, options: { enabled?: boolean } = {}): Promise<CastArchives> {
  const running = new Map<string, RunningOrthanc>();
  const stop = async () => {
    for (const a of running.values()) await a.stop().catch((err) => sb.log.warn({ err, archive: a.name }, 'archive stop failed'));
    running.clear();
  };
  const result: CastArchives = { connections: new Map(), running, stop };
  if (options.enabled === false || !sb.cast.imaging) return { ...result, unavailable: 'imaging switched off for this sandbox' };
  const why = imagingUnavailable();
  if (why) {
    sb.log.warn({ reason: why }, '!! NO IMAGE ARCHIVES: the sandbox runs without images (beeldbeschikbaarheid answers no ImagingStudy)');
    return { ...result, unavailable: why };
  }
  // The same "today" the EHR simulator dates its histories from (participants.ts).
  const reference = `${new Date().toISOString().slice(0, 10)}T09:00:00Z`;
  // The archives start side by side (each an Orthanc process of its own): a sandbox is ready sooner.
  const startOne = async (org: (typeof sb.cast.organizations)[number]) => {
    const studies = sb.cast.imaging!(org.ura, reference);
    if (studies.length === 0) return;
    const archive = await startOrthanc({ name: org.name, log: sb.log });
    running.set(org.ura, archive);
    for (const study of studies) {
      const files = await dicomInstances({ ...study, institution: org.name }, join(tmpdir(), `ldn-dicom-${process.pid}-${org.ura}-${study.seriesUid.slice(-8)}`));
      for (const f of files) await archive.upload(f);
    }
    result.connections.set(org.ura, archive.connection);
  };
  const started = await Promise.allSettled(sb.cast.organizations.map(startOne));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return result;
}
