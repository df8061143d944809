import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import { unprocessable } from '../kit/fhir/outcome.ts';
import type { DatePrecision } from './contract.ts';
import { identifyingContent } from './deidentified.ts';
import { type DisclosureVerdict, disclosureCheck, type ResultCell } from './disclosure.ts';

// The secure processing environment: one DuckDB database per permit, in its own directory (with the
// NDJSON files it was loaded from). Loading uses a writable connection the researcher never sees;
// queries run on a separate read-only instance with external access switched off and the
// configuration locked, so a statement can read neither files nor another database. Only the
// disclosure-checked aggregate of a query leaves: raw rows never do.

/** Tables a researcher queries; every row carries the research pseudonym of its patient. */
export const WORKSPACE_SCHEMA = `
CREATE TABLE patient (id VARCHAR, holder VARCHAR, gender VARCHAR, birth_date VARCHAR, birth_year INTEGER, age INTEGER);
CREATE TABLE condition (patient VARCHAR, holder VARCHAR, system VARCHAR, code VARCHAR, onset VARCHAR);
CREATE TABLE medication (patient VARCHAR, holder VARCHAR, resource_type VARCHAR, system VARCHAR, code VARCHAR, date VARCHAR);
CREATE TABLE resource (patient VARCHAR, holder VARCHAR, type VARCHAR, id VARCHAR, json VARCHAR);`;

export interface DeliveredFile {
  holder: string;
  type: string;
  ndjson: string;
}

export interface LoadReport {
  resources: number;
  /** Files refused whole because a resource in them was not de-identified per the permit. */
  refused: Array<{ holder: string; type: string; reason: string }>;
}

export interface QueryRelease extends DisclosureVerdict {
  columns: string[];
}

const ATC = 'http://www.whocc.no/atc';
const NAME = /^[a-z0-9-]{1,64}$/i;

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const patientOf = (r: Json): string | null => {
  const ref = str((r.subject as Json | undefined)?.reference) ?? str((r.patient as Json | undefined)?.reference);
  return ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : null;
};
const firstCoding = (concept: unknown, preferSystem?: string): { system: string | null; code: string | null } => {
  const codings = Array.isArray((concept as Json | undefined)?.coding) ? ((concept as Json).coding as Json[]) : [];
  const c = codings.find((x) => x.system === preferSystem) ?? codings[0];
  return { system: str(c?.system), code: str(c?.code) };
};

/** The Medication a statement or request points to inside itself (medicationReference '#id'). */
function containedMedication(r: Json): Json | undefined {
  const ref = str((r.medicationReference as Json | undefined)?.reference);
  if (!ref?.startsWith('#') || !Array.isArray(r.contained)) return undefined;
  const meds = (r.contained as Json[]).filter((c) => c.resourceType === 'Medication');
  // De-identification may make ids opaque: a single contained Medication is the one referred to.
  return meds.find((c) => c.id === ref.slice(1)) ?? (meds.length === 1 ? meds[0] : undefined);
}

export class Workspaces {
  private readonly readers = new Map<string, Promise<DuckDBConnection>>();
  private readonly instances = new Map<string, DuckDBInstance>();

