import { Validator } from '@seriousme/openapi-schema-validator';

/**
 * fastify-openapi-glue checks openapi.yaml against the OpenAPI meta-schema on every app it builds,
 * each time with a new Validator that compiles that meta-schema again: about 0.5 s of CPU per
 * build(), and the tests build one app per test. Here the compiled meta-schema validator is kept
 * for the test process; every build still validates the whole specification with it. If the
 * library renames the method, this does nothing (builds are slower, nothing else changes).
 */
type MetaSchemaValidator = (specification: unknown) => boolean;
interface WithCompiler {
  ajvOptions: unknown;
  getAjvValidator(version: string): MetaSchemaValidator;
}

const prototype = Validator.prototype as unknown as WithCompiler;
const compile = prototype.getAjvValidator;
if (typeof compile === 'function') {
  const compiled = new Map<string, MetaSchemaValidator>();
  prototype.getAjvValidator = function (this: WithCompiler, version: string) {
    const key = `${version}\0${JSON.stringify(this.ajvOptions)}`;
    let validator = compiled.get(key);
    if (!validator) {
      validator = compile.call(this, version);
      compiled.set(key, validator);
    }
    return validator;
  };
}
