import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { identifyingContent } from './deidentified.ts';

// Looks through everything in a workspace directory for what must never be there: the population's
// BSNs, names and exact birth dates anywhere, and in the NDJSON any identifying element, BSN-like
// number or full date. DuckDB
// compresses strings on disk, so the database is read table by table besides its raw bytes.

export interface Forbidden {
  bsns: string[];
  names: string[];
  birthDates: string[];
}

export interface Finding {
  file: string;
  what: string;
}

export async function scanWorkspace(dir: string, forbidden: Forbidden): Promise<Finding[]> {
  const findings: Finding[] = [];
  // One pass per kind over each text (a population has thousands of people, a database megabytes).
  const bsns = new Set(forbidden.bsns);
  const dates = new Set(forbidden.birthDates);
  const names = forbidden.names.length ? new RegExp(forbidden.names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')) : null;
  const check = (file: string, text: string) => {
    for (const m of text.matchAll(/\d{9,}/g)) {
      for (let i = 0; i + 9 <= m[0].length; i++) if (bsns.has(m[0].slice(i, i + 9))) findings.push({ file, what: 'bsn' });
    }
    if (names?.test(text)) findings.push({ file, what: 'name' });
    for (const m of text.matchAll(/\d{4}-\d{2}-\d{2}/g)) if (dates.has(m[0])) findings.push({ file, what: 'birth date' });
  };
  for (const file of walk(dir)) {
    const text = readFileSync(file).toString('latin1');
    check(file, text);
    // Every delivered resource again through the HDAB's own check (any BSN-like number, full date).
    if (file.endsWith('.ndjson')) {
      for (const line of text.split('\n').filter((l) => l.trim())) {
        const why = identifyingContent(JSON.parse(line), 'month', [JSON.parse(line).resourceType]);
        if (why) findings.push({ file, what: why });
      }
    }
    if (file.endsWith('.duckdb')) check(`${file} (tables)`, await tableText(file));
  }
  return findings;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

async function tableText(file: string): Promise<string> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  const db = await instance.connect();
  try {
    const tables = (await db.runAndReadAll('SELECT table_name FROM information_schema.tables')).getRowsJS().map((r) => String(r[0]));
    const parts: string[] = [];
    for (const t of tables) {
      const rows = (await db.runAndReadAll(`SELECT * FROM "${t.replaceAll('"', '""')}"`)).getRowsJS();
      parts.push(rows.map((r) => r.map((v) => String(v)).join('\t')).join('\n'));
    }
    return parts.join('\n');
  } finally {
    db.closeSync();
    instance.closeSync();
  }
}
