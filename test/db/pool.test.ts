import t from 'tap';
import { SchemaValidationError, sql } from 'slonik';
import { z } from 'zod';
import { createDatabasePool } from '../../src/db/pool.ts';
import { createTestDatabase } from '../helpers/database.ts';

const numberRow = z.object({ n: z.number() });
const transformed = z.object({ n: z.number().transform((value) => value * 2) });

t.test('the row parser validates every row synchronously and applies transforms', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const pool = await createDatabasePool(database.url, 2);
  t.teardown(() => pool.end());
  t.same(await pool.any(sql.type(numberRow)`SELECT g AS n FROM generate_series(1, 3) g`), [{ n: 1 }, { n: 2 }, { n: 3 }]);
  t.same(await pool.one(sql.type(transformed)`SELECT 21 AS n`), { n: 42 }, 'the parsed value replaces the row');
  const failure = await pool.any(sql.type(numberRow)`SELECT 1 AS n UNION ALL SELECT NULL`).catch((error: unknown) => error);
  t.ok(failure instanceof SchemaValidationError, 'one bad row fails the query');
});

t.test('named prepared statements survive reuse on every pooled connection and inside transactions', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const pool = await createDatabasePool(database.url, 3);
  t.teardown(() => pool.end());
  const query = (n: number) => sql.prepared('pool_test_echo', numberRow)`SELECT ${n}::int AS n`;
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.one(query(i))));
  t.same(results.map((row) => row.n), Array.from({ length: 20 }, (_, i) => i));
  t.same(await pool.transaction(async (tx) => [await tx.one(query(7)), await tx.one(query(8))]), [{ n: 7 }, { n: 8 }]);
});
