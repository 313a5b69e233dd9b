import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

/**
 * Migration rules, all in one place:
 * - files are `sql/NNN_description.sql`, applied in numeric order, each in its own transaction;
 * - each applied file is recorded with a sha256 checksum; editing an applied file stops the start;
 * - a session advisory lock serialises runners, so instances starting at once do not race.
 */
const MIGRATION_FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
const ADVISORY_LOCK_KEY = 724_190_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

export async function readMigrations(directory: string): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) throw new MigrationError(`Migration file name ${file} does not match NNN_name.sql`);
    const sql = await readFile(path.join(directory, file), 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: match[2]!,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  for (let index = 1; index < migrations.length; index += 1) {
    if (migrations[index]!.version === migrations[index - 1]!.version) {
      throw new MigrationError(`Two migrations share version ${migrations[index]!.version}`);
    }
  }
  return migrations;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export async function migrate(databaseUrl: string, directory: string): Promise<MigrateResult> {
  const migrations = await readMigrations(directory);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const applied = new Map(rows.map((row) => [row.version, row]));
    for (const migration of migrations) {
      const recorded = applied.get(migration.version);
      if (recorded && recorded.checksum !== migration.checksum) {
        throw new MigrationError(
          `Migration ${String(migration.version).padStart(3, '0')}_${migration.name}.sql was edited after it was applied ` +
            `(recorded checksum ${recorded.checksum.slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…). ` +
            'Applied migrations are immutable: add a new migration instead.',
        );
      }
    }
    const result: MigrateResult = { applied: [], alreadyApplied: applied.size };
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      const label = `${String(migration.version).padStart(3, '0')}_${migration.name}`;
      try {
        await client.query('BEGIN');
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          migration.checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new MigrationError(`Migration ${label} failed: ${(error as Error).message}`, { cause: error });
      }
      result.applied.push(label);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}
