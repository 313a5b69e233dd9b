import {
  createBigintTypeParser,
  createPool,
  createTypeParserPreset,
  SchemaValidationError,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
} from 'slonik';
import pg from 'pg';

import { attachReadPool } from './direct-prepared.ts';
import { isExactColumns } from './exact-columns.ts';
import { timestamptzToIso } from './timestamptz.ts';

export type { DatabasePool };

/**
 * Validates every row of a `sql.type(zodSchema)` query against its schema. Synchronous on purpose:
 * Slonik runs `transformRowAsync` through a p-queue with one promise per row, which cost more than
 * the zod parse itself on a 51-row history page; `transformRow` is a plain loop over the rows.
 * Parley's row schemas have no async refinements, so the standard-schema validate returns
 * synchronously; a schema that needs async validation fails loudly here instead of passing unchecked.
 */
const resultParserInterceptor: Interceptor = {
  name: 'result-parser',
  transformRow: (queryContext, query, row, fields) => {
    const parser = queryContext.resultParser;
    if (!parser) return row;
    // Hot queries whose SQL guarantees the shape: the column list once per result, not each row.
    if (isExactColumns(parser)) {
      parser.check(fields);
      return row;
    }
    const result = parser['~standard'].validate(row);
    if (result instanceof Promise) {
      throw new TypeError('Row schemas must validate synchronously (no async refinements in sql.type schemas).');
    }
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as QueryResultRow;
  },
};

/** int8 ids are snowflakes: kept as decimal strings (JSON-safe, sortable when equal length). */
const int8AsText = (value: string): string => value;

/** timestamptz becomes an RFC 3339 UTC string, the wire format of the API. */
const typeParsers = [
  ...createTypeParserPreset().filter(
    (parser) => !['int8', 'timestamptz', 'timestamp'].includes(parser.name) && parser !== createBigintTypeParser(),
  ),
  { name: 'int8', parse: int8AsText },
  { name: 'timestamptz', parse: timestamptzToIso },
  { name: 'timestamp', parse: (value: string) => new Date(`${value}Z`).toISOString() },
];

/** OIDs of the types whose parsing differs from pg's default (the ones ExactColumns declares). */
const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/**
 * The read pool of the hot prepared statements (src/db/direct-prepared.ts): a `pg.Pool` of the
 * same URL and size as the Slonik pool, with its timeouts (Slonik's defaults: connect 5 s,
 * statement 60 s, idle in transaction 60 s, idle 5 s) and its parsing of the column types a hot
 * statement may declare (src/db/exact-columns.ts: int8 as text, timestamptz as RFC 3339; text and
 * bool as pg parses them). Connections open on demand, so a process that serves no history page
 * opens none.
 */
function createReadPool(url: string, maximumPoolSize: number): pg.Pool {
  const readPool = new pg.Pool({
    connectionString: url,
    max: maximumPoolSize,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 5_000,
    statement_timeout: 60_000,
    idle_in_transaction_session_timeout: 60_000,
    allowExitOnIdle: true,
    // The read pool runs only the hot statements (fixed shapes: a channel, a bound, a page size),
    // whose good plan does not depend on the values. Left to choose, PostgreSQL kept re-planning
    // the history page with a `before` bound on every execution (0.47 ms of planning for 0.2 ms of
    // execution; its generic estimate of `id < $4` looked worse than the custom plans), which
    // doubled PostgreSQL's CPU per deep page (bench/analysis.md, history, round 5).
    options: '-c plan_cache_mode=force_generic_plan',
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === INT8_OID ? int8AsText : oid === TIMESTAMPTZ_OID ? timestamptzToIso : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that breaks (a restart) is dropped by the pool; the next query opens another
  // and a failing one is mapped to 503 by its caller. Without a listener the event would crash.
  readPool.on('error', () => {});
  return readPool;
}

export async function createDatabasePool(url: string, maximumPoolSize: number): Promise<DatabasePool> {
  const pool = await createSlonikPool(url, maximumPoolSize);
  const readPool = createReadPool(url, maximumPoolSize);
  attachReadPool(pool, readPool);
  // One end() closes both: every caller (the database plugin, the tests) ends the pool it made.
  const endSlonik = pool.end.bind(pool);
  return Object.assign(pool, {
    end: async () => {
      await Promise.all([endSlonik(), readPool.end()]);
    },
  });
}

async function createSlonikPool(url: string, maximumPoolSize: number): Promise<DatabasePool> {
  return createPool(url, {
    maximumPoolSize,
    interceptors: [resultParserInterceptor],
    typeParsers,
    captureStackTrace: false,
    // Slonik's default runs `DISCARD ALL` on every release: one extra round trip per query and
    // per transaction. Parley keeps no session state on a connection (no SET outside a
    // transaction, no session advisory locks, temp tables or LISTEN; LISTEN has its own client,
    // src/plugins/auth-cache-plugin.ts), and slonik ends every transaction with COMMIT or
    // ROLLBACK, so there is nothing to reset. The one kind of state kept on purpose is the hot
    // queries' named prepared statements (`sql.prepared`): `pg` remembers per connection which
    // names it has parsed, so a reset that dropped them (DISCARD ALL / DEALLOCATE) would break
    // those queries. Anything that starts keeping other session state must reset it itself.
    resetConnection: async () => {},
  });
}
