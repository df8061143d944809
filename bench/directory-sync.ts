// `npm run bench -- directory-sync [--orgs N] [--database-url postgres://…] [--page N]`
// National size by default: 50 000 organisations, 250 000 directory resources. Figures:
//  - initial load into a replica on PostgreSQL (update client: pages from the directory + apply),
//    in resources/s, and as a ratio to a raw batched INSERT of the same rows in the same run;
//  - incremental sync of 1 000 changes (_history since the watermark).
import { randomBytes } from 'node:crypto';
import type { Resource } from '@medplum/fhirtypes';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { DIRECTORY_MIGRATIONS } from '../src/directory/migrations.ts';
import { localFetcher } from '../src/directory/replica/fetchers.ts';
import { REPLICA_MIGRATIONS } from '../src/directory/replica/migrations.ts';
import { findEndpoints } from '../src/directory/replica/search.ts';
import { UpdateClient } from '../src/directory/replica/update-client.ts';
import { CODE_SYSTEM, SYSTEM } from '../src/kit/identifiers/index.ts';
import { openStore } from '../src/kit/store/open.ts';
import type { Store } from '../src/kit/store/store.ts';
import { figure } from './lib/report.ts';

const BENCH = 'directory-sync';
const BATCH = 2000;
const DIRECTORY_URL = 'https://directory.bench';

const custodian = (ura: string, kind: string, n: number) => ({
  use: 'official',
  system: 'urn:ietf:rfc:3986',
  value: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(8, '0')}${kind.length.toString(16).padStart(4, '0')}`,
  assigner: { identifier: { type: { coding: [{ system: CODE_SYSTEM.provenanceParticipantType, code: 'custodian' }] }, system: SYSTEM.ura, value: ura } },
});

/** The five entries of organisation number n (Organization, Location, HealthcareService, Endpoint, mandate). */
function entriesOf(n: number, lastUpdated: string): Resource[] {
  const ura = String(10_000_000 + n);
  const kvk = String(60_000_000 + (n % 500));
  const org = `org-${n}`;
  const meta = { versionId: '1', lastUpdated };
  return [
    { resourceType: 'Organization', id: org, meta, identifier: [{ ...custodian(ura, 'o', n), system: SYSTEM.ura, value: ura }], active: true, name: `Zorgaanbieder ${n}`, type: [{ coding: [{ system: SYSTEM.organizationType, code: ['Z3', 'V4', 'J8', 'T2'][n % 4] }] }], endpoint: [{ reference: `Endpoint/ep-${n}` }] },
    { resourceType: 'Location', id: `loc-${n}`, meta, identifier: [custodian(ura, 'loc', n)], status: 'active', name: `Vestiging ${n}`, managingOrganization: { reference: `Organization/${org}` } },
    { resourceType: 'HealthcareService', id: `hs-${n}`, meta, identifier: [custodian(ura, 'hs', n)], active: true, providedBy: { reference: `Organization/${org}` }, type: [{ text: 'zorg' }], location: [{ reference: `Location/loc-${n}` }] },
    { resourceType: 'Endpoint', id: `ep-${n}`, meta, identifier: [custodian(ura, 'ep', n)], status: 'active', connectionType: { system: CODE_SYSTEM.endpointConnectionType, code: 'hl7-fhir-rest' }, payloadType: [{ coding: [{ system: CODE_SYSTEM.dataCategories, code: 'MedicationRequest' }] }], payloadMimeType: ['application/fhir+json; fhirVersion=4.0'], period: { start: '2024-01-01' }, managingOrganization: { identifier: { system: SYSTEM.kvk, value: kvk } }, address: `https://node-${n % 500}.example.nl/fhir/${ura}` },
    { resourceType: 'OrganizationAffiliation', id: `oa-${n}`, meta, identifier: [custodian(ura, 'oa', n)], active: true, organization: { reference: `Organization/${org}` }, participatingOrganization: { identifier: { system: SYSTEM.kvk, value: kvk } }, code: [{ coding: [{ system: CODE_SYSTEM.authorizationTypes, code: 'lrza-careprovider-admin' }] }] },
  ] as Resource[];
}

/** Writes rows straight into the directory's tables (the feed is not what this bench measures). */
async function fillDirectory(dir: Store, rows: Resource[]): Promise<void> {
  const json = JSON.stringify(rows.map((r) => ({ type: r.resourceType, id: r.id, t: r.meta?.lastUpdated, v: Number(r.meta?.versionId), r })));
  await dir.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO resources (type, id, version_id, last_updated, status, owner_ura, resource)
       SELECT e->>'type', e->>'id', (e->>'v')::int, (e->>'t')::timestamptz, 'active', NULL, e->'r' FROM jsonb_array_elements($1::jsonb) e
       ON CONFLICT (type, id) DO UPDATE SET version_id = EXCLUDED.version_id, last_updated = EXCLUDED.last_updated, resource = EXCLUDED.resource`,
      [json],
    );
    await tx.query(
      `INSERT INTO history (type, id, version_id, last_updated, method, resource)
       SELECT e->>'type', e->>'id', (e->>'v')::int, (e->>'t')::timestamptz, CASE WHEN (e->>'v')::int = 1 THEN 'POST' ELSE 'PUT' END, e->'r'
       FROM jsonb_array_elements($1::jsonb) e`,
      [json],
    );
  });
}

/** The ceiling: the same rows by plain multi-row INSERT with parameters, batch by batch. */
async function rawInsert(store: Store, rows: Resource[]): Promise<number> {
  await store.exec('CREATE TABLE raw_rows (type text, id text, version_num bigint, last_updated timestamptz, resource jsonb, PRIMARY KEY (type, id))');
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    const args: unknown[] = [];
    const values = batch.map((r) => {
      args.push(r.resourceType, r.id, 1, r.meta?.lastUpdated, JSON.stringify(r));
      const b = args.length - 5;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}::jsonb)`;
    });
    await store.query(`INSERT INTO raw_rows VALUES ${values.join(', ')}`, args);
  }
  return performance.now() - started;
}

