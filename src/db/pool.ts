import {
  createBigintTypeParser,
  createPool,
  createTypeParserPreset,
  SchemaValidationError,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
} from 'slonik';

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

/**
 * int8 ids are snowflakes: keep them as decimal strings (JSON-safe, sortable when equal length).
 * timestamptz becomes an RFC 3339 UTC string, the wire format of the API.
 */
const typeParsers = [
  ...createTypeParserPreset().filter(
    (parser) => !['int8', 'timestamptz', 'timestamp'].includes(parser.name) && parser !== createBigintTypeParser(),
  ),
  { name: 'int8', parse: (value: string) => value },
  { name: 'timestamptz', parse: timestamptzToIso },
  { name: 'timestamp', parse: (value: string) => new Date(`${value}Z`).toISOString() },
];

export async function createDatabasePool(url: string, maximumPoolSize: number): Promise<DatabasePool> {
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