  constructor(private readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  dirOf(permitId: string): string {
    if (!NAME.test(permitId)) throw new Error(`not a permit id: ${permitId}`);
    return join(this.root, permitId);
  }

  exists(permitId: string): boolean {
    return existsSync(join(this.dirOf(permitId), 'workspace.duckdb'));
  }

  /** Loads the delivered files (after the de-identification check) into a fresh workspace. */
  async load(permitId: string, files: readonly DeliveredFile[], options: { precision: DatePrecision; types: readonly string[]; transactionTime: string }): Promise<LoadReport> {
    await this.destroy(permitId);
    const dir = this.dirOf(permitId);
    mkdirSync(join(dir, 'ndjson'), { recursive: true });
    const refYear = Number(options.transactionTime.slice(0, 4));
    const report: LoadReport = { resources: 0, refused: [] };
    const instance = await DuckDBInstance.create(join(dir, 'workspace.duckdb'));
    const db = await instance.connect();
    try {
      await db.run(WORKSPACE_SCHEMA);
      const tables = {
        patient: await db.createAppender('patient'),
        condition: await db.createAppender('condition'),
        medication: await db.createAppender('medication'),
        resource: await db.createAppender('resource'),
      };
      const row = (table: keyof typeof tables, values: Array<string | number | null>) => {
        const a = tables[table];
        for (const v of values) {
          if (v === null) a.appendNull();
          else if (typeof v === 'number') a.appendInteger(v);
          else a.appendVarchar(v);
        }
        a.endRow();
      };
      for (const [i, file] of files.entries()) {
        // Check the whole file first: a file with one identifying resource is refused whole.
        const resources: Json[] = [];
        let refusal: string | null = null;
        for (const line of file.ndjson.split('\n')) {
          if (!line.trim()) continue;
          let r: unknown;
          try {
            r = JSON.parse(line);
          } catch {
            refusal = 'a line is not JSON';
            break;
          }
          refusal = identifyingContent(r, options.precision, options.types);
          if (refusal) break;
          resources.push(r as Json);
        }
        if (refusal) {
          report.refused.push({ holder: file.holder, type: file.type, reason: refusal });
          continue;
        }
        writeFileSync(join(dir, 'ndjson', `${i}-${file.type.replace(/[^A-Za-z]/g, '')}.ndjson`), file.ndjson);
        for (const r of resources) {
          report.resources += 1;
          const type = r.resourceType as string;
          const patient = type === 'Patient' ? str(r.id) : patientOf(r);
          row('resource', [patient, file.holder, type, str(r.id), JSON.stringify(r)]);
          if (type === 'Patient') {
            const birth = str(r.birthDate);
            const year = birth ? Number(birth.slice(0, 4)) : null;
            row('patient', [str(r.id), file.holder, str(r.gender), birth, year, year === null ? null : refYear - year]);
          } else if (type === 'Condition') {
            const c = firstCoding(r.code, 'http://snomed.info/sct');
            row('condition', [patient, file.holder, c.system, c.code, str(r.onsetDateTime) ?? str(r.recordedDate)]);
          } else if (type === 'MedicationStatement' || type === 'MedicationRequest') {
            const c = firstCoding(r.medicationCodeableConcept ?? containedMedication(r)?.code, ATC);
            row('medication', [patient, file.holder, type, c.system, c.code, str(r.effectiveDateTime) ?? str(r.authoredOn) ?? str((r.effectivePeriod as Json | undefined)?.start)]);
          }
        }
      }
      for (const a of Object.values(tables)) a.closeSync();
    } finally {
      db.closeSync();
      instance.closeSync();
    }
    return report;
  }

  /** Runs a researcher's statement and returns only what passes the disclosure check. */
  async query(permitId: string, sql: string, minCell: number): Promise<QueryRelease> {
    const db = await this.reader(permitId);
    const statement = sql.trim().replace(/;\s*$/, '');
    await requireOneSelect(db, statement, 'the statement');
    // Every released cell counts distinct research pseudonyms: the statement names the patient
    // of each row in a column `patient`; every other column is a dimension of the result.
    const wrapped = `SELECT * EXCLUDE (patient), count(DISTINCT patient) AS n FROM (\n${statement}\n) AS researcher_rows GROUP BY ALL`;
    await requireOneSelect(db, wrapped, 'the statement (with its patient column)');
    let result: Awaited<ReturnType<DuckDBConnection['runAndReadAll']>>;
    try {
      result = await db.runAndReadAll(wrapped);
    } catch (err) {
      throw unprocessable(`the statement cannot run: ${firstLine(err)}`);
    }
    const columns = result.columnNames();
    const dimNames = columns.slice(0, -1);
    const cells: ResultCell[] = result.getRowsJS().map((values) => ({
      dims: Object.fromEntries(dimNames.map((name, i) => [name, plain(values[i])])),
      n: Number(values[values.length - 1]),
    }));
    const verdict = disclosureCheck(cells, minCell);
    // A query whose every cell is small (a listing of patients, a rare combination) releases nothing.
    if (verdict.released.length === 0 && verdict.suppressed > 0) {
      throw unprocessable(`refused: every one of the ${verdict.suppressed} cell(s) counts fewer than ${minCell} patients`);
    }
    return { columns: dimNames, ...verdict };
  }

  /** Removes the workspace and every file in it. */
  async destroy(permitId: string): Promise<void> {
    const reader = this.readers.get(permitId);
    this.readers.delete(permitId);
    if (reader) (await reader.catch(() => undefined))?.closeSync();
    this.instances.get(permitId)?.closeSync();
    this.instances.delete(permitId);
    rmSync(this.dirOf(permitId), { recursive: true, force: true });
  }

  /** Permit ids that have a workspace on disk. */
  list(): string[] {
    return readdirSync(this.root).filter((n) => NAME.test(n) && this.exists(n));
  }

  async close(): Promise<void> {
    for (const id of [...this.readers.keys()]) {
      (await this.readers.get(id)?.catch(() => undefined))?.closeSync();
      this.instances.get(id)?.closeSync();
    }
    this.readers.clear();
    this.instances.clear();
  }

  private reader(permitId: string): Promise<DuckDBConnection> {
    let r = this.readers.get(permitId);
    if (!r) {
      if (!this.exists(permitId)) throw unprocessable(`permit ${permitId} has no workspace (not extracted yet, or destroyed)`);
      r = (async () => {
        const instance = await DuckDBInstance.create(join(this.dirOf(permitId), 'workspace.duckdb'), {
          access_mode: 'READ_ONLY',
          enable_external_access: 'false',
          autoload_known_extensions: 'false',
          autoinstall_known_extensions: 'false',
          lock_configuration: 'true',
        });
        this.instances.set(permitId, instance);
        return instance.connect();
      })();
      this.readers.set(permitId, r);
    }
    return r;
  }
}

async function requireOneSelect(db: DuckDBConnection, sql: string, what: string): Promise<void> {
  let count: number;
  let type: StatementType;
  try {
    const statements = await db.extractStatements(sql);
    count = statements.count;
    if (count !== 1) throw unprocessable(`${what} must be exactly one SELECT, not ${count} statements`);
    type = (await statements.prepare(0)).statementType;
  } catch (err) {
    if ((err as { status?: number }).status) throw err;
    throw unprocessable(`${what} is refused: ${firstLine(err)}`);
  }
  if (type !== StatementType.SELECT) throw unprocessable(`${what} must be a read-only SELECT (statement type ${StatementType[type]})`);
}

const firstLine = (err: unknown): string => String((err as Error).message ?? err).split('\n')[0].slice(0, 300);
const plain = (v: unknown): string | number | boolean | null =>
  v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : String(v);
