import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'slonik';
import { z } from 'zod';
import type { Config } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { migrationsDirectory, openDatabase } from '../db/open-database.ts';
import { createDatabasePool, type DatabasePool } from '../db/pool.ts';

export { migrationsDirectory, projectRoot } from '../db/open-database.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: DatabasePool;
    /** The connection string the pool uses (for the few clients outside it, e.g. LISTEN). */
    databaseUrl: string;
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
    const database = await openDatabase(config, app.log);
    const { url } = database;
    try {
      const result = await migrate(url, migrationsDirectory);
      app.log.info({ applied: result.applied, alreadyApplied: result.alreadyApplied }, 'migrations up to date');
      const pool = await createDatabasePool(url, config.DATABASE_POOL_SIZE);
      app.decorate('db', pool);
      app.decorate('databaseUrl', url);
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
        await database.stop();
      });
    } catch (error) {
      await database.stop();
      throw error;
    }
  },
  { name: 'database' },
);
