import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NotFoundError, UniqueIntegrityConstraintViolationError } from 'slonik';
import { RouteMethods } from '../domain/route-methods.ts';
import { isDatabaseUnavailable } from '../db/database-errors.ts';
import {
  bearerChallenge,
  problemBody,
  problemCodeForStatus,
  ProblemError,
  type FieldLocation,
  type LocatedFieldError,
  type ProblemCode,
  UNAVAILABLE_RETRY_AFTER_S,
} from '../errors.ts';

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Fastify's validation contexts -> the `in` of a field error. */
const locationOf: Record<string, FieldLocation> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/**
 * Turns Ajv issues into `errors[]` entries: `field` a JSON pointer into the part of the request
 * that `in` names (`/content` in the body, `/limit` in the query, `/user_id` in the path).
 */
export function fieldErrors(issues: readonly AjvIssue[], context = 'body'): LocatedFieldError[] {
  const location = locationOf[context] ?? 'body';
  return issues.map((issue) => {
    let field = issue.instancePath ?? '';
    const params = issue.params ?? {};
    if (issue.keyword === 'required' && typeof params.missingProperty === 'string') field += `/${params.missingProperty}`;
    if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field += `/${params.additionalProperty}`;
    }
    const message =
      issue.keyword === 'additionalProperties' ? 'is not an allowed field' : (issue.message ?? 'is invalid');
    return { in: location, field: field || '/', message };
  });
}

function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ProblemCode,
  detail: string,
  errors?: LocatedFieldError[],
  tokenRejected = false,
) {
  const body = problemBody(code, detail, String(request.id), errors);
  // RFC 9110 §11.6.1: a 401 carries a challenge (RFC 6750 for bearer tokens).
  if (body.status === 401) reply.header('www-authenticate', bearerChallenge(tokenRejected));
  // Every 503 (the database or the bus is away) says when to ask again (openapi.yaml ServiceUnavailable).
  if (body.status === 503) reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
  return reply.code(body.status).type('application/problem+json').send(body);
}

/**
 * The database could not be reached or the connection was lost (src/db/database-errors.ts): 503
 * `database_unavailable` with Retry-After, so clients retry later rather than treat it as a bug.
 * A write cut off at its COMMIT may have been applied (messages: retry with the same nonce).
 */
function databaseUnavailable(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  request.log.warn({ err: error }, 'the database is unavailable');
  return sendProblem(request, reply, 'database_unavailable', 'The database is unavailable; retry later.');
}

const problemOf = (error: unknown): ProblemError | undefined => (error instanceof ProblemError ? error : undefined);

/** Every error leaves as RFC 9457 problem details; 5xx never show internals. */
export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    // Every route's methods, for the 405s of the not-found handler (routes are added after this plugin).
    const routeMethods = new RouteMethods();
    app.addHook('onRoute', (route) => routeMethods.add(route.url, route.method));

    app.setErrorHandler((error: FastifyError & { errors?: unknown[] }, request, reply) => {
      if (error instanceof ProblemError) {
        return sendProblem(request, reply, error.code, error.message, error.errors, error.tokenRejected);
      }
      if (error.validation) {
        return sendProblem(
          request,
          reply,
          'validation_failed',
          'The request is not valid.',
          fieldErrors(error.validation as AjvIssue[], error.validationContext),
        );
      }
      // fastify-openapi-glue wraps the security handlers' errors: surface the most meaningful one
      // (another code than `unauthorized`, then a refused token over a missing one).
      if (error.name === 'Unauthorized' && Array.isArray(error.errors)) {
        // A check that could not run (the database is away) is no verdict on the credentials: a
        // 401 would tell clients to drop a valid token. It fails like any other request then.
        const failure = error.errors.find((wrapped) => !(wrapped instanceof ProblemError));
        if (failure !== undefined && isDatabaseUnavailable(failure)) return databaseUnavailable(request, reply, failure);
        if (failure !== undefined) {
          request.log.error({ err: failure }, 'authentication could not be checked');
          return sendProblem(request, reply, 'internal_error', 'An unexpected error occurred.');
        }
        const problems = error.errors.map(problemOf).filter((problem) => problem !== undefined);
        const chosen =
          problems.find((problem) => problem.code !== 'unauthorized') ??
          problems.find((problem) => problem.tokenRejected) ??
          problems[0];
        if (chosen) return sendProblem(request, reply, chosen.code, chosen.message, undefined, chosen.tokenRejected);
        return sendProblem(request, reply, 'unauthorized', 'Authentication is required.');
      }
      if (error instanceof NotFoundError) return sendProblem(request, reply, 'not_found', 'The resource does not exist.');
      if (error instanceof UniqueIntegrityConstraintViolationError) {
        return sendProblem(request, reply, 'conflict', 'The request conflicts with an existing resource.');
      }
      if (isDatabaseUnavailable(error)) return databaseUnavailable(request, reply, error);
      const status = error.statusCode ?? 500;
      const code = problemCodeForStatus(status);
      if (status < 500 && code) {
        const detail =
          code === 'payload_too_large'
            ? 'The request body is over the size limit.'
            : code === 'unsupported_media_type'
              ? 'The request body must be application/json.'
              : error.message;
        return sendProblem(request, reply, code, detail);
      }
      if (status === 503) return sendProblem(request, reply, 'service_unavailable', 'A dependency is unavailable.');
      request.log.error({ err: error }, 'unhandled error');
      return sendProblem(request, reply, 'internal_error', 'An unexpected error occurred.');
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0]!;
      // Reaching this handler means the request's own method is not served for this path, even if
      // a route for it exists (a handler may pass a request on with reply.callNotFound()).
      const allowed = routeMethods.allowed(path).filter((method) => method !== request.method);
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        return sendProblem(request, reply, 'method_not_allowed', `${path} does not support ${request.method}; use ${allowed.join(', ')}.`);
      }
      return sendProblem(request, reply, 'not_found', `No route ${request.method} ${path}.`);
    });
  },
  { name: 'errors' },
);