export async function run(args: string[]): Promise<void> {
  const opts = new Command()
    .option('--orgs <n>', 'organisations (5 resources each)', '50000')
    .option('--changes <n>', 'changes for the incremental sync', '1000')
    .option('--page <n>', 'page size of the update client', '1000')
    .option('--database-url <url>', 'PostgreSQL', process.env.LDN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test')
    .parse(['node', BENCH, ...args])
    .opts<{ orgs: string; changes: string; page: string; databaseUrl: string }>();
  const orgs = Number(opts.orgs);
  const changes = Number(opts.changes);
  const tag = randomBytes(3).toString('hex');
  const dir = await openStore({ schema: `bench_dir_${tag}`, databaseUrl: opts.databaseUrl }, DIRECTORY_MIGRATIONS);
  const rep = await openStore({ schema: `bench_rep_${tag}`, databaseUrl: opts.databaseUrl }, REPLICA_MIGRATIONS);
  const raw = await openStore({ schema: `bench_raw_${tag}`, databaseUrl: opts.databaseUrl });
  try {
    const bar = new cliProgress.SingleBar({ format: 'generating {bar} {value}/{total} organisations', stream: process.stderr }, cliProgress.Presets.shades_classic);
    bar.start(orgs, 0);
    const base = Date.parse('2025-01-01T00:00:00Z');
    const all: Resource[] = [];
    let pending: Resource[] = [];
    for (let n = 0; n < orgs; n++) {
      const entries = entriesOf(n, new Date(base + n).toISOString());
      all.push(...entries);
      pending.push(...entries);
      if (pending.length >= BATCH || n === orgs - 1) {
        await fillDirectory(dir, pending);
        pending = [];
        bar.update(n + 1);
      }
    }
    bar.stop();
    figure(BENCH, 'resources', all.length, { organisations: orgs });

    const rawMs = await rawInsert(raw, all);
    const rawRps = all.length / (rawMs / 1000);
    figure(BENCH, 'raw_insert_rps', rawRps, { ms: Math.round(rawMs) });

    const client = new UpdateClient({ store: rep, directoryUrl: DIRECTORY_URL, fetch: localFetcher(dir, DIRECTORY_URL), pageSize: Number(opts.page) });
    let started = performance.now();
    const initial = await client.syncNow();
    const loadMs = performance.now() - started;
    const loadRps = all.length / (loadMs / 1000);
    figure(BENCH, 'initial_load_rps', loadRps, { ms: Math.round(loadMs), pages: initial.pages, entries: initial.entries, changed: initial.changed });
    figure(BENCH, 'initial_load_vs_raw_insert', loadRps / rawRps, { target: 0.3 });

    // 1 000 changes: new versions of endpoints, stamped after everything else.
    const later = Date.now();
    const changed = Array.from({ length: changes }, (_, i) => {
      const n = Math.floor((i * orgs) / changes);
      const ep = entriesOf(n, new Date(later + i).toISOString())[3] as Resource & { address: string };
      return { ...ep, meta: { versionId: '2', lastUpdated: ep.meta?.lastUpdated }, address: `https://moved-${n}.example.nl/fhir` } as Resource;
    });
    for (let i = 0; i < changed.length; i += BATCH) await fillDirectory(dir, changed.slice(i, i + BATCH));
    started = performance.now();
    const inc = await client.syncNow();
    const incMs = performance.now() - started;
    figure(BENCH, 'incremental_sync_ms', incMs, { changes, pages: inc.pages, entries: inc.entries, changed: inc.changed });
    const probe = await findEndpoints(rep, { ura: String(10_000_000), payloadType: 'MedicationRequest', fhirVersion: '4.0' });
    if (probe[0]?.address !== 'https://moved-0.example.nl/fhir') throw new Error('the replica did not pick up the change');
    started = performance.now();
    const lookups = 200;
    for (let i = 0; i < lookups; i++) await findEndpoints(rep, { ura: String(10_000_000 + ((i * 7919) % orgs)), payloadType: 'MedicationRequest' });
    figure(BENCH, 'find_endpoints_ms', (performance.now() - started) / lookups, { lookups });
  } finally {
    for (const s of [dir, rep, raw]) {
      await s.exec(`DROP SCHEMA IF EXISTS ${s.schema} CASCADE`).catch(() => {});
      await s.close();
    }
  }
}
