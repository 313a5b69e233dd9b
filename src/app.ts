import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import jwt from '@fastify/jwt';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import metrics from 'fastify-metrics';
import openapiGlue from 'fastify-openapi-glue';
import type { Config } from './config.ts';
import { staticTokenHandler } from './auth/ops-access.ts';
import { rejectedToken, unauthorized } from './errors.ts';
import type { EventBus } from './events/event-bus.ts';
import { createEventBus } from './bus/create-event-bus.ts';
import type { SharedEventBus } from './bus/shared-event-bus.ts';
import { counterStoreFor } from './rate-limits/redis-counter-store.ts';
import { GlobalPresence } from './presence/global-presence.ts';
import { ACCESS_COOKIE, createAuthHandlers } from './handlers/auth-handlers.ts';
import { createOpsHandlers } from './handlers/ops-handlers.ts';
import { createOAuthHandlers } from './handlers/oauth-handlers.ts';
import { createDocsHandlers } from './handlers/docs-handlers.ts';
import { loadDocsSite } from './docs/docs-site.ts';
import { loadPublishedSpecs } from './docs/published-specs.ts';
import { publicBaseUrl } from './domain/public-url.ts';
import { createUsersHandlers } from './handlers/users-handlers.ts';
import { createChannelsHandlers } from './handlers/channels-handlers.ts';
import { createMessagesHandlers } from './handlers/messages-handlers.ts';
import { KeyedMutex } from './domain/keyed-mutex.ts';
import { createGuildsHandlers } from './handlers/guilds-handlers.ts';
import { createInvitesHandlers } from './handlers/invites-handlers.ts';
import { createWebAppHandlers } from './handlers/webapp-handlers.ts';
import { createGateway, type Gateway } from './gateway/gateway.ts';
import { createGatewayChat } from './gateway/gateway-chat.ts';
import { createGatewayAccess } from './services/gateway-access.ts';
import gatewayPlugin from './gateway/gateway-plugin.ts';
import { SessionCache } from './auth/session-cache.ts';
import authCachePlugin from './plugins/auth-cache-plugin.ts';
import databasePlugin, { projectRoot } from './plugins/database-plugin.ts';
import errorsPlugin from './plugins/errors-plugin.ts';
import { clientErrorHandler, frameworkErrors } from './plugins/framework-errors.ts';
import jsonBodyPlugin from './plugins/json-body-plugin.ts';
import { deferredChildLoggerFactory } from './plugins/request-logger-factory.ts';
import securityPlugin from './plugins/security-plugin.ts';
import serializerSchemaPlugin from './plugins/serializer-schema-plugin.ts';
import { cachedSerializerFactory } from './plugins/serializer-cache.ts';
import rateLimitPlugin from './plugins/rate-limit-plugin.ts';
import { resolveBudgets } from './domain/rate-limit-budgets.ts';
import { RateLimiter } from './rate-limits/rate-limiter.ts';
import { requestValidatorCompiler } from './request-validation.ts';
import { bootstrapAdmin } from './services/admin-bootstrap.ts';
import { createAuthService, type AccessClaims, type AuthService, type TokenSigner } from './services/auth-service.ts';
import { createUsersService } from './services/users-service.ts';
import { createOAuthService } from './services/oauth-service.ts';
import { createChannelsService } from './services/channels-service.ts';
import { createMessagesService, type MessagesService } from './services/messages-service.ts';
import { createGuildsService } from './services/guilds-service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    events: EventBus;
    /** The bus shared between instances (Redis or PostgreSQL), undefined when in-process. */
    sharedBus: SharedEventBus | undefined;
    authService: AuthService;
    /** Session liveness cached in this process (src/auth/session-cache.ts). */
    sessionCache: SessionCache;
    /** The operationIds that have a handler (a test checks it covers openapi.yaml). */
    operationHandlerNames: readonly string[];
    /** The WebSocket gateway (src/gateway/): its connections, for diagnostics and tests. */
    gateway: Gateway;
    /** The messages service: its send queue (group commit), for diagnostics and tests. */
    messagesService: MessagesService;
  }
}

export const logRedactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  // Top level and one level down (`{ body: { password } }`, `{ frame: { token } }`).
  'password',
  'current_password',
  'access_token',
  'refresh_token',
  'token',
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

/**
 * A cached session is re-read at least this often even without a notification: invalidation is
 * what keeps the cache correct, this only bounds the damage should one ever be lost.
 */
const SESSION_CACHE_MAX_AGE_MS = 60_000;

