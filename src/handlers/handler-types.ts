import type { FastifyReply, FastifyRequest } from 'fastify';
import type { operations } from '../../generated/openapi-types.ts';
import { unauthorized } from '../errors.ts';
import type { AuthContext } from '../services/auth-service.ts';

/** Request parts typed from the OpenAPI document; Fastify has already validated them against it. */
export type BodyOf<Op extends keyof operations> = operations[Op] extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;
export type QueryOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['query']>;
export type PathOf<Op extends keyof operations> = NonNullable<operations[Op]['parameters']['path']>;

export type OperationHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
export type HandlerGroup<Op extends keyof operations> = Record<Op, OperationHandler>;

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}

export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}

export const bodyOf = <Op extends keyof operations>(request: FastifyRequest): BodyOf<Op> => request.body as BodyOf<Op>;
export const queryOf = <Op extends keyof operations>(request: FastifyRequest): QueryOf<Op> =>
  (request.query ?? {}) as QueryOf<Op>;
export const pathOf = <Op extends keyof operations>(request: FastifyRequest): PathOf<Op> => request.params as PathOf<Op>;
