import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { buildApp } from '../../src/app.ts';
import { configWith } from '../../src/config.ts';
import { createDatabasePool } from '../../src/db/pool.ts';
import { ensureAdmin } from '../../src/services/admin-bootstrap.ts';
import { adminOverrides, login, loginAdmin, queryDatabase } from '../helpers/accounts.ts';
import { build, register, testDefaults } from '../helpers/build.ts';

/** A second app on the same database, as a restart with other settings would be. */
async function restartOn(t: Test, databaseUrl: string, overrides: Record<string, string>) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-admin-'));
  const app = await buildApp(configWith({ ...testDefaults, DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ...overrides }));
  t.teardown(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return app;
}

t.test('ADMIN_EMAIL/ADMIN_PASSWORD create the admin at start', async (t) => {
  const { api, databaseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  t.match(admin.user, { role: 'admin', active: true, username: adminOverrides.ADMIN_USERNAME, email: adminOverrides.ADMIN_EMAIL });
  t.equal((await login(api, adminOverrides.ADMIN_EMAIL.toLowerCase(), adminOverrides.ADMIN_PASSWORD)).user.id, admin.user.id);
  const [row] = await queryDatabase<{ password_hash: string }>(databaseUrl, 'SELECT password_hash FROM users WHERE id = $1', [admin.user.id]);
  t.match(row?.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'hashed like every password');

  await restartOn(t, databaseUrl, adminOverrides);
  t.same(
    await queryDatabase(databaseUrl, 'SELECT count(*)::int AS n FROM users'),
    [{ n: 1 }],
    'starting again with the same settings creates nothing new',
  );
});

t.test('ADMIN_EMAIL of an existing account promotes and reactivates it', async (t) => {
  const { api, databaseUrl } = await build(t);
  const user = await register(api);
  await queryDatabase(databaseUrl, 'UPDATE users SET active = false WHERE id = $1', [user.user.id]);
  await restartOn(t, databaseUrl, { ADMIN_EMAIL: user.user.email!.toUpperCase(), ADMIN_PASSWORD: 'Ignored-pass1' });
  const session = await login(api, user.user.username, user.password);
  t.equal(session.user.role, 'admin', 'promoted');
  t.equal(session.user.active, true, 'reactivated');
  t.equal(session.user.username, user.user.username, 'the account keeps its username');
  const ignored = await api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: 'Ignored-pass1' } });
  t.equal(ignored.status, 401, 'and its password');
});

t.test('without both ADMIN_EMAIL and ADMIN_PASSWORD no admin is made', async (t) => {
  const { databaseUrl } = await build(t, { ADMIN_EMAIL: 'half@example.com' });
  t.same(await queryDatabase(databaseUrl, 'SELECT count(*)::int AS n FROM users'), [{ n: 0 }]);
});

t.test('ensureAdmin holds a new admin password to the policy', async (t) => {
  const { databaseUrl } = await build(t);
  const pool = await createDatabasePool(databaseUrl, 1);
  t.teardown(() => pool.end());
  await t.rejects(ensureAdmin(pool, { email: 'weak@example.com', password: 'weakpass', username: 'weak_admin' }), {
    code: 'validation_failed',
    errors: [
      { field: '/password', message: 'must contain a digit' },
      { field: '/password', message: 'must contain an upper-case letter' },
    ],
  });
  const made = await ensureAdmin(pool, { email: 'strong@example.com', password: 'Str0ng-pass', username: 'strong_admin' });
  t.equal(made.created, true);
  t.equal(made.user.role, 'admin');
  const again = await ensureAdmin(pool, { email: 'STRONG@example.com', password: 'whatever', username: 'other' });
  t.same({ created: again.created, id: again.user.id }, { created: false, id: made.user.id }, 'found by email, case-insensitively');
});
