/**
 * `npm run db:migrate`: applies the migrations in sql/ to the configured database — DATABASE_URL,
 * or the embedded PostgreSQL in DATA_DIR, started and stopped here exactly as the server does.
 * Prints what it applied; any failure prints its message and exits non-zero.
 */
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { migrationsDirectory, openDatabase, type OpenedDatabase } from '../src/db/open-database.ts';

const quietLog = {
  info: (details: object, message: string) => {
    if ('dataDir' in details) console.log(`${message} in ${String(details.dataDir)}`);
  },
  debug: () => {},
};

let exitCode = 0;
let database: OpenedDatabase | undefined;
try {
  const config = loadConfig();
  database = await openDatabase(config, quietLog, { attachToRunning: true });
  const result = await migrate(database.url, migrationsDirectory);
  for (const label of result.applied) console.log(`applied ${label}`);
  console.log(
    result.applied.length === 0
      ? `nothing to apply: all ${result.alreadyApplied} migrations were already applied`
      : `${result.applied.length} migration(s) applied, ${result.alreadyApplied} already applied before`,
  );
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await database?.stop().catch((error: unknown) => {
    console.error(`could not stop embedded PostgreSQL: ${(error as Error).message}`);
    exitCode = 1;
  });
}
process.exit(exitCode);
