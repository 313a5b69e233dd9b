import t from 'tap';
import { SchemaValidationError, sql } from 'slonik';
import { z } from 'zod';
import { exactColumns, isExactColumns } from '../../src/db/exact-columns.ts';
import { createTestPool } from '../helpers/database.ts';

const numberRow = z.object({ n: z.number() });
const transformed = z.object({ n: z.number().transform((value) => value * 2) });

t.test('the row parser validates every row synchronously and applies transforms', async (t) => {
  const { pool } = await createTestPool(t, 2);
  t.same(await pool.any(sql.type(numberRow)`SELECT g AS n FROM generate_series(1, 3) g`), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  t.same(await pool.one(sql.type(transformed)`SELECT 21 AS n`), { n: 42 }, 'the parsed value replaces the row');
  const failure = await pool.any(sql.type(numberRow)`SELECT 1 AS n UNION ALL SELECT NULL`).catch((error: unknown) => error);
  t.ok(failure instanceof SchemaValidationError, 'one bad row fails the query');
});

t.test('named prepared statements survive reuse on every pooled connection and inside transactions', async (t) => {
  const { pool } = await createTestPool(t, 3);
  const query = (n: number) => sql.prepared('pool_test_echo', numberRow)`SELECT ${n}::int AS n`;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.one(query(i))));
  t.same(results.map((row) => row.n), Array.from({ length: 20 }, (_, i) => i));
  t.same(await pool.transaction(async (tx) => [await tx.one(query(7)), await tx.one(query(8))]), [{ n: 7 }, { n: 8 }]);
});

t.test('exact columns: the column list is checked once per result instead of each row (names and types)', async (t) => {
  const { pool } = await createTestPool(t, 2);
  const row = exactColumns<{ id: string; label: string; at: string; ok: boolean }>({ id: 'int8', label: 'text', at: 'timestamptz', ok: 'bool' });
  const rows = await pool.any(
    sql.prepared('exact_columns_test', row)`
      SELECT g::int8 AS id, 'n' || g AS label, timestamptz '2026-11-26 10:00:00.5+00' AS at, g % 2 = 0 AS ok
      FROM generate_series(1, 3) g`,
  );
  t.same(rows, [
    { id: '1', label: 'n1', at: '2026-11-26T10:00:00.500Z', ok: false },
    { id: '2', label: 'n2', at: '2026-11-26T10:00:00.500Z', ok: true },
    { id: '3', label: 'n3', at: '2026-11-26T10:00:00.500Z', ok: false },
  ]);
  const table: Array<[name: string, query: ReturnType<ReturnType<typeof sql.type<typeof row>>>, message: RegExp]> = [
    ['a wrong type', sql.type(row)`SELECT 1::int4 AS id, 'x' AS label, now() AS at, true AS ok`, /column id has type oid 23, declared int8/],
    ['a missing column', sql.type(row)`SELECT 1::int8 AS id, 'x' AS label, now() AS at`, /3 columns, 4 declared/],
    ['an undeclared column', sql.type(row)`SELECT 1::int8 AS id, 'x' AS label, now() AS at, true AS ok, 1 AS extra`, /column extra is not declared/],
  ];
  for (const [name, query, message] of table) {
    const failure = await pool.any(query).catch((error: unknown) => error);
    t.match((failure as Error).message, message, name);
  }
});

t.test('exact columns: the check itself (table)', async (t) => {
  const row = exactColumns<{ a: string; b: boolean }>({ a: 'text', b: 'bool' });
  const fields = [
    { name: 'a', dataTypeId: 25 },
    { name: 'b', dataTypeId: 16 },
  ];
  t.doesNotThrow(() => row.check(fields), 'exact');
  t.doesNotThrow(() => row.check(fields), 'the same list again (cached)');
  t.throws(() => row.check([{ name: 'a', dataTypeId: 25 }]), /1 columns, 2 declared/);
  t.throws(() => row.check([{ name: 'a', dataTypeId: 25 }, { name: 'b', dataTypeId: 25 }]), /column b has type oid 25, declared bool/);
  t.throws(() => row.check([{ name: 'a', dataTypeId: 25 }, { name: 'c', dataTypeId: 16 }]), /column c is not declared/);
  t.ok(isExactColumns(row));
  t.notOk(isExactColumns(z.object({})), 'a zod schema is not one');
});
