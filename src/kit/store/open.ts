import { migrate } from './migrate.ts';
import { openPgliteStore } from './pglite.ts';
import { openPostgresStore } from './postgres.ts';
import type { Migration, Store, StoreOptions } from './store.ts';

/** Opens the part's store on the configured backend and applies its migrations. */
export async function openStore(options: StoreOptions, migrations: readonly Migration[] = []): Promise<Store> {
  const store = options.databaseUrl
    ? await openPostgresStore(options.schema, options.databaseUrl, options.poolSize)
    : await openPgliteStore(options.schema, options.dataDir);
  try {
    await migrate(store, migrations);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

export type { Migration, Queryable, Row, Store, StoreOptions } from './store.ts';
