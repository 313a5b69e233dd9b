import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';

/** Per-IP limits by operationId; per-account login limits live in the auth handlers. */
function perIpLimits(config: Config): Record<string, number> {
  return { registerUser: config.RATE_LIMIT_REGISTER_PER_IP, loginUser: config.RATE_LIMIT_LOGIN_PER_IP };
}

export default fp(
  async function securityPlugin(app: FastifyInstance, options: { config: Config }) {
    const { config } = options;
    await app.register(helmet, { global: true });
    await app.register(cors, {
      origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false,
      credentials: true,
      exposedHeaders: ['x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
    });
    await app.register(cookie);

    const limits = perIpLimits(config);
    // Runs before @fastify/rate-limit's own onRoute hook, so the limit is in place when it reads the route.
    app.addHook('onRoute', (route) => {
      const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
      const max = operationId ? limits[operationId] : undefined;
      if (max !== undefined) {
        route.config = { ...(route.config as object), rateLimit: { max, timeWindow: config.RATE_LIMIT_WINDOW_SECONDS * 1000 } };
      }
    });
    await app.register(rateLimit, {
      global: false,
      // injectWS and some proxies leave req.ip undefined: never share one bucket by accident.
      keyGenerator: (request) => request.ip ?? request.socket?.remoteAddress ?? 'unknown',
    });
  },
  { name: 'security' },
);
