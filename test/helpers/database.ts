import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { createDatabasePool, type DatabasePool } from '../../src/db/pool.ts';

/**
 * `npm test` (scripts/test.ts) starts one PostgreSQL for the run (embedded, or DATABASE_URL),
 * migrates a template database once, and passes both here. Each test app gets a fresh copy.
 */
export function testDatabaseSettings(): { adminUrl: string; template: string } {
  const adminUrl = process.env.PARLEY_TEST_ADMIN_URL;
  const template = process.env.PARLEY_TEST_TEMPLATE;
  if (!adminUrl || !template) {
    throw new Error('Run the tests through `npm test`: it provides PARLEY_TEST_ADMIN_URL and PARLEY_TEST_TEMPLATE.');
  }
  return { adminUrl, template };
}

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh database copied from the migrated template, or (`empty: true`) one with no migrations applied. */
export async function createTestDatabase(
  options: { empty?: boolean } = {},
): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const { adminUrl, template: migratedTemplate } = testDatabaseSettings();
  const template = options.empty ? 'template0' : migratedTemplate;
  const name = `parley_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // CREATE DATABASE ... TEMPLATE fails while another session copies the same template: retry.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
        break;
      } catch (error) {
        if (attempt >= 50 || !String((error as Error).message).includes('being accessed by other users')) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
      }
    }
  } finally {
    await client.end();
  }
  return {
    name,
    url: databaseUrl(adminUrl, name),
    drop: async () => {
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A fresh migrated database and a Slonik pool of `size` on it, both gone at the end of `t`
 * (the pool ends first, then the database is dropped).
 */
export async function createTestPool(t: Test, size: number): Promise<{ database: { url: string; name: string }; pool: DatabasePool }> {
  const database = await createTestDatabase();
  const pool = await createDatabasePool(database.url, size);
  t.teardown(async () => {
    await pool.end();
    await database.drop();
  });
  return { database, pool };
}
