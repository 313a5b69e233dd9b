import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problemBody, type ProblemCode } from '../errors.ts';
import { fieldErrors } from './errors-plugin.ts';
import { setSecurityHeaders } from './security-headers.ts';

/**
 * The errors Fastify and Node answer themselves, before any route or error handler runs, in
 * their own JSON (or none): here they become problem details like every other error. Errors that
 * do reach the error handler (bad JSON, empty JSON body, wrong content length, too large,
 * unsupported media type) are mapped there by status.
 */

/**
 * Fastify's `frameworkErrors` option: the router could not look a route up. FST_ERR_BAD_URL (a
 * malformed percent-encoding) and FST_ERR_MAX_PARAM_LENGTH (a path segment over the router's
 * 100 characters; would otherwise be Fastify's 414) are both a malformed path: 400, as for any
 * path parameter that breaks its schema.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const known = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const code: ProblemCode = known ? 'validation_failed' : 'internal_error';
  const detail = known ? 'The request path is not valid.' : 'An unexpected error occurred.';
  const message =
    error.code === 'FST_ERR_BAD_URL' ? 'is not valid percent-encoded UTF-8' : 'must be at most 100 characters per segment';
  if (!known) request.log.error({ err: error }, 'unhandled framework error');
  const body = problemBody(code, detail, String(request.id), known ? fieldErrors([{ instancePath: '', message }], 'params') : undefined);
  // No hook ran for this request: the security headers every other response carries are set here.
  setSecurityHeaders(request.raw, reply.raw, () => {
    void reply.code(body.status).header('x-request-id', request.id).type('application/problem+json').send(body);
  });
}

/**
 * Node's `clientError`: the bytes were not an HTTP request Node could parse (malformed, headers
 * over 16 KiB, too slow). No request exists to route, so the answer is written to the socket
 * directly, as Fastify's default handler does, but as a problem document.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, detail]: [ProblemCode, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? ['request_timeout', 'The request was not received in time.']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? ['header_fields_too_large', 'The request headers are over the size limit.']
        : ['validation_failed', 'The request is not valid HTTP.'];
  const problem = problemBody(code, detail);
  const body = JSON.stringify(problem);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nConnection: close\r\nContent-Type: application/problem+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
