import type { FastifyRequest, RouteOptions } from 'fastify';

/**
 * Small helpers for plugins that adjust the contract's routes as they are registered (`onRoute`)
 * or key something by the caller's address.
 */

/** A route's hook option as a list (Fastify accepts one function or an array). */
export const hookList = <T>(hooks: T | T[] | undefined): T[] => (hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]);

/** The operationId fastify-openapi-glue put on a route's schema; undefined for routes outside the contract. */
export const operationIdOf = (route: RouteOptions): string | undefined =>
  (route.schema as { operationId?: string } | undefined)?.operationId;

/** injectWS and some proxies leave req.ip undefined: never share one bucket or slot by accident. */
export const clientIp = (request: FastifyRequest): string => request.ip ?? request.socket?.remoteAddress ?? 'unknown';
