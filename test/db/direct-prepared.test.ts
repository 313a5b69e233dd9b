// src/db/direct-prepared.ts against real PostgreSQL: the hot statement sent to the pool's read pool
// gives what Slonik's own path gives (rows, type parsers, the column check, the errors).
import t from 'tap';
import { sql, type DatabasePool } from 'slonik';
import { anyPrepared, preparedFamily } from '../../src/db/direct-prepared.ts';
import { isDatabaseUnavailable } from '../../src/db/database-errors.ts';
import { exactColumns } from '../../src/db/exact-columns.ts';
import { createDatabasePool } from '../../src/db/pool.ts';
import { createTestPool } from '../helpers/database.ts';
import { waitFor } from '../helpers/poll.ts';

type Row = { id: string; label: string | null; at: string; ok: boolean };
const row = exactColumns<Row>({ id: 'int8', label: 'text', at: 'timestamptz', ok: 'bool' });
const statement = (from: number) =>
  sql.prepared('direct_prepared_test', row)`
    SELECT g::int8 * 1000000000000 AS id, CASE WHEN g % 3 = 0 THEN NULL ELSE 'n' || g END AS label,
           timestamptz '2026-11-26 10:00:00.123456+00' + g * interval '1 second' AS at, g % 2 = 0 AS ok
    FROM generate_series(${from}::int, ${from}::int + 4) g`;

t.test('the same rows, byte for byte, as Slonik gives for the same prepared statement', async (t) => {
  const { pool } = await createTestPool(t, 3);
  const direct = await anyPrepared(pool, statement(1));
  const slonik = await pool.any(statement(1));
  t.equal(JSON.stringify(direct), JSON.stringify(slonik));
  t.same(direct[0], { id: '1000000000000', label: 'n1', at: '2026-11-26T10:00:01.123Z', ok: false }, 'int8 as text, timestamptz as RFC 3339 UTC');
  t.equal(direct[2]?.label, null);
  t.same(Object.keys(direct[0]!), ['id', 'label', 'at', 'ok'], 'a plain object with the declared columns in order');
  // Both paths, every connection of the pool, one statement name: pg's per-connection cache is shared.
  const mixed = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? anyPrepared(pool, statement(i)) : pool.any(statement(i)))));
  t.same(mixed.map((rows) => rows[0]?.id), Array.from({ length: 30 }, (_, i) => `${i * 1_000_000_000_000}`));
  t.same(await pool.transaction(async (tx) => (await anyPrepared(tx, statement(7)))[0]?.id), '7000000000000', 'inside a transaction, on its connection');
});

/** One int8 column: a backend's pid, or a count. */
const idColumn = exactColumns<{ id: string }>({ id: 'int8' });
const backendPid = sql.prepared('direct_backend_pid', idColumn)`SELECT pg_backend_pid()::int8 AS id`;
const isLive = async (observer: DatabasePool, pid: string) =>
  (await observer.any(sql.type(idColumn)`SELECT count(*)::int8 AS id FROM pg_stat_activity WHERE pid = ${pid}::int`))[0]?.id !== '0';

t.test('on a pool made by createDatabasePool the statement runs on its read pool (pg callback mode), not on a Slonik connection', async (t) => {
  const { pool } = await createTestPool(t, 1);
  const slonikPid = (await pool.one(sql.type(idColumn)`SELECT pg_backend_pid()::int8 AS id`)).id;
  const direct = await anyPrepared(pool, backendPid);
  t.not(direct[0]?.id, slonikPid, `another backend than the Slonik pool's only connection (${slonikPid})`);
  t.same(await pool.transaction(async (tx) => (await anyPrepared(tx, backendPid))[0]?.id), slonikPid, "inside a transaction: the transaction's own connection");
});

t.test("the read pool plans its statements once per connection (a generic plan), not on every execution", async (t) => {
  const { pool } = await createTestPool(t, 1);
  const mode = sql.prepared('direct_plan_cache_mode', exactColumns<{ mode: string }>({ mode: 'text' }))`SELECT current_setting('plan_cache_mode') AS mode`;
  t.same(await anyPrepared(pool, mode), [{ mode: 'force_generic_plan' }]);
});

t.test('an idle read-pool connection the server ends does not take the process down, and the statement gets a new one', async (t) => {
  const { pool } = await createTestPool(t, 1);
  const first = (await anyPrepared(pool, backendPid))[0]!.id;
  await pool.any(sql.type(exactColumns<{ ok: boolean }>({ ok: 'bool' }))`SELECT pg_terminate_backend(${first}::int) AS ok`);
  await waitFor(async () => !(await isLive(pool, first)), 'the terminated backend is gone');
  // The pool may hand out the dead connection once more before it has noticed: that statement is
  // "database unavailable" (503), never another failure; a later one runs on a new connection.
  let next: string | undefined;
  await waitFor(async () => {
    try {
      next = (await anyPrepared(pool, backendPid))[0]!.id;
      return true;
    } catch (error) {
      t.ok(isDatabaseUnavailable(error), `a statement on the dead connection is unavailable: ${(error as Error).message}`);
      return false;
    }
  }, 'a statement on a new read connection');
  t.not(next, first, 'a new backend answers');
});

