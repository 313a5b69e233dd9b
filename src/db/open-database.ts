import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { attachToRunningEmbedded, startEmbeddedPostgres } from './embedded-postgres.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const migrationsDirectory = path.join(projectRoot, 'sql');

export interface OpenedDatabase {
  url: string;
  /** The embedded cluster's data folder, when Parley started one. */
  embeddedDataDir: string | undefined;
  /** Stops the embedded cluster; a no-op with DATABASE_URL. */
  stop(): Promise<void>;
}

export interface DatabaseLog {
  info(details: object, message: string): void;
  debug(details: object, message: string): void;
}

/**
 * The one rule for where the database is, shared by the server, `npm run db:migrate` and
 * `npm run create-admin`: DATABASE_URL when set, otherwise embedded PostgreSQL in DATA_DIR
 * (relative to the project folder) on EMBEDDED_PG_PORT. With `attachToRunning` (the scripts), a
 * cluster a running server already holds in DATA_DIR is used as it is, and left running.
 */
export async function openDatabase(
  config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR' | 'EMBEDDED_PG_PORT'>,
  log: DatabaseLog,
  options: { attachToRunning?: boolean } = {},
): Promise<OpenedDatabase> {
  if (config.DATABASE_URL) {
    return { url: config.DATABASE_URL, embeddedDataDir: undefined, stop: async () => {} };
  }
  const dataDir = path.resolve(projectRoot, config.DATA_DIR);
  const notice = (message: string) => log.info({ dataDir }, message);
  if (options.attachToRunning) {
    const running = await attachToRunningEmbedded({ dataDir, notice });
    if (running) {
      log.info({ dataDir, running: true }, 'using the embedded PostgreSQL a running server holds');
      return { url: running.url, embeddedDataDir: dataDir, stop: running.stop };
    }
  }
  log.info({ dataDir, port: config.EMBEDDED_PG_PORT }, 'starting embedded PostgreSQL');
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: config.EMBEDDED_PG_PORT,
    log: (message) => log.debug({ postgres: message }, 'postgres'),
    notice,
  });
  return { url: embedded.url, embeddedDataDir: dataDir, stop: () => embedded.stop() };
}
