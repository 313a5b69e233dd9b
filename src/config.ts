import { z } from 'zod';
import { parseBudgetOverrides, type BudgetOverrides } from './domain/rate-limit-budgets.ts';

/**
 * Every setting Parley reads from the environment, validated once at start.
 * `.env.example` and the README's configuration table document each of them.
 */
const booleanString = z.enum(['true', 'false']).transform((value) => value === 'true');
const csv = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));
const positiveInt = z.coerce.number().int().positive();
/** `budget=limit/window,...` (src/domain/rate-limit-budgets.ts); each bad entry is named. */
const budgetOverrides = z
  .string()
  .transform((value, context): BudgetOverrides => {
    const { overrides, problems } = parseBudgetOverrides(value);
    for (const problem of problems) context.addIssue({ code: 'custom', message: problem });
    return overrides;
  })
  .default({});

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // The URL clients use to reach this server (scheme, host, optional path prefix), as written into
  // the `servers` of the published specs and the docs. Unset: the listen address.
  PUBLIC_URL: z
    .string()
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http:// or https:// URL')
    .refine((value) => !/[?#]/.test(value), 'must not have a query or fragment')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.default(900),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
  // A refresh token presented again this soon after its rotation returns the same new pair (two
  // tabs refreshing at once); later, it counts as reuse and revokes the family. 0 = no grace.
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  SESSION_CACHE_SIZE: z.coerce.number().int().min(0).default(10_000),
  COOKIE_SECURE: booleanString.default(false),
  CORS_ORIGINS: csv.default([]),
  BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  // A request (headers and body) must arrive within HTTP_REQUEST_TIMEOUT_MS and its headers within
  // HTTP_HEADERS_TIMEOUT_MS, or the connection is answered 408 and closed: a client trickling bytes
  // cannot hold a connection forever. Idle keep-alive connections close after HTTP_KEEP_ALIVE_TIMEOUT_MS.
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  HTTP_HEADERS_TIMEOUT_MS: positiveInt.default(10_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(72_000),
  RATE_LIMIT_REGISTER_PER_IP: positiveInt.default(10),
  RATE_LIMIT_LOGIN_PER_IP: positiveInt.default(20),
  RATE_LIMIT_LOGIN_PER_ACCOUNT: positiveInt.default(5),
  RATE_LIMIT_WINDOW_SECONDS: positiveInt.default(60),
  RATE_LIMITS: budgetOverrides,
  ADMIN_EMAIL: z.string().email().optional(),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  ADMIN_USERNAME: z.string().regex(/^[A-Za-z0-9_.-]{3,32}$/).default('admin'),
  // Bearer tokens for the operational endpoints (besides an admin's access token): OPS_TOKEN for
  // the detailed GET /health, METRICS_TOKEN for GET /metrics (a Prometheus scrape credential).
  OPS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  METRICS_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
  WS_HEARTBEAT_INTERVAL_MS: positiveInt.default(30_000),
  WS_AUTH_TIMEOUT_MS: positiveInt.default(10_000),
  WS_RESUME_WINDOW_MS: positiveInt.default(120_000),
  WS_RESUME_MAX_EVENTS: positiveInt.default(1000),
  WS_MAX_FRAME_BYTES: positiveInt.default(16 * 1024),
  WS_RATE_LIMIT_FRAMES: positiveInt.default(120),
  WS_RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  // Bytes of server frames a connection may have waiting for its client to read; past it 4010.
  WS_MAX_BUFFERED_BYTES: positiveInt.default(1024 * 1024),
  // A closing socket whose peer does not finish the close handshake within this is destroyed.
  WS_CLOSE_TIMEOUT_MS: positiveInt.default(5_000),
  WS_MAX_CONNECTIONS: positiveInt.default(20_000),
  WS_MAX_CONNECTIONS_PER_IP: positiveInt.default(256),
  PRESENCE_GRACE_MS: z.coerce.number().int().min(0).default(5_000),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  REDIS_URL: z.string().url().optional(),
});

export type Config = z.output<typeof configSchema>;

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Parse the environment; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const result = configSchema.safeParse(relevant);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const config = result.data;
  if ((config.TLS_CERT_FILE === undefined) !== (config.TLS_KEY_FILE === undefined)) {
    throw new ConfigError(['TLS_CERT_FILE/TLS_KEY_FILE: set both or neither']);
  }
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    // Node refuses a server whose headers timeout is longer than its request timeout.
    throw new ConfigError(['HTTP_HEADERS_TIMEOUT_MS: must not be more than HTTP_REQUEST_TIMEOUT_MS']);
  }
  if (config.NODE_ENV === 'production' && config.JWT_SECRET === undefined) {
    throw new ConfigError(['JWT_SECRET: required when NODE_ENV=production']);
  }
  return config;
}

/** Test/config overrides: a partial config merged over the parsed environment. */
export function configWith(overrides: Partial<Config>, env: Record<string, string | undefined> = {}): Config {
  return { ...loadConfig(env), ...overrides };
}
