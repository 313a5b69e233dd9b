/**
 * The response schemas as fast-json-stringify should see them. The contract writes a nullable
 * value as `oneOf: [<schema>, {type: null}]` (the only way to say "a Snowflake or null" with a $ref
 * in OpenAPI 3.1); fast-json-stringify serialises a oneOf by running an Ajv validation of each
 * option against the value until one matches: for a non-null id that is the Snowflake pattern, for
 * a timestamp the date-time format, per field of every row of every response (three per message).
 * Here such a oneOf of a single-type schema and null becomes that schema with `type: [T, 'null']`,
 * which serialises the same bytes for every value the contract allows, without validating: the
 * serializer never validates elsewhere either (a Snowflake outside a oneOf is written as it is).
 * Everything else is left as it was. Pure: returns new objects, shares untouched parts.
 */
type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{type: 'null'}`, maybe with a description or title. */
const isNullOnly = (schema: unknown): boolean =>
  isObject(schema) && schema.type === 'null' && Object.keys(schema).every((key) => ['type', 'description', 'title'].includes(key));

/** A schema of one scalar type without combinators, which a type array can carry unchanged. */
const isSingleScalar = (schema: unknown): schema is Schema =>
  isObject(schema) &&
  typeof schema.type === 'string' &&
  ['string', 'integer', 'number', 'boolean'].includes(schema.type) &&
  !['oneOf', 'anyOf', 'allOf', 'not', 'if', '$ref', 'enum', 'const'].some((key) => key in schema);

export function serializerSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) {
    let changed = false;
    const items = schema.map((item) => {
      const next = serializerSchema(item);
      if (next !== item) changed = true;
      return next;
    });
    return changed ? items : schema;
  }
  if (!isObject(schema)) return schema;
  const options = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(options) && options.length === 2) {
    const nullIndex = options.findIndex(isNullOnly);
    const other = options[1 - nullIndex];
    if (nullIndex !== -1 && isSingleScalar(other)) {
      const { oneOf: _oneOf, anyOf: _anyOf, ...siblings } = schema;
      return { ...other, ...siblings, type: [other.type, 'null'] };
    }
  }
  let changed = false;
  const next: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // `examples`, `enum`, `const` and `default` hold values, not schemas.
    const walked = ['examples', 'enum', 'const', 'default', 'example'].includes(key) ? value : serializerSchema(value);
    if (walked !== value) changed = true;
    next[key] = walked;
  }
  return changed ? next : schema;
}
