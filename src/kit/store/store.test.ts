import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backends } from '../testing/backends.ts';
import { migrate, splitStatements } from './migrate.ts';

const migrations = [
  { id: '001_items', sql: 'CREATE TABLE items (id text PRIMARY KEY, n int NOT NULL, doc jsonb);\nCREATE INDEX items_n ON items (n);' },
  {
    id: '002_fn',
    sql: `CREATE FUNCTION bump(x int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  RETURN x + 1;
END;
$$;`,
  },
];

for (const backend of await backends()) {
  describe(`store on ${backend.name}`, () => {
    it('applies migrations once and records them', async () => {
      const store = await backend.open('kit_store', migrations);
      try {
        assert.deepEqual(await migrate(store, migrations), []);
        const rows = await store.query<{ id: string }>('SELECT id FROM ldn_migrations ORDER BY id');
        assert.deepEqual(rows.map((r) => r.id), ['001_items', '002_fn']);
        const [{ v }] = await store.query<{ v: number }>('SELECT bump(41) AS v');
        assert.equal(v, 42);
      } finally {
        await store.close();
      }
    });

    it('answers a named (prepared) query like the plain one, on the pool and in a transaction, many times over', async () => {
      const store = await backend.open('kit_store', migrations);
      try {
        await store.query('INSERT INTO items (id, n) VALUES ($1, $2), ($3, $4)', ['p1', 7, 'p2', 8]);
        const sql = 'SELECT id FROM items WHERE n = ANY($1::int[]) ORDER BY id';
        // Past PostgreSQL's five custom plans, so a generic plan answers too.
        for (let i = 0; i < 8; i++) {
          const ns = i % 2 === 0 ? [7] : [7, 8];
          const prepared = await store.query<{ id: string }>(sql, [ns], { prepare: 'kit_store_items_by_n' });
          assert.deepEqual(prepared, await store.query<{ id: string }>(sql, [ns]));
        }
        const inTx = await store.transaction((tx) => tx.query<{ id: string }>(sql, [[8]], { prepare: 'kit_store_items_by_n' }));
        assert.deepEqual(inTx.map((r) => r.id), ['p2']);
      } finally {
        await store.close();
      }
    });

    it('commits a transaction and rolls a failing one back completely', async () => {
      const store = await backend.open('kit_store', migrations);
      try {
        await store.transaction(async (tx) => {
          await tx.query('INSERT INTO items (id, n, doc) VALUES ($1, $2, $3)', ['a', 1, { x: 1 }]);
        });
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.query('INSERT INTO items (id, n) VALUES ($1, $2)', ['b', 2]);
            await tx.query('INSERT INTO items (id, n) VALUES ($1, $2)', ['a', 3]); // duplicate key
          }),
        );
        const rows = await store.query<{ id: string; doc: { x: number } }>('SELECT id, doc FROM items ORDER BY id');
        assert.deepEqual(rows.map((r) => r.id), ['a']);
        assert.equal(rows[0].doc.x, 1);
      } finally {
        await store.close();
      }
    });
  });
}

describe('splitStatements', () => {
  it('keeps dollar-quoted bodies whole and never loses text', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z ]{1,12}$/), { minLength: 1, maxLength: 6 }), (words) => {
        const sql = words.map((w) => `SELECT '${w}';`).join('\n');
        const parts = splitStatements(sql);
        assert.equal(parts.length, words.length);
        assert.equal(parts.join('\n'), sql);
      }),
    );
    assert.equal(splitStatements(migrations[1].sql).length, 1);
  });
});
