import t from 'tap';
import { ConfigError, configWith, loadConfig } from '../src/config.ts';
import { freePort, runNode } from './helpers/accounts.ts';

const issuesOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
};

t.test('defaults: every variable is optional', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    NODE_ENV: 'development',
    HOST: '0.0.0.0',
    PORT: 8080,
    DATA_DIR: '.data',
    BODY_LIMIT_BYTES: 1024 * 1024,
    ACCESS_TOKEN_TTL_SECONDS: 900,
    RATE_LIMIT_LOGIN_PER_ACCOUNT: 5,
    COOKIE_SECURE: false,
    CORS_ORIGINS: [],
    ADMIN_USERNAME: 'admin',
  });
  t.equal(config.DATABASE_URL, undefined, 'no DATABASE_URL: embedded PostgreSQL');
  t.same(loadConfig({ PORT: '' }).PORT, 8080, 'an empty value counts as unset');
});

t.test('values are parsed: numbers, booleans, lists', async (t) => {
  const config = loadConfig({
    PORT: '9000',
    COOKIE_SECURE: 'true',
    CORS_ORIGINS: 'https://a.example, https://b.example,',
    RATE_LIMIT_WINDOW_SECONDS: '5',
    DATABASE_URL: 'postgres://u:p@db:5432/parley',
  });
  t.equal(config.PORT, 9000);
  t.equal(config.COOKIE_SECURE, true);
  t.same(config.CORS_ORIGINS, ['https://a.example', 'https://b.example']);
  t.equal(config.RATE_LIMIT_WINDOW_SECONDS, 5);
  t.equal(config.DATABASE_URL, 'postgres://u:p@db:5432/parley');
  t.equal(configWith({ PORT: 1234 }).PORT, 1234, 'configWith overrides the parsed environment');
});

t.test('a bad value throws a ConfigError naming the variable', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ BODY_LIMIT_BYTES: '0' }, 'BODY_LIMIT_BYTES'],
    [{ COOKIE_SECURE: 'yes' }, 'COOKIE_SECURE'],
    [{ RATE_LIMIT_LOGIN_PER_IP: '-3' }, 'RATE_LIMIT_LOGIN_PER_IP'],
    [{ EMBEDDED_PG_PORT: '80' }, 'EMBEDDED_PG_PORT'],
    [{ ADMIN_EMAIL: 'nope' }, 'ADMIN_EMAIL'],
    [{ ADMIN_USERNAME: 'a b' }, 'ADMIN_USERNAME'],
    [{ TLS_CERT_FILE: '/cert.pem' }, 'TLS_CERT_FILE/TLS_KEY_FILE'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ OPS_TOKEN: 'too-short-to-guess-safely' }, 'OPS_TOKEN'],
    [{ METRICS_TOKEN: 'too-short-to-guess-safely' }, 'METRICS_TOKEN'],
    [{ WS_MAX_BUFFERED_BYTES: '0' }, 'WS_MAX_BUFFERED_BYTES'],
    [{ WS_MAX_CONNECTIONS_PER_IP: 'many' }, 'WS_MAX_CONNECTIONS_PER_IP'],
    [{ REFRESH_REUSE_GRACE_SECONDS: '301' }, 'REFRESH_REUSE_GRACE_SECONDS'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '0' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ OAUTH_GITHUB_CLIENT_ID: 'only-the-id' }, 'OAUTH_GITHUB_CLIENT_ID/OAUTH_GITHUB_CLIENT_SECRET'],
    [{ OAUTH_GOOGLE_CLIENT_SECRET: 'only-the-secret' }, 'OAUTH_GOOGLE_CLIENT_ID/OAUTH_GOOGLE_CLIENT_SECRET'],
    [{ OAUTH_GOOGLE_TOKEN_URL: 'ftp://example.com/token' }, 'OAUTH_GOOGLE_TOKEN_URL'],
    [{ OAUTH_CALLBACK_BASE_URL: 'not a url' }, 'OAUTH_CALLBACK_BASE_URL'],
    [{ OAUTH_HTTP_TIMEOUT_MS: '0' }, 'OAUTH_HTTP_TIMEOUT_MS'],
    [{ OAUTH_REDIRECT_ALLOWLIST: 'https://app.example.com/path' }, 'OAUTH_REDIRECT_ALLOWLIST'],
    [{ OAUTH_DEFAULT_REDIRECT: 'https://evil.example/' }, 'OAUTH_DEFAULT_REDIRECT'],
    [{ OAUTH_DEFAULT_REDIRECT: '//evil.example/' }, 'OAUTH_DEFAULT_REDIRECT'],
    [{ EVENT_BUS: 'kafka' }, 'EVENT_BUS'],
    [{ EVENT_BUS: 'redis' }, 'EVENT_BUS'],
    [{ EVENT_BUS: 'memory', WORKERS: '3' }, 'EVENT_BUS'],
    [{ WORKERS: '0' }, 'WORKERS'],
    [{ BUS_GAP_HOLD_MS: '0' }, 'BUS_GAP_HOLD_MS'],
    [{ PRESENCE_HEARTBEAT_MS: '5000', PRESENCE_TTL_MS: '5000' }, 'PRESENCE_TTL_MS'],
  ];
  for (const [env, name] of cases) {
    const issues = issuesOf(env);
    t.equal(issues.length, 1, JSON.stringify(env));
    t.ok(issues[0]?.startsWith(`${name}: `), `${JSON.stringify(env)} -> ${issues[0]}`);
  }
  const several = issuesOf({ PORT: 'abc', LOG_LEVEL: 'loud' });
  t.same(several.map((issue) => issue.split(':')[0]), ['PORT', 'LOG_LEVEL'], 'every bad variable is named at once');
  t.throws(() => loadConfig({ PORT: 'abc' }), { name: 'ConfigError', message: /Invalid configuration:\n {2}- PORT: / });
});

