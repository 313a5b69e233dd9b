import type pg from 'pg';
import type { CommonQueryMethods, DatabasePool, QuerySqlToken } from 'slonik';
import type { ExactColumns } from './exact-columns.ts';

/**
 * The hot path's way to run one named prepared statement: on the pool's read pool (a `pg.Pool` of
 * the same size, URL and timeouts as the Slonik pool, src/db/pool.ts), through pg's callback-mode
 * query, without Slonik's per-query pipeline.
 *
 * Why: that pipeline (a logger child and a query id per query, the AsyncLocalStorage transaction
 * lookup, the interceptor loops, the row transform loop) was ~85 µs and a good part of the garbage
 * of a history page whose statement is fixed and whose result is checked by column anyway. And
 * Slonik's driver awaits pg's promise-mode query, under which a page's rows were promoted to V8's
 * old generation: 116–163 µs of GC per history page, against 47–60 µs for the same statement
 * through pg's callback mode in the same process (bench/analysis.md, history, round 4).
 *
 * What stays the same as `db.any(sql.prepared(...))`:
 * - the bytes: the read pool has the Slonik pool's type parsers for what a hot statement returns
 *   (int8 as text, timestamptz as RFC 3339 UTC; text and bool as pg parses them); pg gives each row
 *   as an array and the statement's ExactColumns builds the object, with the declared columns in
 *   the declared order (test/db/direct-prepared.test.ts compares both paths byte for byte);
 * - the result check: the statement's ExactColumns checks the columns once per result, as the
 *   result-parser interceptor does;
 * - the errors: pg's own, which src/db/database-errors.ts maps (a lost database is 503);
 * - the prepared statement: pg keeps one per connection by name.
 * Inside a transaction (`db` is not the pool) the statement takes Slonik's path on that
 * transaction's connection, with all of its checks. A pool not made by createDatabasePool has no
 * read pool and is refused.
 */

/** A prepared statement's token: `sql.prepared(name, exactColumns(...))\`...\`` (a name is required). */
export type PreparedToken<Row> = QuerySqlToken<ExactColumns<Row>>;

const isPool = (db: CommonQueryMethods): db is DatabasePool => typeof (db as Partial<DatabasePool>).connect === 'function';

/**
 * Slonik writes its placeholders `$slonik_N` and rewrites them to `$N` per query; here once per
 * statement name (a name has one text: pg refuses a second text under a name it has prepared).
 */
const pgTexts = new Map<string, string>();
const pgTextOf = (name: string, sql: string): string => {
  let text = pgTexts.get(name);
  if (text === undefined) {
    text = sql.replaceAll('$slonik_', '$');
    pgTexts.set(name, text);
  }
  return text;
};

/** The read pool of each Slonik pool that has one (attached by src/db/pool.ts). */
const readPools = new WeakMap<DatabasePool, pg.Pool>();

export function attachReadPool(pool: DatabasePool, readPool: pg.Pool): void {
  readPools.set(pool, readPool);
}

/** Every row of the prepared statement `token`, its columns checked once; see above. */
export async function anyPrepared<Row>(db: CommonQueryMethods, token: PreparedToken<Row>): Promise<readonly Row[]> {
  const { name } = token;
  if (name === undefined) throw new TypeError('anyPrepared runs named prepared statements only (sql.prepared).');
  if (!isPool(db)) return (await db.any(token)) as readonly Row[];
  return runOnPool(db, name, token, token.values);
}

async function runOnPool<Row>(pool: DatabasePool, name: string, token: PreparedToken<Row>, values: readonly unknown[]): Promise<readonly Row[]> {
  const readPool = readPools.get(pool);
  if (readPool === undefined) throw new TypeError('anyPrepared runs on a pool made by createDatabasePool (src/db/pool.ts), which attaches its read pool.');
  const text = pgTextOf(name, token.sql);
  // pool.query: pg runs the client's query in callback mode (see above for why that matters).
  // Rows as arrays, made into objects by the statement's own builder (ExactColumns.fromArray).
  const result = await readPool.query<unknown[]>({ name, text, values: values as unknown[], rowMode: 'array' });
  const { parser } = token;
  parser.check(result.fields.map((field) => ({ name: field.name, dataTypeId: field.dataTypeID })));
  const rows = new Array<Row>(result.rows.length);
  for (let index = 0; index < rows.length; index++) rows[index] = parser.fromArray(result.rows[index]!);
  return rows;
}

/**
 * A family of named prepared statements (one per shape of the arguments, e.g. direction and page
 * size) whose SQL is written with the sql tag but built once per name: on later calls only the
 * values are computed, which saves building the same ~1 KB of SQL text and its fragments on every
 * request. `values` must give what the sql tag puts in `token(args).values`, in order: the first
 * call of each name builds both and compares them, so a `values` that drifts from the SQL fails
 * that call instead of binding wrong parameters.
 */
export interface PreparedFamily<Args, Row> {
  name(args: Args): string;
  token(args: Args): PreparedToken<Row>;
  values(args: Args): readonly unknown[];
}

export function preparedFamily<Args, Row>(family: PreparedFamily<Args, Row>): (db: CommonQueryMethods, args: Args) => Promise<readonly Row[]> {
  const known = new Map<string, PreparedToken<Row>>();
  return async (db, args) => {
    const name = family.name(args);
    const seen = known.get(name);
    if (seen === undefined || !isPool(db)) {
      const token = family.token(args);
      if (token.name !== name) throw new TypeError(`The statement is named ${String(token.name)}, expected ${name}.`);
      const values = family.values(args);
      if (values.length !== token.values.length || values.some((value, index) => value !== token.values[index])) {
        throw new TypeError(`The values of ${name} do not match its SQL's (${token.values.length} parameters).`);
      }
      known.set(name, token);
      return anyPrepared(db, token);
    }
    return runOnPool(db, name, seen, family.values(args));
  };
}
