import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { NotFoundError, UniqueIntegrityConstraintViolationError } from 'slonik';
import { problemBody, ProblemError, type FieldError, type ProblemCode } from '../errors.ts';

const statusToCode: Record<number, ProblemCode> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** Turns Ajv issues into `errors[]` entries naming each bad field as a JSON pointer. */
export function fieldErrors(issues: readonly AjvIssue[], context?: string): FieldError[] {
  return issues.map((issue) => {
    let field = issue.instancePath ?? '';
    const params = issue.params ?? {};
    if (issue.keyword === 'required' && typeof params.missingProperty === 'string') field += `/${params.missingProperty}`;
    if (issue.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field += `/${params.additionalProperty}`;
    }
    const prefix = context && context !== 'body' ? `${context}:` : '';
    const message =
      issue.keyword === 'additionalProperties' ? 'is not an allowed field' : (issue.message ?? 'is invalid');
    return { field: `${prefix}${field || '/'}`, message };
  });
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, code: ProblemCode, detail: string, errors?: FieldError[]) {
  const body = problemBody(code, detail, String(request.id), errors);
  return reply.code(body.status).type('application/problem+json').send(body);
}

/** Every error leaves as RFC 9457 problem details; 5xx never show internals. */
export default fp(
  async function errorsPlugin(app: FastifyInstance) {
    app.setErrorHandler((error: FastifyError & { errors?: unknown[] }, request, reply) => {
      if (error instanceof ProblemError) return sendProblem(request, reply, error.code, error.message, error.errors);
      if (error.validation) {
        return sendProblem(
          request,
          reply,
          'validation_failed',
          'The request is not valid.',
          fieldErrors(error.validation as AjvIssue[], error.validationContext),
        );
      }
      // fastify-openapi-glue wraps the security handlers' errors: surface the first meaningful one.
      if (error.name === 'Unauthorized' && Array.isArray(error.errors)) {
        const inner = error.errors.find((candidate) => candidate instanceof ProblemError && candidate.code !== 'unauthorized');
        const first = inner ?? error.errors.find((candidate) => candidate instanceof ProblemError);
        if (first instanceof ProblemError) return sendProblem(request, reply, first.code, first.message);
        return sendProblem(request, reply, 'unauthorized', 'Authentication is required.');
      }
      if (error instanceof NotFoundError) return sendProblem(request, reply, 'not_found', 'The resource does not exist.');
      if (error instanceof UniqueIntegrityConstraintViolationError) {
        return sendProblem(request, reply, 'conflict', 'The request conflicts with an existing resource.');
      }
      const status = error.statusCode ?? 500;
      const code = statusToCode[status];
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

    app.setNotFoundHandler((request, reply) =>
      sendProblem(request, reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`),
    );
  },
  { name: 'errors' },
);
