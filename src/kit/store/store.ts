// One small storage interface over PGlite (embedded default) and PostgreSQL (production).
// Every part gets a Store bound to its own schema; SQL is written unqualified and runs
// with search_path set to that schema, so a part cannot touch another part's tables by accident.

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /**
   * A name for a server-side prepared statement (PostgreSQL; PGlite ignores it): parsed and planned
   * once per connection instead of on every call, for hot queries. One name, one SQL text.
   */
  prepare?: string;
}

export interface Queryable {
  /** Run one statement with $1..$n parameters; returns the rows. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
}

export interface Store extends Queryable {
  readonly schema: string;
  readonly backend: 'pglite' | 'postgres';
  /** Run fn inside one transaction; it commits when fn resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Run several statements separated by semicolons, without parameters (migrations, tests). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
  /**
   * LISTEN on a channel (PostgreSQL NOTIFY, also across processes; PGlite within this process).
   * `onReconnect` runs after a dropped listening connection is back: notifications may have been
   * missed meanwhile. Returns a function that stops listening.
   */
  listen?(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  /** Connection pool figures (PostgreSQL), for metrics. */
  stats?(): { total: number; idle: number; waiting: number };
}

export interface Migration {
  /** Sortable, never renamed once shipped, e.g. "001_referrals". */
  id: string;
  sql: string;
}

export interface StoreOptions {
  /** Part schema, e.g. "nvi". Only [a-z_][a-z0-9_]* is accepted. */
  schema: string;
  /** postgres://… to use PostgreSQL; otherwise PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; omitted means in memory. */
  dataDir?: string;
  /** Max connections in the PostgreSQL pool. */
  poolSize?: number;
}

export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
}
