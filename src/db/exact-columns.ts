/**
 * A row "schema" for hot queries whose SQL already guarantees the shape: instead of validating
 * every row with zod (a new object and a check per field per row: about 30 µs and its garbage on
 * a 51-row history page), the result's column list (names and PostgreSQL types, which the
 * RowDescription gives once per result) is checked once against the declared columns, and the rows
 * pass through as the driver built them. What the column list cannot show is guaranteed by the
 * schema in sql/: NOT NULL columns are never null, CHECK constraints bound the text values
 * (roles, channel types). Use only for selects of table columns whose constraints are those; where
 * a computed column or an outer join can add nulls, the row type must say so (as the history
 * page's does) and the caller must look before trusting a column.
 *
 * The result-parser interceptor (src/db/pool.ts) recognises these and calls `check`.
 */
export type ColumnType = 'int8' | 'text' | 'bool' | 'timestamptz';

/** PostgreSQL's fixed OIDs of the built-in types above. */
const OID: Record<ColumnType, number> = { int8: 20, text: 25, bool: 16, timestamptz: 1184 };

/** The Standard Schema shape (what `sql.prepared` takes; `types` carries the row type to Slonik's inference). */
interface StandardRowSchema<Row> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => { readonly value: Row };
    readonly types?: { readonly input: Row; readonly output: Row };
  };
}

export interface ExactColumns<Row> extends StandardRowSchema<Row> {
  readonly columns: Readonly<Record<string, ColumnType>>;
  /** Throws unless `fields` are exactly the declared columns with their types (checked once per result). */
  check(fields: readonly { name: string; dataTypeId: number }[]): void;
}

export function exactColumns<Row>(columns: { readonly [K in keyof Row]-?: ColumnType }): ExactColumns<Row> {
  const declared = columns as Readonly<Record<string, ColumnType>>;
  const names = Object.keys(declared);
  const checked = new WeakSet<object>();
  return {
    columns: declared,
    check(fields) {
      if (checked.has(fields)) return;
      const problems: string[] = [];
      if (fields.length !== names.length) problems.push(`${fields.length} columns, ${names.length} declared`);
      for (const field of fields) {
        const type = declared[field.name];
        if (type === undefined) problems.push(`column ${field.name} is not declared`);
        else if (OID[type] !== field.dataTypeId) problems.push(`column ${field.name} has type oid ${field.dataTypeId}, declared ${type}`);
      }
      if (problems.length > 0) throw new TypeError(`The result does not have the declared columns: ${problems.join('; ')}.`);
      checked.add(fields);
    },
    '~standard': {
      version: 1,
      vendor: 'parley-exact-columns',
      // The rows are checked by column (above), not one by one.
      validate: (value) => ({ value: value as Row }),
    },
  };
}

export function isExactColumns(parser: unknown): parser is ExactColumns<unknown> {
  return typeof parser === 'object' && parser !== null && typeof (parser as { check?: unknown }).check === 'function' && 'columns' in parser;
}
