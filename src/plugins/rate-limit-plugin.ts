import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { budgetsOfOperation, type KeyPart } from '../domain/rate-limit-budgets.ts';
import { ProblemError } from '../errors.ts';
import { clientIp, hookList, operationIdOf } from './route-hooks.ts';
import { rateLimitedDetail, type KeyParts, type RateLimiter } from '../rate-limits/rate-limiter.ts';


export interface RateLimitPluginOptions {
  limiter: RateLimiter;
  /** The `account` key part of a login (one budget for its username and email). */
  accountOf: (request: FastifyRequest) => Promise<string>;
}

/**
 * Every operation of the budget table spends its budgets in a preHandler: after authentication
 * (moved to onRequest by the security plugin, which must be registered first) and request
 * validation, so ids in keys are well-formed and a refused request has touched nothing.
 * Successful responses carry X-RateLimit-*; a refusal is 429 `rate_limited` with Retry-After.
 */
export default fp(
  async function rateLimitPlugin(app: FastifyInstance, options: RateLimitPluginOptions) {
    const { limiter, accountOf } = options;

    async function keyParts(request: FastifyRequest, needed: ReadonlySet<KeyPart>): Promise<KeyParts> {
      const parts: KeyParts = {};
      // Every user-keyed operation requires authentication; without it (never expected) the IP stands in.
      if (needed.has('user')) parts.user = request.auth?.userId ?? `ip:${clientIp(request)}`;
      if (needed.has('ip')) parts.ip = clientIp(request);
      if (needed.has('channel')) parts.channel = (request.params as { channel_id?: string }).channel_id ?? '-';
      if (needed.has('account')) parts.account = await accountOf(request);
      return parts;
    }

    app.addHook('onRoute', (route) => {
      const operationId = operationIdOf(route);
      const names = operationId ? budgetsOfOperation(operationId) : undefined;
      if (!names) return;
      const needed = new Set(names.flatMap((name) => limiter.budgets[name].key));
      const spend: preHandlerAsyncHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
        const result = await limiter.spend(names, await keyParts(request, needed));
        reply.header('x-ratelimit-limit', result.limit);
        reply.header('x-ratelimit-remaining', result.remaining);
        reply.header('x-ratelimit-reset', result.resetSeconds);
        if (!result.allowed) {
          reply.header('retry-after', result.resetSeconds);
          throw new ProblemError('rate_limited', rateLimitedDetail(result, limiter.budgets));
        }
      };
      route.preHandler = [...hookList(route.preHandler), spend] as typeof route.preHandler;
    });
  },
  { name: 'rate-limits', dependencies: ['security'] },
);
