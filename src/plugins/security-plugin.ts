import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { projectRoot } from '../db/open-database.ts';
import { ProblemError } from '../errors.ts';
import { hookList, operationIdOf } from './route-hooks.ts';
import { setSecurityHeaders } from './security-headers.ts';

/** operationIds whose request body the contract marks `required: true`. */
function operationsRequiringBody(): Set<string> {
  const spec = JSON.parse(readFileSync(path.join(projectRoot, 'generated/openapi.bundled.json'), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; requestBody?: { required?: boolean } }>>;
  };
  const required = new Set<string>();
  for (const item of Object.values(spec.paths)) {
    for (const operation of Object.values(item)) {
      if (operation?.operationId && operation.requestBody?.required === true) required.add(operation.operationId);
    }
  }
  return required;
}

const missingBody = () =>
  new ProblemError('validation_failed', 'A JSON request body is required.', [{ field: '/', message: 'is required' }]);

export default fp(
  async function securityPlugin(app: FastifyInstance, options: { config: Config }) {
    const { config } = options;
    // helmet's default security headers on every response (src/plugins/security-headers.ts).
    app.addHook('onRequest', (request, reply, done) => setSecurityHeaders(request.raw, reply.raw, done));
    // Only with origins to allow: @fastify/cors's catch-all OPTIONS route would otherwise claim
    // OPTIONS for every path (the `Allow` of a 405) while only handing requests to the 404 handler.
    if (config.CORS_ORIGINS.length > 0) {
      await app.register(cors, {
        origin: config.CORS_ORIGINS,
        credentials: true,
        exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      });
    }
    await app.register(cookie);

    // The contract only accepts JSON bodies. Fastify's built-in text/plain parser would hand
    // handlers an unvalidated string (body schemas are per content type): 415 like any other type.
    // The types the contract only *responds* with get an explicit 415 parser, which also tells
    // fastify-openapi-glue (it checks every content type in the spec) that they are handled.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser(['text/plain', 'application/yaml', 'application/problem+json', 'text/html', 'text/javascript', 'text/css'], (_request, _payload, done) => {
      done(Object.assign(new Error('The request body must be application/json.'), { statusCode: 415 }), undefined);
    });

    const bodyRequired = operationsRequiringBody();
    const requireBody = async (request: FastifyRequest) => {
      if (request.body === undefined || request.body === null) throw missingBody();
    };
    app.addHook('onRoute', (route) => {
      const operationId = operationIdOf(route);
      if (!operationId) return;
      // fastify-openapi-glue runs the security handlers as a preHandler, after the body was parsed
      // and validated: an anonymous request with a bad body got 400 instead of 401. Authenticate first.
      if (route.preHandler) {
        route.onRequest = [...hookList(route.onRequest), ...hookList(route.preHandler)] as typeof route.onRequest;
        delete route.preHandler;
      }
      // The glue drops `requestBody.required`, and Fastify skips body validation when there is no
      // body at all: a missing required body is a 400, not a handler crash.
      if (bodyRequired.has(operationId)) {
        route.preValidation = [...hookList(route.preValidation), requireBody] as typeof route.preValidation;
      }
    });

    // Rate limits: src/plugins/rate-limit-plugin.ts (registered after this plugin).
  },
  { name: 'security' },
);