t.test("ending the pool ends its read pool: the read connection closes and the pool's statements are refused", async (t) => {
  const { database, pool: observer } = await createTestPool(t, 1);
  const pool = await createDatabasePool(database.url, 1);
  const pid = (await anyPrepared(pool, backendPid))[0]!.id;
  t.ok(await isLive(observer, pid), 'the read connection is open');
  await pool.end();
  await t.rejects(anyPrepared(pool, backendPid), /end on the pool/, 'the ended read pool refuses the statement');
  await waitFor(async () => !(await isLive(observer, pid)), 'the read connection is closed');
});

t.test('the column check still fails a result that does not have the declared columns', async (t) => {
  const { pool } = await createTestPool(t, 1);
  const table: Array<[string, ReturnType<ReturnType<typeof sql.prepared<typeof row>>>, RegExp]> = [
    ['a wrong type', sql.prepared('direct_wrong_type', row)`SELECT 1::int4 AS id, 'x' AS label, now() AS at, true AS ok`, /column id has type oid 23, declared int8/],
    ['a missing column', sql.prepared('direct_missing', row)`SELECT 1::int8 AS id, 'x' AS label, now() AS at`, /3 columns, 4 declared/],
    ['an undeclared column', sql.prepared('direct_extra', row)`SELECT 1::int8 AS id, 'x' AS label, now() AS at, true AS ok, 1 AS x`, /column x is not declared/],
    // Rows are read as arrays and built in the declared order (ExactColumns.fromArray): another order would swap values.
    ['the columns in another order', sql.prepared('direct_order', row)`SELECT 'x' AS label, 1::int8 AS id, now() AS at, true AS ok`, /column label is at position 1, declared at 2/],
  ];
  for (const [name, query, message] of table) {
    await t.rejects(anyPrepared(pool, query), message, name);
  }
  t.equal((await anyPrepared(pool, statement(1))).length, 5, 'the pool still serves afterwards');
  await t.rejects(anyPrepared(pool, sql.type(row)`SELECT 1`), /named prepared statements only/, 'an unnamed statement is refused');
});

t.test('a connection lost under the statement is "database unavailable" (503), and the pool recovers', async (t) => {
  const { pool } = await createTestPool(t, 1);
  const suicide = sql.prepared('direct_terminate', exactColumns<{ gone: boolean }>({ gone: 'bool' }))`SELECT pg_terminate_backend(pg_backend_pid()) AS gone`;
  const failure = await anyPrepared(pool, suicide).catch((error: unknown) => error);
  t.ok(failure instanceof Error, 'the statement fails');
  t.ok(isDatabaseUnavailable(failure), `mapped as unavailable: ${(failure as Error).message}`);
  t.equal((await anyPrepared(pool, statement(2)))[0]?.id, '2000000000000', 'the next statement gets a new connection');
});

t.test('a prepared family builds its SQL once per name and checks its values against the SQL the first time', async (t) => {
  const { pool } = await createTestPool(t, 2);
  let built = 0;
  const family = (values: (args: { from: number; step?: number }) => unknown[]) =>
    preparedFamily<{ from: number; step?: number }, Row>({
      name: (args) => `direct_family_${args.step === undefined ? 'plain' : 'step'}`,
      token: (args) => {
        built += 1;
        const step = args.step === undefined ? sql.fragment`1` : sql.fragment`${args.step}::int`;
        return sql.prepared(`direct_family_${args.step === undefined ? 'plain' : 'step'}`, row)`
          SELECT (${args.from}::int * ${step})::int8 AS id, 'x' AS label, timestamptz '2026-11-26 10:00:00+00' AS at, true AS ok`;
      },
      values,
    });
  const good = family((args) => (args.step === undefined ? [args.from] : [args.from, args.step]));
  t.same((await good(pool, { from: 3 }))[0]?.id, '3');
  t.same((await good(pool, { from: 4 }))[0]?.id, '4', 'new values, the SQL of the first call');
  t.same((await good(pool, { from: 4, step: 5 }))[0]?.id, '20', 'another shape, another name');
  t.same((await good(pool, { from: 6, step: 7 }))[0]?.id, '42');
  t.equal(built, 2, 'the SQL was built once per name');
  t.same(await pool.transaction(async (tx) => (await good(tx, { from: 8, step: 2 }))[0]?.id), '16', 'in a transaction: Slonik\'s path');
  const drifted = family((args) => [args.step ?? 1, args.from]);
  await t.rejects(drifted(pool, { from: 2, step: 9 }), /values of direct_family_step do not match/, 'values in the wrong order are caught on the first call');
});
