import { PGlite } from '@electric-sql/pglite';
import type { Queryable, Row, Store } from './store.ts';
import { assertSchemaName } from './store.ts';

// PGlite is one single-user connection and costs seconds and ~300 MB to create, so the
// sandbox shares one instance between all parts. A queue serialises access and switches
// search_path to the calling part's schema before its statements run; a transaction holds
// the queue for its whole duration, so statements of two parts never interleave.

interface Shared {
  db: PGlite;
  currentSchema: string | null;
  tail: Promise<unknown>;
  users: number;
}

const instances = new Map<string, Promise<Shared>>();

async function sharedInstance(dataDir: string | undefined): Promise<Shared> {
  const key = dataDir ?? 'memory://';
  let p = instances.get(key);
  if (!p) {
    p = PGlite.create(dataDir ?? undefined).then((db) => ({ db, currentSchema: null, tail: Promise.resolve(), users: 0 }));
    instances.set(key, p);
  }
  return p;
}

/** Creates a fresh, unshared in-memory PGlite (tests that want isolation). */
export async function openIsolatedPgliteStore(schema: string): Promise<Store> {
  const db = await PGlite.create();
  return wrap({ db, currentSchema: null, tail: Promise.resolve(), users: 0 }, schema, async () => {
    await db.close();
  });
}

export async function openPgliteStore(schema: string, dataDir?: string): Promise<Store> {
  const shared = await sharedInstance(dataDir);
  return wrap(shared, schema, async () => {
    shared.users -= 1;
    if (shared.users <= 0) {
      instances.delete(dataDir ?? 'memory://');
      await shared.tail.catch(() => {});
      await shared.db.close();
    }
  });
}

async function wrap(shared: Shared, schema: string, onClose: () => Promise<void>): Promise<Store> {
  assertSchemaName(schema);
  shared.users += 1;

  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = shared.tail.then(async () => {
      if (shared.currentSchema !== schema) {
        await shared.db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
        shared.currentSchema = schema;
      }
      return fn();
    });
    shared.tail = run.catch(() => {});
    return run;
  };

  const rawQuery = async <T extends Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const r = await shared.db.query<T>(sql, params as unknown[] | undefined);
    return r.rows;
  };

  let closed = false;
  return {
    schema,
    backend: 'pglite',
    query: (sql, params) => exclusive(() => rawQuery(sql, params)),
    exec: (sql) => exclusive(async () => void (await shared.db.exec(sql))),
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return exclusive(async () => {
        await shared.db.exec('BEGIN');
        try {
          const result = await fn({ query: rawQuery });
          await shared.db.exec('COMMIT');
          return result;
        } catch (err) {
          await shared.db.exec('ROLLBACK').catch(() => {});
          throw err;
        }
      });
    },
    async listen(channel, onMessage) {
      const unlisten = await exclusive(() => shared.db.listen(channel, onMessage));
      return async () => {
        if (!closed) await exclusive(() => unlisten());
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await onClose();
    },
  };
}
