import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HttpError } from '../kit/fhir/outcome.ts';
import { scanWorkspace } from './scanner.ts';
import { deliveredFiles, fixturePopulation, leakyFile } from './test-fixtures.ts';
import { Workspaces } from './workspace.ts';

const root = mkdtempSync(join(tmpdir(), 'ldn-workspaces-'));
const workspaces = new Workspaces(root);
after(async () => {
  await workspaces.close();
  rmSync(root, { recursive: true, force: true });
});
const TYPES = ['Patient', 'Condition', 'MedicationStatement'];
const load = { precision: 'year' as const, types: TYPES, transactionTime: '2026-12-03T10:00:00Z' };
const people = fixturePopulation(400);
const AGE_BANDS = `SELECT p.id AS patient, CASE WHEN p.age < 40 THEN '<40' WHEN p.age < 60 THEN '40-59' WHEN p.age < 80 THEN '60-79' ELSE '80+' END AS age_band
FROM patient p JOIN condition c ON c.patient = p.id JOIN medication m ON m.patient = p.id
WHERE c.code = '266257000' AND m.code LIKE 'C10%'`;

describe('secure processing environment (DuckDB workspace)', () => {
  it('loads de-identified NDJSON, refuses a file that is not, and answers an aggregate per age band', async () => {
    const files = [...deliveredFiles('90000102', people.slice(0, 200)), ...deliveredFiles('90000103', people.slice(200)), leakyFile('90000104', people[0])];
    const report = await workspaces.load('permit-a', files, load);
    assert.equal(report.refused.length, 1, JSON.stringify(report.refused));
    assert.match(report.refused[0].reason, /identifier must have been removed/);
    const release = await workspaces.query('permit-a', AGE_BANDS, 10);
    const expected = new Map<string, number>();
    for (const p of people.filter((x) => x.tia && x.statin)) {
      const age = 2026 - Number(p.birthDate.slice(0, 4));
      const band = age < 40 ? '<40' : age < 60 ? '40-59' : age < 80 ? '60-79' : '80+';
      expected.set(band, (expected.get(band) ?? 0) + 1);
    }
    const released = new Map(release.released.map((c) => [c.dims.age_band as string, c.n]));
    for (const [band, n] of expected) {
      if (n >= 10) assert.equal(released.get(band), n, band);
      else assert.equal(released.has(band), false, `${band} (${n}) must be suppressed`);
    }
    assert.deepEqual(release.columns, ['age_band']);
  });

  it('suppresses small cells and refuses a query whose every cell is small (a listing of patients)', async () => {
    const r = await workspaces.query('permit-a', "SELECT id AS patient, CASE WHEN birth_year = 1930 THEN '1930' ELSE 'other' END AS born FROM patient", 10);
    assert.equal(r.suppressed, 1);
    assert.deepEqual(r.released.map((c) => c.dims.born), ['other']);
    for (const c of r.released) assert.ok(c.n >= 10);
    await assert.rejects(workspaces.query('permit-a', 'SELECT id AS patient, id AS who FROM patient', 10), (e: HttpError) => e.status === 422 && /fewer than 10/.test(e.message));
    await assert.rejects(workspaces.query('permit-a', 'SELECT id AS patient, gender FROM patient', 1000), (e: HttpError) => e.status === 422);
  });

  it('refuses statements that write, read files, reach another database or are not one SELECT', async () => {
    await workspaces.load('permit-b', deliveredFiles('90000102', people.slice(0, 50)), load);
    const other = join(workspaces.dirOf('permit-b'), 'workspace.duckdb');
    const refused = [
      'DELETE FROM patient',
      'CREATE TABLE x AS SELECT * FROM patient',
      `COPY patient TO '${join(root, 'out.csv')}'`,
      `ATTACH '${other}' AS b`,
      `SELECT id AS patient FROM read_json_auto('${join(workspaces.dirOf('permit-b'), 'ndjson', '0-Patient.ndjson')}')`,
      `SELECT id AS patient FROM read_csv('/etc/passwd')`,
      `SELECT getenv('HOME') AS patient`,
      "SET enable_external_access = true",
      'SELECT id AS patient FROM patient; SELECT 1',
      'INSTALL httpfs',
      'SELECT gender FROM patient',
    ];
    for (const sql of refused) {
      await assert.rejects(workspaces.query('permit-a', sql, 10), (e: HttpError) => e.status === 422, sql);
    }
    // Still answering after the refusals (nothing was changed).
    assert.ok((await workspaces.query('permit-a', AGE_BANDS, 10)).released.length > 0);
  });

  it('keeps no BSN, name or exact birth date in any workspace file', async () => {
    const findings = await scanWorkspace(root, { bsns: people.map((p) => p.bsn), names: people.map((p) => p.name), birthDates: people.map((p) => p.birthDate) });
    assert.deepEqual(findings, []);
    // The scanner does find them where they are (it is not blind).
    const probe = mkdtempSync(join(tmpdir(), 'ldn-scan-probe-'));
    try {
      const w = new Workspaces(probe);
      const leaky = JSON.parse(leakyFile('h', people[1]).ndjson);
      await w.load('leak', [{ holder: 'h', type: 'Patient', ndjson: `${JSON.stringify({ resourceType: 'Patient', id: 'p', gender: leaky.gender, birthDate: '1950' })}\n` }], load);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(probe, 'leak', 'note.txt'), `${people[1].bsn} ${people[1].name} ${people[1].birthDate}`);
      const found = (await scanWorkspace(probe, { bsns: [people[1].bsn], names: [people[1].name], birthDates: [people[1].birthDate] })).map((f) => f.what);
      assert.ok(found.includes('bsn') && found.includes('name') && found.includes('birth date'));
      await w.close();
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  });

  it('destroys a workspace: no files left, queries refused', async () => {
    await workspaces.destroy('permit-b');
    assert.equal(workspaces.exists('permit-b'), false);
    await assert.rejects(workspaces.query('permit-b', AGE_BANDS, 10), (e: HttpError) => e.status === 422);
  });
});
