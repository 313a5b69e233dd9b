import type { CommonQueryMethods, DatabasePool, QuerySqlToken } from 'slonik';
import type { ExactColumns } from './exact-columns.ts';

/**
 * The hot path's way to run one named prepared statement: on a connection of the same Slonik pool
 * (its size, connection timeout, statement timeout, idle handling), sent straight to that
 * connection's driver client, without Slonik's per-query pipeline.
 *
 * Why: that pipeline (a logger child and a query id per query, the AsyncLocalStorage transaction
 * lookup, the interceptor loops, the row transform loop) was ~85 µs and a good part of the garbage
 * of a history page whose statement is fixed and whose result is checked by column anyway.
 *
 * What stays the same as `db.any(sql.prepared(...))`:
 * - the connection: `pool.connect` acquires and releases it exactly as an implicit query does
 *   (a failed statement destroys it, as there);
 * - the bytes: the driver client is the one Slonik configured, with the pool's type parsers
 *   (src/db/pool.ts: int8 as text, timestamptz as RFC 3339), and rows are returned as it built them;
 * - the result check: the statement's ExactColumns checks the columns once per result, as the
 *   result-parser interceptor does;
 * - the errors: the driver wraps pg's errors in Slonik's (the original as `cause`), so
 *   src/db/database-errors.ts maps a lost database to 503 as before;
 * - the prepared statement: pg keeps one per connection by name, shared with Slonik's path.
 * Inside a transaction (`db` is not the pool) the statement takes Slonik's path on that
 * transaction's connection, with all of its checks.
 */

/** The part of Slonik's driver client (@slonik/driver) used here. */
interface DriverClient {
  query(
    sql: string,
    values: readonly unknown[],
    options?: { name?: string },
  ): Promise<{ fields: readonly { name: string; dataTypeId: number }[]; rows: readonly unknown[] }>;
}

/** A prepared statement's token: `sql.prepared(name, exactColumns(...))\`...\`` (a name is required). */
export type PreparedToken<Row> = QuerySqlToken<ExactColumns<Row>>;

const isPool = (db: CommonQueryMethods): db is DatabasePool => typeof (db as Partial<DatabasePool>).connect === 'function';

/**
 * The driver client behind a connection Slonik handed to `pool.connect` (its bound connection
 * keeps it as `connection`). Checked, so that a Slonik upgrade that moves it fails here, loudly,
 * not with a wrong result (test/db/direct-prepared.test.ts runs this against real PostgreSQL).
 */
function driverClientOf(connection: unknown): DriverClient {
  const client = (connection as { connection?: Partial<DriverClient> }).connection;
  if (!client || typeof client.query !== 'function') {
    throw new TypeError('Slonik no longer exposes the pooled connection\'s driver client as `connection`: see src/db/direct-prepared.ts.');
  }
  return client as DriverClient;
}

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

/** Every row of the prepared statement `token`, its columns checked once; see above. */
export async function anyPrepared<Row>(db: CommonQueryMethods, token: PreparedToken<Row>): Promise<readonly Row[]> {
  const { name } = token;
  if (name === undefined) throw new TypeError('anyPrepared runs named prepared statements only (sql.prepared).');
  if (!isPool(db)) return (await db.any(token)) as readonly Row[];
  return runOnPool(db, name, token, token.values);
}

function runOnPool<Row>(pool: DatabasePool, name: string, token: PreparedToken<Row>, values: readonly unknown[]): Promise<readonly Row[]> {
  const text = pgTextOf(name, token.sql);
  return pool.connect(async (connection) => {
    const result = await driverClientOf(connection).query(text, values, { name });
    token.parser.check(result.fields);
    return result.rows as readonly Row[];
  });
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
