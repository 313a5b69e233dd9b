import { SerializerSelector, type SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import { compileOncePerKey } from '../domain/compile-once.ts';

/**
 * Fastify compiles one serializer per response schema for every app it builds: about 0.4 s of CPU
 * for this contract. A compiled serializer depends only on its schema, the shared schemas and the
 * serializer options, so a process that builds many apps (the test suite builds one per test)
 * compiles each once. `npm start` builds one app per process and sees no difference.
 */
const compiled = new Map<string, ReturnType<ReturnType<SerializerFactory>>>();
const compileSerializers = SerializerSelector();

/** Fastify's own serializer factory (fast-json-stringify), with each compiled schema kept for the process. */
export const cachedSerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const compile = compileSerializers(externalSchemas, options);
  const shared = JSON.stringify([externalSchemas ?? null, options ?? null]);
  return compileOncePerKey(compiled, (route) => `${shared}\0${JSON.stringify(route.schema)}`, compile);
};
