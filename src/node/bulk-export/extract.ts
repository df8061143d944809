import { randomBytes } from 'node:crypto';
import type { OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import type { PermitClaims, PermitCohort } from '../../secondary-use/contract.ts';
import { releasableUnderPermit } from './categories.ts';
import { MEDICATION_TYPES, matchesAge, matchesConditions, matchesMedications } from './cohort.ts';
import { deidentify, sensitiveStrings } from './deidentify.ts';
import type { ExportJob, JobStore } from './jobs.ts';

// One export job: walk the tenant's patients, keep the permit's cohort, ask the research opt-out
// for each patient just before writing (so an objection during the extraction is honoured), get
// the permit's research pseudonym and write only de-identified resources of the requested types
// in the permit's data categories (categories.ts). Each patient written is logged for the citizen.
// A patient whose consent answer or pseudonym fails is left out and counted in the error file.

/** Reads the holder's EHR. */
export interface ExportSource {
  /** The tenant's patients, page by page; may leave out patients the cohort cannot hold. */
  patients(cohort: PermitCohort): AsyncIterable<Patient[]>;
  /** The patient's resources of these types. */
  resourcesOf(patientId: string, types: readonly string[]): Promise<Resource[]>;
}

export interface ExtractDeps {
  jobs: JobStore;
  source(tenantUra: string): ExportSource;
  /** The research opt-out (contract: HRESCH closed question); true only on 'Permit'. */
  researchPermitted(job: ExportJob, bsn: string): Promise<boolean>;
  /** The permit's research pseudonym of this BSN, from the PRS on the tenant's behalf (the PRS checks the permit). */
  pseudonym(tenantUra: string, bsn: string, permit: { jws: string; jti: string }): Promise<string>;
  /** The GF data categories of a resource under the agreements (none: never released). */
  categoriesOf(resource: Resource): string[];
  /** Logs, for the citizen's access log, that this patient's data went into the permit's extract. */
  recordUse?(job: ExportJob, permit: PermitClaims, patient: { bsn: string; localReference: string; categories: string[] }): Promise<void>;
  log: Logger;
  /** Resources per NDJSON file. */
  fileSize?: number;
  /** Patients processed at once. */
  concurrency?: number;
  now?: () => number;
  /** The node is shutting down: stop between patients, leaving the job to be taken over. */
  stopping?: () => boolean;
}

export interface ExtractSummary {
  patients: number;
  cohort: number;
  written: number;
  withheld: number;
  failed: number;
  resources: number;
  /** Resources of a requested type left home because a category of theirs is not in the permit. */
  outsideCategories: number;
}

class Stopped extends Error {}

export function bsnOf(patient: Patient): string | undefined {
  return patient.identifier?.find((i) => i.system === SYSTEM.bsn && typeof i.value === 'string')?.value;
}

/**
 * The patient's resources when the patient is in the cohort, else null; read in stages (age, then
 * conditions, then medications) so most patients outside the cohort cost one EHR search or none.
 */
async function cohortResources(source: ExportSource, permit: PermitClaims, patient: Patient, job: ExportJob, wanted: readonly string[]): Promise<Resource[] | null> {
  const cohort = permit.cohort;
  if (!matchesAge(cohort, patient, job.transactionTime)) return null;
  const got: Resource[] = [];
  const read = new Set<string>();
  const fetch = async (types: readonly string[]) => {
    const todo = types.filter((t) => !read.has(t));
    for (const t of todo) read.add(t);
    if (todo.length) got.push(...(await source.resourcesOf(patient.id as string, todo)));
  };
  if (cohort.conditions?.length) {
    await fetch(['Condition']);
    if (!matchesConditions(cohort, got)) return null;
  }
  if (cohort.medications?.length) {
    await fetch(MEDICATION_TYPES);
    if (!matchesMedications(cohort, got)) return null;
  }
  await fetch(wanted);
  return got;
}

export async function runExport(job: ExportJob, permit: PermitClaims, deps: ExtractDeps): Promise<ExtractSummary> {
  const now = deps.now ?? Date.now;
  const fileSize = deps.fileSize ?? 1000;
  const concurrency = deps.concurrency ?? 8;
  const idKey = randomBytes(32);
  const source = deps.source(job.tenantUra);
  const needed = job.types.filter((t) => t !== 'Patient');
  const summary: ExtractSummary = { patients: 0, cohort: 0, written: 0, withheld: 0, failed: 0, resources: 0, outsideCategories: 0 };
  const buffers = new Map<string, string[]>(job.types.map((t) => [t, []]));
  const seen = new Set<string>();
  let seq = 0;
  let lastRenew = now();

  const flush = async (type: string) => {
    const lines = buffers.get(type) ?? [];
    if (lines.length === 0) return;
    buffers.set(type, []);
    if (!(await deps.jobs.addFile(job.id, seq++, type, lines.length, `${lines.join('\n')}\n`))) throw new Stopped();
  };
  const progress = () => `${summary.patients} patients read, ${summary.written} exported`;

  try {
    // One patient, start to finish; several run at once (EHR and PRS round trips overlap), each
    // still asking the opt-out right before its own data is written.
    const one = async (patient: Patient): Promise<void> => {
      summary.patients++;
      const bsn = bsnOf(patient);
      if (!bsn || !patient.id) return;
      const resources = await cohortResources(source, permit, patient, job, needed);
      if (!resources) return;
      summary.cohort++;
      // Asked now, not at kick-off: an objection recorded during the extraction still counts.
      let pseudonym: string;
      try {
        if (!(await deps.researchPermitted(job, bsn))) {
          summary.withheld++;
          return;
        }
        pseudonym = await deps.pseudonym(job.tenantUra, bsn, { jws: job.permit, jti: permit.jti });
      } catch (err) {
        summary.failed++;
        deps.log.warn({ event: 'bulk-export.patient-failed', job: job.id, error: (err as Error).message }, 'patient left out of the export');
        return;
      }
      const ctx = { pseudonym, patientIds: new Set([patient.id]), precision: permit.date_precision, idKey, sensitive: sensitiveStrings([patient], bsn) };
      const out: Resource[] = [];
      const released = new Set<string>();
      // The permit's categories decide, per resource, what leaves (the Patient resource too).
      const inPermit = (r: Resource): boolean => {
        const categories = deps.categoriesOf(r);
        if (!releasableUnderPermit(categories, permit.categories)) {
          summary.outsideCategories++;
          return false;
        }
        for (const c of categories) released.add(c);
        return true;
      };
      if (job.types.includes('Patient') && !seen.has(pseudonym) && inPermit(patient)) out.push(deidentify(patient, ctx) as Resource);
      seen.add(pseudonym);
      for (const r of resources) {
        if (!job.types.includes(r.resourceType) || !inPermit(r)) continue;
        const d = deidentify(r, ctx);
        if (d) out.push(d);
      }
      summary.written++;
      // Logged before the data is buffered: a patient in the extract is always in her own log.
      await deps.recordUse?.(job, permit, { bsn, localReference: `Patient/${patient.id}`, categories: [...released] });
      for (const r of out) {
        const lines = buffers.get(r.resourceType);
        if (!lines) continue;
        lines.push(JSON.stringify(r));
        summary.resources++;
        if (lines.length >= fileSize) await flush(r.resourceType);
      }
    };
    for await (const page of source.patients(permit.cohort)) {
      const queue = [...page];
      const worker = async () => {
        for (let patient = queue.shift(); patient; patient = queue.shift()) {
          try {
            if (deps.stopping?.()) throw new Stopped();
            if (now() >= permit.exp * 1000) throw new Error('permit expired during the extraction');
            if (now() - lastRenew > 2000) {
              lastRenew = now();
              if (!(await deps.jobs.renew(job.id, progress()))) throw new Stopped();
            }
            await one(patient);
          } catch (err) {
            queue.length = 0;
            throw err;
          }
        }
      };
      const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    for (const type of buffers.keys()) await flush(type);
    if (summary.failed > 0) {
      const outcome: OperationOutcome = {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'incomplete', diagnostics: `${summary.failed} patient(s) of the cohort left out: their research opt-out or pseudonym could not be obtained` }],
      };
      if (!(await deps.jobs.addFile(job.id, seq++, 'OperationOutcome', 1, `${JSON.stringify(outcome)}\n`))) throw new Stopped();
    }
    await deps.jobs.finish(job.id, 'done');
  } catch (err) {
    if (err instanceof Stopped) {
      deps.log.info({ event: 'bulk-export.stopped', job: job.id }, 'export stopped (cancelled or taken over)');
      return summary;
    }
    deps.log.warn({ event: 'bulk-export.failed', job: job.id, error: (err as Error).message }, 'export failed');
    await deps.jobs.finish(job.id, 'failed', (err as Error).message);
  }
  return summary;
}
