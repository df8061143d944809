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
  const check = (file: string, text: string) => {
    for (const b of forbidden.bsns) if (text.includes(b)) findings.push({ file, what: 'bsn' });
    for (const n of forbidden.names) if (text.includes(n)) findings.push({ file, what: 'name' });
    for (const d of forbidden.birthDates) if (text.includes(d)) findings.push({ file, what: 'birth date' });
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
