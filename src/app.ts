import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import jwt from '@fastify/jwt';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import metrics from 'fastify-metrics';
import openapiGlue from 'fastify-openapi-glue';
import type { Config } from './config.ts';
import { unauthorized } from './errors.ts';
import { InProcessEventBus, type EventBus } from './events/event-bus.ts';
import { ACCESS_COOKIE, createAuthHandlers } from './handlers/auth-handlers.ts';
import { createOpsHandlers } from './handlers/ops-handlers.ts';
import { createUsersHandlers } from './handlers/users-handlers.ts';
import databasePlugin, { projectRoot } from './plugins/database-plugin.ts';
import errorsPlugin from './plugins/errors-plugin.ts';
import securityPlugin from './plugins/security-plugin.ts';
import { bootstrapAdmin } from './services/admin-bootstrap.ts';
import { createAuthService, type AccessClaims, type AuthService, type TokenSigner } from './services/auth-service.ts';
import { createUsersService } from './services/users-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    events: EventBus;
    authService: AuthService;
    /** The operationIds that have a handler (a test checks it covers openapi.yaml). */
    operationHandlerNames: readonly string[];
  }
}

export const logRedactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.current_password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
];

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: logRedactPaths, censor: '[redacted]' },
  };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

async function loadJwtSecret(config: Config): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  // Development convenience: one random secret per data folder, so tokens survive restarts.
  const file = path.resolve(projectRoot, config.DATA_DIR, 'jwt-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomUUID() + randomUUID();
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function readVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The app factory: plugins first (errors, security, database, tokens, metrics), then the
 * contract's routes through fastify-openapi-glue with one handler per operationId.
 */
export async function buildApp(config: Config, options: { logger?: FastifyServerOptions['loggerInstance'] } = {}) {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: {
      customOptions: {
        // Unknown fields are rejected (400), never silently dropped: no mass assignment.
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: true,
        // OpenAPI's discriminator (with mapping) is documentation for clients; the oneOf branches validate.
        keywords: ['discriminator'],
      },
    },
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? { https: { cert: await readFile(config.TLS_CERT_FILE), key: await readFile(config.TLS_KEY_FILE) } }
      : {}),
  }) as unknown as FastifyInstance;

  app.decorate('config', config);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await app.register(errorsPlugin);
  await app.register(securityPlugin, { config });
  await app.register(databasePlugin, { config });
  await app.register(jwt, {
    secret: await loadJwtSecret(config),
    sign: { algorithm: 'HS256', expiresIn: config.ACCESS_TOKEN_TTL_SECONDS },
    verify: { algorithms: ['HS256'] },
  });
  await app.register(metrics.default ?? metrics, {
    endpoint: null,
    clearRegisterOnInit: true,
    defaultMetrics: { enabled: true },
    routeMetrics: { enabled: true },
  });

  const events = new InProcessEventBus((error, event) => app.log.error({ err: error, event: event.type }, 'event listener failed'));
  app.decorate('events', events);
  app.addHook('onClose', async () => events.close());

  const signer: TokenSigner = {
    sign: (claims) => app.jwt.sign(claims),
    verify: (token) => app.jwt.verify<AccessClaims>(token),
  };
  const authService = createAuthService({ db: app.db, config, signer, events });
  app.decorate('authService', authService);
  const usersService = createUsersService({ db: app.db, auth: authService, onlineUserCount: () => 0 });

  await bootstrapAdmin({ db: app.db, config, auth: authService, log: app.log });

  const serviceHandlers = {
    ...createOpsHandlers({
      projectRoot,
      version: await readVersion(),
      startedAt: new Date(),
      databaseHealthy: () => app.databaseHealthy(),
      metricsText: async () => ({
        contentType: app.metrics.client.register.contentType,
        body: await app.metrics.client.register.metrics(),
      }),
    }),
    ...createAuthHandlers({ auth: authService, config }),
    ...createUsersHandlers({ users: usersService }),
  };

  app.decorate('operationHandlerNames', Object.keys(serviceHandlers));
  const specification = JSON.parse(await readFile(path.join(projectRoot, 'generated/openapi.bundled.json'), 'utf8'));
  await app.register(openapiGlue, {
    specification,
    serviceHandlers,
    securityHandlers: {
      async bearerAuth(request: FastifyRequest) {
        const header = request.headers.authorization;
        const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
        if (!match) throw unauthorized('Missing bearer token.');
        request.auth = await authService.authenticate(match[1]!);
      },
      async cookieAuth(request: FastifyRequest) {
        const token = request.cookies[ACCESS_COOKIE];
        if (!token) throw unauthorized('Missing access cookie.');
        request.auth = await authService.authenticate(token);
      },
    },
  });

  return app;
}
