/**
 * A row "schema" for hot queries whose SQL already guarantees the shape: instead of validating
 * every row with zod (a new object and a check per field per row: about 30 µs and its garbage on
 * a 51-row history page), the result's column list (names and PostgreSQL types, which the
 * RowDescription gives once per result) is checked once against the declared columns, and the rows
 * are not checked one by one (Slonik's path passes them as the driver built them; the read pool's
 * path, src/db/direct-prepared.ts, builds them with `fromArray`). What the column list cannot show is guaranteed by the
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
  /** Throws unless `fields` are exactly the declared columns, in the declared order, with their types (checked once per result). */
  check(fields: readonly { name: string; dataTypeId: number }[]): void;
  /** The row object of a result row read as an array (pg's `rowMode: 'array'`) whose fields passed `check`. */
  fromArray(values: readonly unknown[]): Row;
}

/**
 * One row builder per column list, compiled once: `(v) => ({ "id": v[0], "channel_id": v[1], ... })`.
 * Why not pg's own row objects: pg builds every row of every statement in one function with keyed
 * stores by column name, which a process that runs a hundred different statements makes
 * megamorphic (on a history page pg's parseRow took 47 µs per page in the process that had run
 * Parley's start-up, against 18 µs in one that had run fewer shapes; bench/analysis.md, history,
 * round 5). An object literal per column list has one shape, so each statement's rows are built
 * monomorphically. The names are the declared column names (code, never input), quoted by JSON.
 */
function compileRowBuilder<Row>(names: readonly string[]): (values: readonly unknown[]) => Row {
  const properties = names.map((name, index) => `${JSON.stringify(name)}: v[${index}]`).join(', ');
  return new Function('v', `return { ${properties} };`) as (values: readonly unknown[]) => Row;
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
      for (const [index, field] of fields.entries()) {
        const type = declared[field.name];
        if (type === undefined) problems.push(`column ${field.name} is not declared`);
        else if (names[index] !== field.name) problems.push(`column ${field.name} is at position ${index + 1}, declared at ${names.indexOf(field.name) + 1}`);
        else if (OID[type] !== field.dataTypeId) problems.push(`column ${field.name} has type oid ${field.dataTypeId}, declared ${type}`);
      }
      if (problems.length > 0) throw new TypeError(`The result does not have the declared columns: ${problems.join('; ')}.`);
      checked.add(fields);
    },
    fromArray: compileRowBuilder<Row>(names),
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
