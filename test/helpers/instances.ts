import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { apiClient, register, type ApiClient } from './build.ts';
import { createTestDatabase } from './database.ts';
import { startServer, type RunningServer } from './server-process.ts';

export interface Instance {
  server: RunningServer;
  baseUrl: string;
  api: ApiClient;
}

export const SHARED_JWT_SECRET = 'multi-instance-secret-0123456789abcdef';

/**
 * `count` real server processes (`node src/server.ts`, each its own port) on one fresh test
 * database, with `env` (REDIS_URL, EVENT_BUS, ...). Started one after another: the first applies
 * nothing new (the template is migrated), the others find the same schema.
 */
export async function startInstances(
  t: Test,
  count: number,
  env: Record<string, string>,
  /** Settings of one instance only (say, its own REDIS_URL through a proxy). */
  envOf: (index: number) => Record<string, string> = () => ({}),
): Promise<{ instances: Instance[]; databaseUrl: string; start: (extra?: Record<string, string>) => Promise<Instance> }> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-instances-'));
  t.teardown(async () => {
    // startServer's teardowns (registered later) kill the processes first.
    await database.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });
  const start = async (extra: Record<string, string> = {}): Promise<Instance> => {
    const server = await startServer(t, dataDir, 54329, {
      env: {
        DATABASE_URL: database.url,
        JWT_SECRET: SHARED_JWT_SECRET,
        DATABASE_POOL_SIZE: '4',
        PRESENCE_GRACE_MS: '0',
        ...env,
        ...extra,
      },
    });
    return { server, baseUrl: server.baseUrl, api: apiClient(t, server.baseUrl) };
  };
  const instances: Instance[] = [];
  for (let index = 0; index < count; index += 1) instances.push(await start(envOf(index)));
  return { instances, databaseUrl: database.url, start };
}

/** Polls an async check (bounded) until it is true; returns whether it became true within `withinMs`. */
export async function pollUntil(check: () => Promise<boolean>, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A new account's login with a wrong password, tried `attempts` times, alternating between `a` and
 * `b`: the statuses, for budgets that must be counted across instances.
 */
export async function wrongLoginsAcross(a: Instance, b: Instance, attempts: number): Promise<number[]> {
  const user = await register(a.api);
  const statuses: number[] = [];
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const instance = attempt % 2 === 0 ? a : b;
    statuses.push((await instance.api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: 'wrong-password-1' } })).status);
  }
  return statuses;
}
