import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { configWith, type Config } from '../../src/config.ts';
import { budgetNames, type BudgetOverrides } from '../../src/domain/rate-limit-budgets.ts';
import { contractViolations, headerViolations } from './contract.ts';
import { createTestDatabase } from './database.ts';
// Compiles the OpenAPI meta-schema once per test process instead of once per app.
import './spec-validator-cache.ts';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body, sent as is (for malformed-input tests). */
  rawBody?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
}

export type ApiClient = (method: string, url: string, options?: RequestOptions) => Promise<ApiResponse>;

export interface TestApp {
  app: Awaited<ReturnType<typeof buildApp>>;
  config: Config;
  baseUrl: string;
  databaseUrl: string;
  api: ApiClient;
}

/** Every budget of the rate-limit table at 100,000 per minute (register/login: the variables below). */
const generousBudgets: BudgetOverrides = Object.fromEntries(
  budgetNames
    .filter((name) => name !== 'register' && name !== 'login' && name !== 'login_account')
    .map((name) => [name, { limit: 100_000, windowMs: 60_000 }]),
);

/**
 * Generous limits so ordinary tests never trip the rate limiters; rate-limit tests lower them
 * (`RATE_LIMITS` overrides are merged over these budget by budget).
 */
export const testDefaults: Partial<Config> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  HOST: '127.0.0.1',
  PORT: 0,
  JWT_SECRET: 'test-secret-that-is-long-enough-0123456789',
  RATE_LIMIT_REGISTER_PER_IP: 100_000,
  RATE_LIMIT_LOGIN_PER_IP: 100_000,
  RATE_LIMIT_LOGIN_PER_ACCOUNT: 100_000,
  RATE_LIMITS: generousBudgets,
  DATABASE_POOL_SIZE: 5,
};

/** The METRICS_TOKEN of tests that read /metrics: `build(t, { METRICS_TOKEN: TEST_METRICS_TOKEN })`. */
export const TEST_METRICS_TOKEN = 'metrics-token-for-tests-0123456789abcdef';

export interface BuildOptions {
  /** The app's clock, epoch ms (rate-limit windows, the refresh grace): tests move it instead of sleeping. */
  clock?: () => number;
}

/**
 * Builds a real app on a fresh database copied from the migrated template, listening on an
 * ephemeral port. Every response that goes through `api` is checked against openapi.yaml.
 */
export async function build(t: Test, overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-test-'));
  const config = configWith({
    ...testDefaults,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    ...overrides,
    RATE_LIMITS: { ...testDefaults.RATE_LIMITS, ...overrides.RATE_LIMITS },
  });
  const app = await buildApp(config, options);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  t.teardown(async () => {
    await app.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, config, baseUrl, databaseUrl: database.url, api: apiClient(t, baseUrl) };
}

export function apiClient(t: Test, baseUrl: string): ApiClient {
  return async (method, url, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | Buffer | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${baseUrl}${url}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? undefined;
    let parsed: unknown = text === '' ? undefined : text;
    if (contentType?.includes('json') && text !== '') parsed = JSON.parse(text);
    const violations = [
      ...contractViolations(method, url, response.status, contentType, parsed),
      ...headerViolations(method, url, response.status, response.headers),
    ];
    if (violations.length > 0) {
      t.fail(`response breaks openapi.yaml: ${violations.join('; ')}`, { body: parsed });
    }
    return { status: response.status, headers: response.headers, body: parsed as any, text };
  };
}

let counter = 0;
/** A unique, policy-conforming account. */
export function newAccount(prefix = 'user') {
  counter += 1;
  const unique = `${prefix}${process.pid}x${counter}x${Math.random().toString(36).slice(2, 6)}`.slice(0, 32);
  return { username: unique, email: `${unique}@example.com`, password: 'Sup3r-secret' };
}

export interface Registered {
  user: { id: string; username: string; email?: string; role: string };
  token: string;
  refreshToken: string;
  password: string;
}

export async function register(api: ApiClient, overrides: Record<string, unknown> = {}): Promise<Registered> {
  const account = { ...newAccount(), ...overrides };
  const response = await api('POST', '/api/v1/auth/register', { body: account });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return {
    user: response.body.user,
    token: response.body.access_token,
    refreshToken: response.body.refresh_token,
    password: account.password as string,
  };
}
