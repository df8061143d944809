import pg from 'pg';
import type { Queryable, QueryOptions, Row, Store } from './store.ts';
import { assertSchemaName } from './store.ts';

// Return int8 and numeric as JS numbers/strings consistently with PGlite: bigint counts
// come back as strings from both, so callers convert explicitly with Number().

export async function openPostgresStore(schema: string, databaseUrl: string, poolSize = 10): Promise<Store> {
  assertSchemaName(schema);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: poolSize,
    options: `-c search_path=${schema}`,
    // A database that stops answering fails a request (503 from readiness) instead of queueing it for ever.
    connectionTimeoutMillis: 5_000,
  });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => {});

  const query = async <T extends Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]> => {
    const values = params as unknown[] | undefined;
    const r = options?.prepare ? await pool.query({ name: options.prepare, text: sql, values }) : await pool.query(sql, values);
    return r.rows as T[];
  };

  return {
    schema,
    backend: 'postgres',
    query,
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = {
          query: async <R extends Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) =>
            (options?.prepare
              ? await client.query({ name: options.prepare, text: sql, values: params as unknown[] | undefined })
              : await client.query(sql, params as unknown[] | undefined)
            ).rows as R[],
        };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onMessage, onReconnect) {
      // One dedicated connection per listener: LISTEN belongs to a session, and pooled sessions come and go.
      let client: pg.Client | undefined;
      let stopped = false;
      let delay = 500;
      const connectOnce = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
        c.on('notification', (n) => {
          if (n.channel === channel) onMessage(n.payload ?? '');
        });
        c.on('error', () => {}); // 'end' follows; reconnect there
        c.on('end', () => {
          // Only a connection that was listening reconnects; a failed attempt is retried by reconnect().
          if (stopped || client !== c) return;
          client = undefined;
          setTimeout(() => void reconnect(), delay).unref();
        });
        await c.connect();
        await c.query(`LISTEN "${channel.replace(/"/g, '')}"`);
        client = c;
        delay = 500;
      };
      const reconnect = async (): Promise<void> => {
        if (stopped) return;
        try {
          await connectOnce();
          onReconnect?.();
        } catch {
          delay = Math.min(delay * 2, 30_000);
          setTimeout(() => void reconnect(), delay).unref();
        }
      };
      await connectOnce();
      return async () => {
        stopped = true;
        await client?.end().catch(() => {});
      };
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
}