/** JWT_SECRET, or (development) one random secret kept in DATA_DIR. */
export async function loadJwtSecret(config: Config): Promise<string> {
  if (config.JWT_SECRET) return config.JWT_SECRET;
  // Development convenience: one random secret per data folder, so tokens survive restarts.
  const file = path.resolve(projectRoot, config.DATA_DIR, 'jwt-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomUUID() + randomUUID();
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Node's own HTTP timeouts (see HTTP_*_TIMEOUT_MS in config.ts): a client that trickles its headers
 * or body is answered 408 and disconnected. An upgraded WebSocket is no longer an HTTP request, so
 * neither timeout applies to it (test/http-timeouts.test.ts).
 */
export function httpServerTimeouts(config: Config) {
  return {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
    // Node checks both only every connectionsCheckingInterval (30 s by default), which would turn a
    // 10 s headers timeout into up to 40 s: check at a quarter of it, at least once a second.
    connectionsCheckingInterval: Math.max(1, Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
  };
}

async function readVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export interface BuildOptions {
  logger?: FastifyServerOptions['loggerInstance'];
  /**
   * The app's clock, epoch ms: rate-limit windows, the refresh grace and the typing throttle read
   * it, so tests step past a window without sleeping.
   */
  clock?: () => number;
}

/**
 * The app factory: plugins first (errors, security, database, tokens, metrics), then the
 * contract's routes through fastify-openapi-glue with one handler per operationId.
 */
export async function buildApp(config: Config, options: BuildOptions = {}) {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: loggerOptions(config) }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    http: httpServerTimeouts(config),
    // The database plugin may initialise and start embedded PostgreSQL and run migrations: on a
    // first start or a loaded machine that exceeds avvio's default 10 s per plugin.
    pluginTimeout: 120_000,
    requestIdHeader: false,
    // The per-request pino child is built only when a request writes a line (src/plugins/request-logger-factory.ts).
    childLoggerFactory: deferredChildLoggerFactory,
    // Response serializers compiled once per process, not once per app (src/plugins/serializer-cache.ts).
    schemaController: { compilersFactory: { buildSerializer: cachedSerializerFactory } },
    // Errors Fastify and Node would answer in their own JSON become problem details too.
    frameworkErrors,
    clientErrorHandler,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ...(config.TLS_CERT_FILE && config.TLS_KEY_FILE
      ? {
          https: {
            cert: await readFile(config.TLS_CERT_FILE),
            key: await readFile(config.TLS_KEY_FILE),
            ...httpServerTimeouts(config),
          },
        }
      : {}),
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(requestValidatorCompiler());
  app.decorate('config', config);
  // A callback hook, not an async one: no promise per request for a synchronous header.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  await app.register(errorsPlugin);
  await app.register(serializerSchemaPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(securityPlugin, { config });
  // One limiter for REST and the gateway: an operation and a frame naming one budget share it.
  const rateLimiter = new RateLimiter({
    budgets: resolveBudgets(
      {
        registerPerIp: config.RATE_LIMIT_REGISTER_PER_IP,
        loginPerIp: config.RATE_LIMIT_LOGIN_PER_IP,
        loginPerAccount: config.RATE_LIMIT_LOGIN_PER_ACCOUNT,
        windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
      },
      config.RATE_LIMITS,
    ),
    // Shared by every instance through Redis, or PostgreSQL without it (src/rate-limits/redis-counter-store.ts).
    store: counterStoreFor(config, app),
    ...(options.clock ? { now: options.clock } : {}),
  });
  await app.register(rateLimitPlugin, {
    limiter: rateLimiter,
    accountOf: (request) => app.authService.loginRateKey((request.body as { login: string }).login),
  });
  await app.register(databasePlugin, { config });
  const jwtSecret = await loadJwtSecret(config);
  await app.register(jwt, {
    secret: jwtSecret,
    sign: { algorithm: 'HS256', expiresIn: config.ACCESS_TOKEN_TTL_SECONDS },
    verify: { algorithms: ['HS256'] },
  });
  await app.register(metrics.default ?? metrics, {
    endpoint: null,
    clearRegisterOnInit: true,
    defaultMetrics: { enabled: true },
    // The duration histogram only: fastify-metrics' default also keeps a summary of the same
    // durations, a t-digest updated on every request (about 20 µs of a history page), whose
    // quantiles cannot be aggregated across instances (WORKERS, several hosts) as histograms can.
    routeMetrics: { enabled: { histogram: true, summary: false } },
  });

  // In-process, or shared by every instance through Redis or PostgreSQL NOTIFY (src/bus/).
  const bus = await createEventBus(config, { db: app.db, databaseUrl: app.databaseUrl, log: app.log });
  const events = bus.bus;
  app.decorate('events', events);
  app.decorate('sharedBus', bus.shared);

  const signer: TokenSigner = {
    sign: (claims) => app.jwt.sign(claims),
    verify: (token) => app.jwt.verify<AccessClaims>(token),
  };
  // Session liveness cached per process, invalidated across processes by LISTEN/NOTIFY; off
  // (every request asks the database) with SESSION_CACHE_SIZE=0 or while the listener is down.
  const sessionCache = new SessionCache({ maxEntries: config.SESSION_CACHE_SIZE, maxAgeMs: SESSION_CACHE_MAX_AGE_MS });
  app.decorate('sessionCache', sessionCache);
  if (config.SESSION_CACHE_SIZE > 0) await app.register(authCachePlugin, { cache: sessionCache, databaseUrl: app.databaseUrl });
  const authService = createAuthService({ db: app.db, config, signer, events, sessionCache, ...(options.clock ? { now: options.clock } : {}) });
  app.decorate('authService', authService);
  const guildsService = createGuildsService({ db: app.db, events });
  // One lock per channel, shared by every per-channel mutation: publish order == commit order.
  const channelLock = new KeyedMutex();
  const channelsService = createChannelsService({ db: app.db, events, channelLock, guilds: guildsService, ...(options.clock ? { now: options.clock } : {}) });
  // Half the pool for send transactions: group commit needs only a few, the rest serve reads.
  const messagesService = createMessagesService({
    db: app.db,
    events,
    channelLock,
    sendConcurrency: Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 2)),
  });
  // The real-time gateway (src/gateway/), built after the services it calls and given only what it
  // needs; its presence feeds the users statistics and GET /users/online.
  const gateway = createGateway({
    config,
    events,
    auth: authService,
    ...createGatewayAccess(app.db),
    chat: createGatewayChat({ messages: messagesService, channels: channelsService }),
    rateLimiter,
    metricsClient: app.metrics.client,
    log: app.log,
  });
  app.decorate('gateway', gateway);
  // The carrier was lost and is back: events may have been missed, so sessions start over (clients
  // get invalid_session on resume and catch up through history `after`).
  bus.shared?.onResync((reason) => gateway.invalidateSessions(reason));
  // Presence across instances: every instance's connected users, each entry expiring unless refreshed.
  const presence = bus.shared ? new GlobalPresence({ gateway, bus: bus.shared, config }) : gateway;
  if (presence instanceof GlobalPresence) {
    presence.start();
    app.addHook('onClose', async () => presence.stop());
  }
  // Unsubscribes its listeners and closes the carrier's connections.
  app.addHook('onClose', async () => events.close());
  const usersService = createUsersService({ db: app.db, auth: authService, presence });
  app.decorate('messagesService', messagesService);

  await bootstrapAdmin({ db: app.db, config, log: app.log });
  const oauthService = createOAuthService({
    db: app.db,
    config,
    auth: authService,
    cookieKey: jwtSecret,
    ...(options.clock ? { now: options.clock } : {}),
  });

  // PUBLIC_URL, or the address this server listens on (its real port once listening).
  const publicUrl = () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
    return publicBaseUrl(config.PUBLIC_URL, { host: config.HOST, port, tls: config.TLS_CERT_FILE !== undefined });
  };
  const serviceHandlers = {
    ...createOpsHandlers({
      specs: await loadPublishedSpecs(projectRoot),
      publicUrl,
      version: await readVersion(),
      startedAt: new Date(),
      databaseHealthy: () => app.databaseHealthy(),
      busDown: () => (bus.shared && !bus.shared.healthy ? bus.shared.name : null),
      metricsText: async () => ({
        contentType: app.metrics.client.register.contentType,
        body: await app.metrics.client.register.metrics(),
      }),
    }),
    ...createAuthHandlers({ auth: authService, config }),
    ...createOAuthHandlers({ oauth: oauthService, config }),
    ...createUsersHandlers({ users: usersService }),
    ...createChannelsHandlers({ channels: channelsService }),
    ...createMessagesHandlers({ messages: messagesService }),
    ...createGuildsHandlers({ guilds: guildsService }),
    ...createInvitesHandlers({ guilds: guildsService }),
    ...createDocsHandlers({ site: await loadDocsSite(projectRoot), publicUrl }),
    ...createWebAppHandlers({ projectRoot }),
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
        request.auth = await authService.authenticate(match[1]!).catch(rejectedToken);
      },
      async cookieAuth(request: FastifyRequest) {
        const token = request.cookies[ACCESS_COOKIE];
        if (!token) throw unauthorized('Missing access cookie.');
        request.auth = await authService.authenticate(token).catch(rejectedToken);
      },
      // GET /health and GET /metrics also take a static bearer token from config (src/auth/ops-access.ts).
      opsToken: staticTokenHandler(config.OPS_TOKEN),
      metricsToken: staticTokenHandler(config.METRICS_TOKEN),
    },
  });

  // GET /api/v1/ws: an upgrade route described by asyncapi.yaml (not openapi.yaml), registered directly.
  await app.register(gatewayPlugin, { gateway });

  return app;
}
