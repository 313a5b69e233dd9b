import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded-postgres.ts';
import { migrate } from '../db/migrate.ts';
import { createDatabasePool, type DatabasePool } from '../db/pool.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const migrationsDirectory = path.join(projectRoot, 'sql');

declare module 'fastify' {
  interface FastifyInstance {
    db: DatabasePool;
    databaseHealthy(): Promise<boolean>;
  }
}

/**
 * Connects to DATABASE_URL, or starts embedded PostgreSQL in DATA_DIR when it is unset;
 * applies migrations before the server accepts requests; closes everything on app close.
 */
export default fp(
  async function databasePlugin(app: FastifyInstance, options: { config: Config }) {
    const { config } = options;
    let embedded: EmbeddedDatabase | undefined;
    let url = config.DATABASE_URL;
    if (!url) {
      const dataDir = path.resolve(projectRoot, config.DATA_DIR);
      app.log.info({ dataDir, port: config.EMBEDDED_PG_PORT }, 'starting embedded PostgreSQL');
      embedded = await startEmbeddedPostgres({
        dataDir,
        port: config.EMBEDDED_PG_PORT,
        log: (message) => app.log.debug({ postgres: message }, 'postgres'),
      });
      url = embedded.url;
    }
    try {
      const result = await migrate(url, migrationsDirectory);
      app.log.info({ applied: result.applied, alreadyApplied: result.alreadyApplied }, 'migrations up to date');
      const pool = await createDatabasePool(url, config.DATABASE_POOL_SIZE);
      app.decorate('db', pool);
      app.decorate('databaseHealthy', async () => {
        try {
          await pool.oneFirst(sql.type(z.object({ ok: z.number() }))`SELECT 1 AS ok`);
          return true;
        } catch {
          return false;
        }
      });
      app.addHook('onClose', async () => {
        await pool.end().catch(() => {});
        await embedded?.stop();
      });
    } catch (error) {
      await embedded?.stop();
      throw error;
    }
  },
  { name: 'database' },
);
