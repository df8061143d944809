import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { WORKSPACE_SCHEMA, Workspaces } from '../src/secondary-use/workspace.ts';
import { argValue, figure } from './lib/report.ts';

// The secure processing environment's cohort query: TIA patients on a statin, counted per age band,
// over a workspace holding --patients research pseudonyms (default 1 000 000) with their conditions
// and medication, as a researcher sends it (statement checks, the count-distinct-per-cell wrapper,
// the disclosure check), as a ratio to the same aggregate run straight on DuckDB (a read-only
// connection to the same file) in the same run, rounds interleaved. The workspace is filled with
// DuckDB's own range() (the figure is the query; loading has its own path and tests).
// Options: --patients N, --rounds R.

const BENCH = 'workspace';
const COHORT = `SELECT p.id AS patient, CASE WHEN p.age < 40 THEN '<40' WHEN p.age < 60 THEN '40-59' WHEN p.age < 80 THEN '60-79' ELSE '80+' END AS age_band
FROM patient p WHERE p.id IN (SELECT patient FROM condition WHERE code = '266257000') AND p.id IN (SELECT patient FROM medication WHERE code LIKE 'C10%')`;
const CEILING = `SELECT * EXCLUDE (patient), count(DISTINCT patient) AS n FROM (${COHORT}) GROUP BY ALL`;

export async function run(args: string[]): Promise<void> {
  const patients = argValue(args, '--patients', 1_000_000);
  const rounds = argValue(args, '--rounds', 5);
  const root = mkdtempSync(join(tmpdir(), 'ldn-bench-workspace-'));
  const workspaces = new Workspaces(root);
  const dir = workspaces.dirOf('bench');
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const writer = await DuckDBInstance.create(join(dir, 'workspace.duckdb'));
    const w = await writer.connect();
    await w.run(WORKSPACE_SCHEMA);
    // Every patient one row; a third have a TIA (plus an unrelated condition each), three in four a statin.
    await w.run(`INSERT INTO patient SELECT 'p' || i, 'h' || (i % 20), CASE WHEN i % 2 = 0 THEN 'female' ELSE 'male' END, CAST(1930 + i % 70 AS VARCHAR), 1930 + i % 70, 2026 - (1930 + i % 70) FROM range(${patients}) t(i)`);
    await w.run(`INSERT INTO condition SELECT 'p' || i, 'h' || (i % 20), 'http://snomed.info/sct', CASE WHEN i % 3 = 0 THEN '266257000' ELSE '38341003' END, '2025' FROM range(${patients}) t(i)`);
    await w.run(`INSERT INTO medication SELECT 'p' || i, 'h' || (i % 20), 'MedicationStatement', 'http://www.whocc.no/atc', CASE WHEN i % 4 = 0 THEN 'N02BE01' ELSE 'C10AA05' END, '2025' FROM range(${patients}) t(i)`);
    w.closeSync();
    writer.closeSync();

    const raw = await (await DuckDBInstance.create(join(dir, 'workspace.duckdb'), { access_mode: 'READ_ONLY' })).connect();
    let rawMs = 0;
    let oursMs = 0;
    let cells = 0;
    for (let r = 0; r < rounds + 1; r++) {
      const a = performance.now();
      const ceiling = await raw.runAndReadAll(CEILING);
      const b = performance.now();
      const ours = await workspaces.query('bench', COHORT, 10);
      const c = performance.now();
      if (ours.released.length !== ceiling.getRowsJS().length) throw new Error('the workspace query and the ceiling disagree');
      cells = ours.released.length;
      if (r === 0) continue; // warm-up round
      rawMs += b - a;
      oursMs += c - b;
    }
    raw.closeSync();
    figure(BENCH, 'cohort query per age band via the workspace vs DuckDB directly (ratio of throughput)', rawMs / oursMs, {
      patients,
      rounds,
      workspaceMsPerQuery: Number((oursMs / rounds).toFixed(1)),
      duckdbMsPerQuery: Number((rawMs / rounds).toFixed(1)),
      cells,
    });
  } finally {
    await workspaces.close();
    rmSync(root, { recursive: true, force: true });
  }
}
