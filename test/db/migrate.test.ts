import { createHash } from 'node:crypto';
import { appendFile, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { migrate, MigrationError, readMigrations } from '../../src/db/migrate.ts';
import { migrationsDirectory } from '../../src/db/open-database.ts';
import { queryDatabase } from '../helpers/accounts.ts';
import { createTestDatabase } from '../helpers/database.ts';

/** A fresh database with nothing applied, and a private copy of sql/ to edit. */
async function setup(t: Test) {
  const database = await createTestDatabase({ empty: true });
  const directory = await mkdtemp(path.join(tmpdir(), 'parley-sql-'));
  await cp(migrationsDirectory, directory, { recursive: true });
  t.teardown(async () => {
    await database.drop();
    await rm(directory, { recursive: true, force: true });
  });
  const files = (await readdir(directory)).filter((file) => file.endsWith('.sql')).sort();
  const labels = files.map((file) => file.replace(/\.sql$/, ''));
  const recorded = () =>
    queryDatabase<{ version: number; name: string; checksum: string }>(
      database.url,
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
  return { url: database.url, directory, files, labels, recorded };
}

const tableExists = async (url: string, table: string) =>
  (await queryDatabase<{ found: string | null }>(url, 'SELECT to_regclass($1)::text AS found', [table]))[0]?.found !== null;

t.test('the first run applies every migration in order and records its checksum', async (t) => {
  const { url, directory, files, labels, recorded } = await setup(t);
  t.ok(files.length >= 1, `sql/ holds ${files.length} migrations`);
  const result = await migrate(url, directory);
  t.same(result, { applied: labels, alreadyApplied: 0 });
  const rows = await recorded();
  t.same(
    rows.map((row) => `${String(row.version).padStart(3, '0')}_${row.name}`),
    labels,
  );
  for (const [index, file] of files.entries()) {
    const sha = createHash('sha256').update(await readFile(path.join(directory, file), 'utf8')).digest('hex');
    t.equal(rows[index]?.checksum, sha, `${file}: sha256 recorded`);
  }
  t.ok(await tableExists(url, 'users'), 'the schema is there');
});

t.test('a re-run is a no-op', async (t) => {
  const { url, directory, labels, recorded } = await setup(t);
  await migrate(url, directory);
  const before = await queryDatabase(url, 'SELECT version, applied_at FROM schema_migrations ORDER BY version');
  const again = await migrate(url, directory);
  t.same(again, { applied: [], alreadyApplied: labels.length });
  t.same(await queryDatabase(url, 'SELECT version, applied_at FROM schema_migrations ORDER BY version'), before, 'nothing re-recorded');
  t.equal((await recorded()).length, labels.length);
});

t.test('an edited, already-applied migration stops the run with a clear error', async (t) => {
  const { url, directory, files, recorded } = await setup(t);
  await migrate(url, directory);
  const before = await recorded();
  await appendFile(path.join(directory, files[0]!), '\n-- an innocent-looking edit\n');
  await writeFile(path.join(directory, '999_after_edit.sql'), 'CREATE TABLE after_edit (id int);\n');
  const error = await migrate(url, directory).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof MigrationError, 'a MigrationError');
  t.match((error as Error).message, new RegExp(`Migration ${files[0]!.replace('.', '\\.')} was edited after it was applied`));
  t.match((error as Error).message, /add a new migration instead/);
  t.same(await recorded(), before, 'nothing recorded');
  t.notOk(await tableExists(url, 'after_edit'), 'and no later migration ran');
});

t.test('a failing migration rolls back completely and records nothing', async (t) => {
  const { url, directory, labels, recorded } = await setup(t);
  await writeFile(path.join(directory, '900_fine.sql'), 'CREATE TABLE fine_table (id int);\n');
  await writeFile(
    path.join(directory, '901_broken.sql'),
    'CREATE TABLE half_written (id int);\nINSERT INTO half_written VALUES (1);\nSELECT no_such_function();\n',
  );
  await writeFile(path.join(directory, '902_never.sql'), 'CREATE TABLE never_reached (id int);\n');
  const error = await migrate(url, directory).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof MigrationError);
  t.match((error as Error).message, /^Migration 901_broken failed: .*no_such_function/);
  t.notOk(await tableExists(url, 'half_written'), "the failing migration's own statements were rolled back");
  t.notOk(await tableExists(url, 'never_reached'), 'later migrations did not run');
  t.ok(await tableExists(url, 'fine_table'), 'earlier migrations (their own transactions) stay');
  t.same(
    (await recorded()).map((row) => row.version),
    [...labels.map((label) => Number(label.slice(0, 3))), 900],
    '901 is not recorded',
  );

  await writeFile(path.join(directory, '901_broken.sql'), 'CREATE TABLE half_written (id int);\n');
  const fixed = await migrate(url, directory);
  t.same(fixed.applied, ['901_broken', '902_never'], 'once fixed, the run resumes where it stopped');
});

t.test('badly named or duplicated migration files are refused before anything runs', async (t) => {
  const { url, directory, recorded } = await setup(t);
  await writeFile(path.join(directory, 'cleanup.sql'), 'SELECT 1;\n');
  await t.rejects(migrate(url, directory), /Migration file name cleanup\.sql does not match NNN_name\.sql/);
  await rm(path.join(directory, 'cleanup.sql'));
  await writeFile(path.join(directory, '001_again.sql'), 'SELECT 1;\n');
  await t.rejects(readMigrations(directory), /Two migrations share version 1/);
  await t.rejects(migrate(url, directory), MigrationError);
  t.same(await queryDatabase(url, "SELECT to_regclass('schema_migrations')::text AS found"), [{ found: null }]);
  t.same(await recorded().catch(() => 'no table'), 'no table', 'nothing was created');
});

t.test('two runners at once on a fresh database do not race (advisory lock)', async (t) => {
  const { url, directory, labels, recorded } = await setup(t);
  // A slow migration keeps the first runner inside the lock while the second one arrives.
  await writeFile(path.join(directory, '950_slow.sql'), 'SELECT pg_sleep(0.5);\nCREATE TABLE slow_done (id int);\n');
  const [first, second] = await Promise.all([migrate(url, directory), migrate(url, directory)]);
  const all = [...labels, '950_slow'];
  t.same([...first.applied, ...second.applied].sort(), all, 'every migration applied exactly once across both runners');
  t.ok(
    (first.applied.length === all.length && second.applied.length === 0) ||
      (second.applied.length === all.length && first.applied.length === 0),
    'one runner did all the work; the other waited and found nothing to do',
  );
  t.equal((first.applied.length === 0 ? first : second).alreadyApplied, all.length);
  t.equal((await recorded()).length, all.length);
  const locks = await queryDatabase(url, "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
  t.same(locks, [{ n: 0 }], 'the advisory lock is released');
});
