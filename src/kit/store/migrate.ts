import type { Migration, Store } from './store.ts';

// Versioned migrations per part. Each runs in its own transaction together with its
// bookkeeping row, under an advisory lock so that several instances starting at once
// on one PostgreSQL apply each migration exactly once.

export async function migrate(store: Store, migrations: readonly Migration[]): Promise<string[]> {
  const ids = migrations.map((m) => m.id);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate migration id in ${store.schema}`);
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id));
  await store.query(
    'CREATE TABLE IF NOT EXISTS ldn_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  for (const m of sorted) {
    const done = await store.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${store.schema}:migrations`]);
      const seen = await tx.query('SELECT 1 FROM ldn_migrations WHERE id = $1', [m.id]);
      if (seen.length > 0) return false;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO ldn_migrations (id) VALUES ($1)', [m.id]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  return applied;
}

/** Splits a migration on semicolons at line ends; keep function bodies ($$…$$) on one statement. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    const dollars = line.split('$$').length - 1;
    if (dollars % 2 === 1) inDollar = !inDollar;
    current += `${line}\n`;
    if (!inDollar && /;\s*(--.*)?$/.test(line)) {
      if (current.trim().replace(/;$/, '').trim()) out.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out;
}
