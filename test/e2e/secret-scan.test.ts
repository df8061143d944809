import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { captureLog } from '../../src/kit/testing/capture-log.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import type { Store } from '../../src/kit/store/store.ts';
import { CITIZENS, DE_GROOT } from '../../src/sandbox/cast.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';
import { apiOverview, citizenPortalLogin, clinicianLogin, clinicianVerklaring, openOverview } from './sandbox-helpers.ts';

// The BSN and secret scanner (issue 15): after the De Groot story, on PGlite and on PostgreSQL,
// every table of every schema and every log line is searched for the cast's BSNs and for live
// bearer credentials (access tokens, ID tokens, verklaringen). Only the places the design
// allows may hold a BSN in clear: the holders' own EHR data and the consent registry. No
// table may hold a live credential, and no log line either.

const BAKKER = '900001011';
const VELUWE = '90000101';
const BSNS = CITIZENS.map((c) => c.bsn);
/** Where a BSN in clear belongs: the holders' record systems and the consent registry. */
const BSN_ALLOWED = (schema: string) => schema.startsWith('ehr_') || schema === 'consent';
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;

/** A bearer credential that still works: a JWT whose payload says it is one and has not expired. */
function liveCredential(jwt: string): string | undefined {
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) return undefined;
  if (claims.json_schema || claims.dezi_nummer) return 'verklaring';
  if (claims.cnf || claims.scope || claims.client_id) return 'access token';
  if (claims.nonce !== undefined || claims.at_hash !== undefined || claims.acr !== undefined) return 'ID token';
  return undefined;
}

interface Finding {
  where: string;
  what: string;
  /** A BSN where the design allows it (counted, to show the scan sees them). */
  allowed?: boolean;
}

async function scanStore(store: Store, label: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const tables = await store.query<{ table_schema: string; table_name: string }>(
    `SELECT table_schema, table_name FROM information_schema.tables
     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
  );
  for (const { table_schema: schema, table_name: table } of tables) {
    const rows = await store.query<{ r: string }>(`SELECT row_to_json(t)::text AS r FROM "${schema}"."${table}" t`);
    const text = rows.map((x) => x.r).join('\n');
    for (const bsn of BSNS) if (text.includes(bsn)) findings.push({ where: `${label} ${schema}.${table}`, what: `BSN ${bsn}`, allowed: BSN_ALLOWED(schema) });
    for (const jwt of text.match(JWT) ?? []) {
      const kind = liveCredential(jwt);
      if (kind) findings.push({ where: `${label} ${schema}.${table}`, what: `live ${kind}` });
    }
  }
  return findings;
}

const backends = (await postgresReachable()) ? ['pglite', 'postgres'] : ['pglite'];
if (backends.length === 1) console.warn('secret scan: PostgreSQL unreachable; scanning PGlite only');

for (const backend of backends) {
  describe(`BSN and secret scanner after the De Groot story (${backend})`, { timeout: 600_000 }, () => {
    let sandbox: Sandbox;
    let drop: (() => Promise<void>) | undefined;
    const logged = captureLog('sandbox', 'debug');
    const previous = process.env.LDN_LOG_REQUESTS;

    before(async () => {
      process.env.LDN_LOG_REQUESTS = '1'; // request lines too: a URL must not carry a BSN into the log
      let databaseUrl: string | undefined;
      if (backend === 'postgres') {
        const db = await createDatabase();
        databaseUrl = db.url;
        drop = db.drop;
      }
      const dir = mkdtempSync(join(tmpdir(), 'ldn-scan-'));
      sandbox = await startSandbox({ manifestPath: join(dir, 'sandbox.json'), portBase: 0, databaseUrl, log: logged.log });
    });
    after(async () => {
      if (previous === undefined) delete process.env.LDN_LOG_REQUESTS;
      else process.env.LDN_LOG_REQUESTS = previous;
      await sandbox?.stop();
      await drop?.();
    });

    it('plays the story: overview in the viewer and by API, the citizen changes consent and reads her access log', async () => {
      const { browser, viewer } = await clinicianLogin(sandbox, BAKKER);
      try {
        assert.equal((await openOverview(browser, viewer, DE_GROOT.bsn)).status, 200);
      } finally {
        await browser.close();
      }
      const verklaring = await clinicianVerklaring(sandbox, BAKKER);
      assert.equal(liveCredential(verklaring), 'verklaring', 'the scanner recognises a live verklaring');
      assert.equal((await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn })).status, 200);
      const { browser: citizen, base } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
      try {
        const consent = await citizen.request(`${base}/consent`);
        const csrf = /name="csrf" value="([^"]+)"/.exec(consent.body)?.[1];
        assert.ok(csrf, 'the consent page has a form');
        const saved = await citizen.request(`${base}/consent`, { form: { csrf: csrf!, provision: 'deny', scope: 'category', category: 'AllergyIntolerance' } });
        assert.equal(saved.status, 303, saved.body.slice(0, 300));
        assert.equal((await citizen.request(`${base}/access`)).status, 200);
        assert.equal((await citizen.request(`${base}/data`)).status, 200);
      } finally {
        await citizen.close();
      }
      // Let the outboxes deliver what they queued (access events to the transparency log).
      await new Promise((r) => setTimeout(r, 3000));
    });

    it('finds no BSN outside the EHRs and the consent registry, and no live credential, in any table', async () => {
      const stores = new Map<Store, string>();
      for (const s of sandbox.services) if (!stores.has(s.store)) stores.set(s.store, s.name);
      for (const [ura, s] of sandbox.ehr.stores) if (!stores.has(s)) stores.set(s, `ehr ${ura}`);
      // On PostgreSQL every store sees every schema of the one database: scan it once.
      const toScan = backend === 'postgres' ? [[...stores.entries()][0]] : [...stores.entries()];
      const findings: Finding[] = [];
      for (const [store, label] of toScan) findings.push(...(await scanStore(store, label)));
      // The scan sees BSNs where they belong (else it would prove nothing)...
      assert.ok(findings.some((f) => f.allowed && f.where.includes(' ehr_')), 'the EHR tables hold the cast');
      assert.ok(findings.some((f) => f.allowed && f.where.includes(' consent.')), 'the consent registry holds the changed consent');
      // ...and nowhere else.
      const unique = [...new Map(findings.filter((f) => !f.allowed).map((f) => [`${f.where} ${f.what}`, f])).values()];
      assert.deepEqual(unique, [], unique.map((f) => `${f.where}: ${f.what}`).join('\n'));
    });

    it('finds no BSN and no live credential in any log line', () => {
      assert.ok(logged.raw.length > 50, `the story was logged (${logged.raw.length} lines)`);
      assert.ok(logged.raw.some((l) => l.includes('request completed')), 'request lines were logged');
      const bad: string[] = [];
      for (const line of logged.raw) {
        for (const bsn of BSNS) if (line.includes(bsn)) bad.push(`BSN ${bsn}: ${line.slice(0, 200)}`);
        for (const jwt of line.match(JWT) ?? []) {
          const kind = liveCredential(jwt);
          if (kind) bad.push(`live ${kind}: ${line.slice(0, 200)}`);
        }
      }
      assert.deepEqual(bad, []);
    });
  });
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const { default: pg } = await import('pg');
  const { randomBytes } = await import('node:crypto');
  const { TEST_DATABASE_URL } = await import('../../src/kit/testing/backends.ts');
  const name = `ldn_scan_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await c.end();
    },
  };
}
