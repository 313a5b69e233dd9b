import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { compileOncePerKey } from './domain/compile-once.ts';
import { findUnstorableText } from './domain/storable-text.ts';

/**
 * Request validation from the OpenAPI schemas, with two rules Fastify's defaults break:
 * - unknown fields are rejected (400), never silently dropped (no mass assignment);
 * - JSON bodies are never type-coerced (`{"content": 42}` is a 400, not the string "42"),
 *   while path, query and header values (always strings on the wire) are coerced to the schema.
 * One rule JSON Schema cannot say for every string at once: every string and key must be one
 * PostgreSQL can store as sent (no U+0000, no lone surrogate; src/domain/storable-text.ts), a 400
 * naming the field. It runs before the schema, so it also covers fields the schema would refuse.
 */
const shared: Options = {
  removeAdditional: false,
  useDefaults: true,
  allErrors: true,
  strict: false,
  // fastify-openapi-glue gives many schemas the same $id; don't register them by id.
  addUsedSchema: false,
  // OpenAPI's discriminator (with mapping) documents the union for clients; the oneOf branches validate.
  keywords: ['discriminator'],
};

function makeAjv(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({ ...shared, coerceTypes });
  (addFormats as unknown as (instance: Ajv) => void)(ajv);
  return ajv;
}

// One pair of Ajv instances and one compiled validator per schema for the process: a compiled
// validator depends only on its schema and httpPart, and the test suite builds an app per test
// (about 0.15 s of CPU each to compile them again). `npm start` builds one app and sees no difference.
let instances: { bodyAjv: Ajv; parameterAjv: Ajv } | undefined;
const compiled = new Map<string, ReturnType<FastifySchemaCompiler<unknown>>>();

export function requestValidatorCompiler(): FastifySchemaCompiler<unknown> {
  instances ??= { bodyAjv: makeAjv(false), parameterAjv: makeAjv('array') };
  const { bodyAjv, parameterAjv } = instances;
  const compile: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? bodyAjv : parameterAjv).compile(schema as object);
    if (httpPart === 'headers') return validate;
    const validateStorable = (data: unknown): boolean => {
      const unstorable = findUnstorableText(data);
      if (unstorable !== null) {
        validateStorable.errors = [
          { instancePath: unstorable.pointer, schemaPath: '#', keyword: 'storable', params: {}, message: unstorable.message },
        ];
        return false;
      }
      const valid = validate(data) as boolean;
      validateStorable.errors = validate.errors ?? null;
      return valid;
    };
    validateStorable.errors = null as typeof validate.errors;
    return validateStorable;
  };
  return compileOncePerKey(compiled, (route) => `${route.httpPart ?? ''}\0${JSON.stringify(route.schema)}`, compile);
}
