/**
 * `npm run create-admin -- --email a@b.c --password 'Xyz12345' [--username admin]`
 * Creates an admin account, or promotes (and reactivates) the account with that email.
 * Without flags it reads ADMIN_EMAIL, ADMIN_PASSWORD and ADMIN_USERNAME. Uses DATABASE_URL or the
 * embedded PostgreSQL in DATA_DIR exactly as the server does, applying pending migrations first.
 * Prints the admin's id; a bad password (policy) or any other error exits non-zero.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { migrationsDirectory, openDatabase, type OpenedDatabase } from '../src/db/open-database.ts';
import { createDatabasePool } from '../src/db/pool.ts';
import { passwordPolicyViolations } from '../src/domain/password-policy.ts';
import { ProblemError } from '../src/errors.ts';
import { ensureAdmin } from '../src/services/admin-bootstrap.ts';

const USAGE = "usage: npm run create-admin -- --email a@b.c --password 'Xyz12345' [--username admin]";

class UsageError extends Error {}

function readInput() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      username: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const email = values.email ?? process.env.ADMIN_EMAIL;
  const password = values.password ?? process.env.ADMIN_PASSWORD;
  const username = values.username ?? process.env.ADMIN_USERNAME ?? 'admin';
  if (!email || !password) throw new UsageError(`--email and --password (or ADMIN_EMAIL and ADMIN_PASSWORD) are required\n${USAGE}`);
  if (!z.string().email().max(254).safeParse(email).success) throw new UsageError(`email: "${email}" is not a valid email address`);
  if (!/^[A-Za-z0-9_.-]{3,32}$/.test(username)) {
    throw new UsageError(`username: "${username}" must be 3-32 characters of letters, digits, "_", "." or "-"`);
  }
  const violations = passwordPolicyViolations(password);
  if (password.length > 128) violations.push('must be at most 128 characters');
  if (violations.length > 0) throw new UsageError(`password: ${violations.join(', ')}`);
  return { email, password, username };
}

let exitCode = 0;
let database: OpenedDatabase | undefined;
try {
  const admin = readInput();
  // Only the database settings matter here; the ADMIN_* variables were read above.
  const config = loadConfig({ ...process.env, ADMIN_EMAIL: undefined, ADMIN_PASSWORD: undefined, ADMIN_USERNAME: undefined });
  database = await openDatabase(config, { info: () => {}, debug: () => {} }, { attachToRunning: true });
  await migrate(database.url, migrationsDirectory);
  const pool = await createDatabasePool(database.url, 1);
  try {
    const { user, created } = await ensureAdmin(pool, admin);
    console.log(`${created ? 'created admin' : 'admin is the existing account'} ${user.username} <${user.email}> with id ${user.id}`);
  } finally {
    await pool.end();
  }
} catch (error) {
  const message =
    error instanceof ProblemError && error.errors
      ? `${error.message} ${error.errors.map((issue) => `${issue.field.replace(/^\//, '')}: ${issue.message}`).join('; ')}`
      : (error as Error).message;
  console.error(`create-admin failed: ${message}`);
  exitCode = 1;
} finally {
  await database?.stop().catch(() => {
    exitCode = 1;
  });
}
process.exit(exitCode);
