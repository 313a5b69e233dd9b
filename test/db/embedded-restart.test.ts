import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { migrationsDirectory } from '../../src/db/open-database.ts';
import { freePort, login, queryDatabase, runNode } from '../helpers/accounts.ts';
import { apiClient, register } from '../helpers/build.ts';
import { childrenOf, eventually, isRunning, startServer, type RunningServer } from '../helpers/server-process.ts';

const portIsClosed = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

async function stopServer(t: Test, server: RunningServer, dataDir: string, pgPort: number, label: string) {
  const postmasterPid = path.join(dataDir, 'pg', 'postmaster.pid');
  const pgPid = Number(readFileSync(postmasterPid, 'utf8').split('\n')[0]);
  t.ok(pgPid > 0, `${label}: the embedded PostgreSQL runs (pid ${pgPid})`);
  const watchdogs = childrenOf(server.pid).filter((pid) => pid !== pgPid);
  t.equal(watchdogs.length, 1, `${label}: beside it, one watchdog`);
  server.child.kill('SIGTERM');
  const { code, signal } = await server.exited;
  t.equal(code, 0, `${label}: SIGTERM ends the server with exit code 0`);
  t.equal(signal, null, `${label}: by itself, not by the signal`);
  t.notMatch(server.output(), /"level":(50|60)/, `${label}: no error was logged\n${server.output()}`);
  t.notOk(existsSync(postmasterPid), `${label}: the embedded PostgreSQL shut down cleanly (no postmaster.pid)`);
  let alive = true;
  try {
    process.kill(pgPid, 0);
  } catch {
    alive = false;
  }
  t.notOk(alive, `${label}: the postgres process is gone`);
  t.ok(await portIsClosed(pgPort), `${label}: nothing listens on the embedded port any more`);
  t.notOk(existsSync(path.join(dataDir, 'embedded-owner.json')), `${label}: the owner lock is released`);
  t.ok(await eventually(() => !watchdogs.some(isRunning), 5_000), `${label}: the watchdog is gone too`);
}

t.test('npm start (embedded mode): migrations at start, clean SIGTERM, data survives a restart', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-restart-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const pgPort = await freePort();

  const first = await startServer(t, dataDir, pgPort);
  const api = apiClient(t, first.baseUrl);
  const account = await register(api, { display_name: 'Survivor' });
  t.equal((await api('GET', '/api/v1/users/@me', { token: account.token })).status, 200);

  const password = readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${pgPort}/parley`;
  const files = (await readdir(migrationsDirectory)).filter((file) => file.endsWith('.sql'));
  t.same(
    await queryDatabase(url, 'SELECT count(*)::int AS n FROM schema_migrations'),
    [{ n: files.length }],
    'every migration was applied at start',
  );
  t.ok(existsSync(path.join(dataDir, 'jwt-secret')), 'the development JWT secret is kept in DATA_DIR');

  // The scripts work beside a running server: they use the cluster it holds and leave it running.
  const scriptEnv = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) };
  const migrated = await runNode(['scripts/db-migrate.ts'], scriptEnv);
  t.equal(migrated.code, 0, migrated.stderr);
  t.match(migrated.stdout, /using the embedded PostgreSQL a running server holds/);
  t.match(migrated.stdout, /nothing to apply/);
  const promoted = await runNode(['scripts/create-admin.ts', '--email', account.user.email!, '--password', 'Unused-pass1'], scriptEnv);
  t.equal(promoted.code, 0, promoted.stderr);
  t.match(promoted.stdout, `with id ${account.user.id}`);
  const stats = await api('GET', '/api/v1/users/statistics', { token: account.token });
  t.equal(stats.status, 200, 'create-admin promoted the account on the running server');
  t.equal(stats.body.by_role.admin, 1);

  await stopServer(t, first, dataDir, pgPort, 'first run');

  const second = await startServer(t, dataDir, pgPort);
  const api2 = apiClient(t, second.baseUrl);
  const session = await login(api2, account.user.username, account.password);
  t.equal(session.user.id, account.user.id, 'the user registered before the restart logs in');
  t.equal(session.user.display_name, 'Survivor');
  const old = await api2('GET', '/api/v1/users/@me', { token: account.token });
  t.equal(old.status, 200, 'an access token issued before the restart still works (session and secret persisted)');
  const refreshed = await api2('POST', '/api/v1/auth/refresh', { body: { refresh_token: account.refreshToken } });
  t.equal(refreshed.status, 200, 'so does its refresh token');

  await stopServer(t, second, dataDir, pgPort, 'second run');
});
