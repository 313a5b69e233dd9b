import {
  createBigintTypeParser,
  createPool,
  createTypeParserPreset,
  SchemaValidationError,
  type DatabasePool,
  type Interceptor,
  type QueryResultRow,
} from 'slonik';

export type { DatabasePool };

/** Validates every row of a `sql.type(zodSchema)` query against its schema. */
const resultParserInterceptor: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (queryContext, query, row) => {
    const parser = queryContext.resultParser;
    if (!parser) return row;
    const result = await parser['~standard'].validate(row);
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
  { name: 'timestamptz', parse: (value: string) => new Date(value).toISOString() },
  { name: 'timestamp', parse: (value: string) => new Date(`${value}Z`).toISOString() },
];

export async function createDatabasePool(url: string, maximumPoolSize: number): Promise<DatabasePool> {
  return createPool(url, {
    maximumPoolSize,
    interceptors: [resultParserInterceptor],
    typeParsers,
    captureStackTrace: false,
  });
}
