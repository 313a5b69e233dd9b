import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * helmet's default security headers, as one middleware built once: @fastify/helmet rebuilt it on
 * every request (about 13 KB of garbage per request). The security plugin runs it on every
 * request; the framework-error path (answered by Fastify's router before any hook) runs it too.
 */
const middleware = helmet();

export function setSecurityHeaders(request: IncomingMessage, response: ServerResponse, done: (error?: Error) => void): void {
  middleware(request, response, (error?: unknown) => done(error as Error | undefined));
}
