import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { migrationsDirectory } from '../../src/db/open-database.ts';
import { freePort, queryDatabase, runNode } from '../helpers/accounts.ts';
import { createTestDatabase } from '../helpers/database.ts';

const labels = async () =>
  (await readdir(migrationsDirectory))
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => file.replace(/\.sql$/, ''));

t.test('npm run db:migrate against DATABASE_URL: applies, then has nothing to do', async (t) => {
  const database = await createTestDatabase({ empty: true });
  t.teardown(database.drop);
  const expected = await labels();

  const first = await runNode(['scripts/db-migrate.ts'], { DATABASE_URL: database.url });
  t.equal(first.code, 0, first.stderr);
  for (const label of expected) t.match(first.stdout, `applied ${label}\n`);
  t.match(first.stdout, `${expected.length} migration(s) applied`);
  const rows = await queryDatabase(database.url, 'SELECT count(*)::int AS n FROM schema_migrations');
  t.same(rows, [{ n: expected.length }]);

  const second = await runNode(['scripts/db-migrate.ts'], { DATABASE_URL: database.url });
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, `nothing to apply: all ${expected.length} migrations were already applied`);
  t.notMatch(second.stdout, /^applied /m);
});

t.test('npm run db:migrate with embedded PostgreSQL in DATA_DIR starts and stops the cluster', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-migrate-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
  const first = await runNode(['scripts/db-migrate.ts'], env);
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, `starting embedded PostgreSQL in ${dataDir}`);
  for (const label of await labels()) t.match(first.stdout, `applied ${label}`);
  t.ok(existsSync(path.join(dataDir, 'pg', 'PG_VERSION')), 'the cluster lives in DATA_DIR/pg');
  t.notOk(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'and is stopped when the script ends');
  const second = await runNode(['scripts/db-migrate.ts'], env);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /nothing to apply/, 'the data survived: the second run finds everything applied');
});

t.test('npm run db:migrate fails loudly (non-zero, with the message)', async (t) => {
  const unreachable = await runNode(['scripts/db-migrate.ts'], {
    DATABASE_URL: `postgres://nobody:nothing@127.0.0.1:${await freePort()}/nowhere`,
  });
  t.equal(unreachable.code, 1, 'an unreachable database');
  t.match(unreachable.stderr, /^db:migrate failed: .*ECONNREFUSED/m);

  const badConfig = await runNode(['scripts/db-migrate.ts'], { DATABASE_URL: 'not a url' });
  t.equal(badConfig.code, 1, 'a bad setting');
  t.match(badConfig.stderr, /DATABASE_URL/);

  const database = await createTestDatabase({ empty: true });
  t.teardown(database.drop);
  await queryDatabase(database.url, 'CREATE TABLE users (id int)');
  const failing = await runNode(['scripts/db-migrate.ts'], { DATABASE_URL: database.url });
  t.equal(failing.code, 1, 'a failing migration');
  t.match(failing.stderr, /db:migrate failed: Migration 001_accounts failed: .*"users" already exists/);
  t.same(await queryDatabase(database.url, 'SELECT count(*)::int AS n FROM schema_migrations'), [{ n: 0 }], 'nothing recorded');
});
