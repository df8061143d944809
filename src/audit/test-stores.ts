import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate } from '../kit/store/migrate.ts';
import { openStore } from '../kit/store/open.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import type { Migration, Store } from '../kit/store/store.ts';

// Test helper: the same test body against PGlite (in memory) and PostgreSQL (unique schema,
// dropped afterwards). PostgreSQL is skipped, loudly, when it is not reachable.

export const TEST_DATABASE_URL = process.env.LDN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<boolean> | undefined;
export function postgresReachable(): Promise<boolean> {
  reachable ??= (async () => {
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 1500 });
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      console.log(`!!! PostgreSQL at ${TEST_DATABASE_URL} unreachable: PostgreSQL variants of audit tests SKIPPED`);
      return false;
    }
  })();
  return reachable;
}

export interface TestBackend {
  name: 'pglite' | 'postgres';
  open(migrations: readonly Migration[]): Promise<Store>;
}

export const BACKENDS: TestBackend[] = [
  {
    name: 'pglite',
    async open(migrations) {
      const store = await openIsolatedPgliteStore(`audit_t_${randomBytes(4).toString('hex')}`);
      await migrate(store, migrations);
      return store;
    },
  },
  {
    name: 'postgres',
    async open(migrations) {
      const schema = `audit_t_${randomBytes(6).toString('hex')}`;
      const store = await openStore({ schema, databaseUrl: TEST_DATABASE_URL, poolSize: 8 }, migrations);
      const close = store.close.bind(store);
      return {
        ...store,
        query: store.query.bind(store),
        transaction: store.transaction.bind(store),
        exec: store.exec.bind(store),
        async close() {
          await store.exec(`DROP SCHEMA ${schema} CASCADE`);
          await close();
        },
      } as Store;
    },
  },
];
