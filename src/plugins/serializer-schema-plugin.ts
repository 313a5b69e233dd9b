import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { serializerSchema } from '../domain/serializer-schema.ts';

/**
 * Hands Fastify's response serializer (fast-json-stringify) the response schemas with their
 * nullable `oneOf`s written as type arrays (src/domain/serializer-schema.ts): the same bytes,
 * without an Ajv validation per nullable field per row. Only the serializer's copy changes; the
 * contract (openapi.yaml, the published specs, the tests' response validation) is untouched.
 * Register before the routes (fastify-openapi-glue).
 */
export default fp(
  async function serializerSchemaPlugin(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      if (route.schema?.response) route.schema = { ...route.schema, response: serializerSchema(route.schema.response) };
    });
  },
  { name: 'serializer-schema' },
);
