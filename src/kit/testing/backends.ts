import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../store/migrate.ts';
import { openIsolatedPgliteStore } from '../store/pglite.ts';
import { openPostgresStore } from '../store/postgres.ts';
import type { Migration, Store } from '../store/store.ts';

// Store tests run on both backends: PGlite (PostgreSQL 18 in WASM) and a real PostgreSQL
// (15 on the development and CI machines). Where PostgreSQL is unreachable its run is skipped
// with a loud line instead of passing silently.

export const TEST_DATABASE_URL = process.env.LDN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | null = null;
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      console.warn(`\n!!! PostgreSQL at ${TEST_DATABASE_URL} is unreachable: PostgreSQL store tests are SKIPPED !!!\n`);
      return false;
    }
  })();
  return reachable;
}

export interface Backend {
  name: 'pglite' | 'postgres';
  /** Opens a fresh, empty store with the migrations applied. */
  open(schemaPrefix: string, migrations?: readonly Migration[]): Promise<Store>;
}

const pgliteBackend: Backend = {
  name: 'pglite',
  async open(prefix, migrations = []) {
    const store = await openIsolatedPgliteStore(prefix);
    await migrate(store, migrations);
    return store;
  },
};

const postgresBackend: Backend = {
  name: 'postgres',
  async open(prefix, migrations = []) {
    const schema = `${prefix}_t${randomBytes(4).toString('hex')}`;
    const store = await openPostgresStore(schema, TEST_DATABASE_URL, 4);
    await migrate(store, migrations);
    // Dropping the schema on close keeps the shared test database clean.
    const close = store.close.bind(store);
    return {
      ...store,
      schema,
      query: store.query,
      exec: store.exec,
      transaction: store.transaction,
      async close() {
        await store.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
        await close();
      },
    } satisfies Store;
  },
};

/** The backends to run store tests on: PGlite always, PostgreSQL when reachable. */
export async function backends(): Promise<Backend[]> {
  return (await postgresReachable()) ? [pgliteBackend, postgresBackend] : [pgliteBackend];
}