t.test('OAuth settings: defaults, a provider is both id and secret, the default redirect passes the allowlist', async (t) => {
  const defaults = loadConfig({});
  t.equal(defaults.OAUTH_CALLBACK_BASE_URL, undefined, 'unset: the callback URL follows the request origin');
  t.equal(defaults.OAUTH_DEFAULT_REDIRECT, '/');
  t.equal(defaults.OAUTH_HTTP_TIMEOUT_MS, 10_000);
  t.equal(defaults.OAUTH_GITHUB_USER_URL, 'https://api.github.com/user');
  const configured = loadConfig({
    OAUTH_GITHUB_CLIENT_ID: 'id',
    OAUTH_GITHUB_CLIENT_SECRET: 'secret',
    OAUTH_REDIRECT_ALLOWLIST: 'https://app.example.com, http://localhost:3000',
    OAUTH_DEFAULT_REDIRECT: 'https://app.example.com/home',
  });
  t.same(configured.OAUTH_REDIRECT_ALLOWLIST, ['https://app.example.com', 'http://localhost:3000']);
  t.equal(configured.OAUTH_DEFAULT_REDIRECT, 'https://app.example.com/home');
});

t.test('RATE_LIMITS: budget overrides, each bad entry named at boot', async (t) => {
  t.same(loadConfig({}).RATE_LIMITS, {}, 'unset: every budget keeps its default');
  t.same(loadConfig({ RATE_LIMITS: 'message_send=10/5s, search=60/1m' }).RATE_LIMITS, {
    message_send: { limit: 10, windowMs: 5000 },
    search: { limit: 60, windowMs: 60_000 },
  });
  const issues = issuesOf({ RATE_LIMITS: 'message_send=10/5s,messages=3/1s,typing=0/1s' });
  t.equal(issues.length, 2, 'both bad entries');
  t.match(issues[0], /^RATE_LIMITS: "messages=3\/1s": unknown budget messages/);
  t.match(issues[1], /^RATE_LIMITS: "typing=0\/1s": the limit must be/);
});

t.test('the real server refuses to start on a bad value, naming it', async (t) => {
  const result = await runNode(['src/server.ts'], { PORT: 'abc', DATA_DIR: '/nonexistent/never-used', EMBEDDED_PG_PORT: String(await freePort()) }, 30_000);
  t.equal(result.code, 1, 'exit code 1');
  t.equal(result.signal, null);
  t.match(result.stderr, /Invalid configuration:\n {2}- PORT: /);
  t.equal(result.stdout, '', 'it stopped before starting anything');
});

t.test('EVENT_BUS=auto picks the bus from REDIS_URL and WORKERS', async (t) => {
  const { busKindOf } = await import('../src/bus/create-event-bus.ts');
  t.equal(busKindOf(loadConfig({})), 'memory');
  t.equal(busKindOf(loadConfig({ WORKERS: '4' })), 'postgres');
  t.equal(busKindOf(loadConfig({ WORKERS: '4', REDIS_URL: 'redis://127.0.0.1:6379' })), 'redis');
  t.equal(busKindOf(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })), 'redis');
  t.equal(busKindOf(loadConfig({ EVENT_BUS: 'postgres', REDIS_URL: 'redis://127.0.0.1:6379' })), 'postgres');
});
