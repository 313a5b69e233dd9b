import t from 'tap';
import pg from 'pg';
import pino from 'pino';
import { SessionCache } from '../../src/auth/session-cache.ts';
import { AuthNotificationListener } from '../../src/plugins/auth-cache-plugin.ts';
import { build, register } from '../helpers/build.ts';
import { decodeJwt, queryDatabase, runNode } from '../helpers/accounts.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/poll.ts';

const sessionIdOf = (token: string) => String(decodeJwt(token).payload.sid);

t.test('a session revoked by another connection is refused once the notification arrives', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  t.ok(app.authListener.listening, 'the listener is up when the app is ready');
  const user = await register(api);
  const sid = sessionIdOf(user.token);
  t.equal((await api('GET', '/api/v1/users/@me', { token: user.token })).status, 200);
  t.ok(app.sessionCache.get(sid, user.user.id), 'the session is cached');

  await queryDatabase(databaseUrl, "UPDATE sessions SET revoked_at = now(), revoked_reason = 'test' WHERE id = $1", [sid]);
  await waitFor(() => app.sessionCache.get(sid, user.user.id) === undefined, 'the notification evicts the session');
  t.equal((await api('GET', '/api/v1/users/@me', { token: user.token })).status, 401, 'the next request is refused');

  // Unrelated updates (last_seen_at, profile fields) do not notify: the entry of another session stays.
  const other = await register(api);
  const otherSid = sessionIdOf(other.token);
  t.equal((await api('GET', '/api/v1/users/@me', { token: other.token })).status, 200);
  await queryDatabase(databaseUrl, 'UPDATE users SET last_seen_at = now(), display_name = $2 WHERE id = $1', [other.user.id, 'Renamed']);
  await queryDatabase(databaseUrl, "UPDATE sessions SET last_used_at = now() WHERE id = $1", [otherSid]);
  // A change that does notify, committed after the others: once it is seen, the others were too.
  const marker = await register(api);
  t.equal((await api('GET', '/api/v1/users/@me', { token: marker.token })).status, 200);
  await queryDatabase(databaseUrl, "UPDATE users SET active = false WHERE id = $1", [marker.user.id]);
  await waitFor(() => app.sessionCache.get(sessionIdOf(marker.token), marker.user.id) === undefined, 'the marker notification');
  t.ok(app.sessionCache.get(otherSid, other.user.id), 'last_seen_at / profile / last_used_at updates keep the entry');
  t.equal((await api('GET', '/api/v1/users/@me', { token: marker.token })).status, 401, 'a deactivated account is refused');
});

t.test('create-admin (another process) promoting a user counts from their next request', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const user = await register(api);
  t.equal((await api('GET', '/api/v1/users/statistics', { token: user.token })).status, 403, 'a client may not');
  t.ok(app.sessionCache.get(sessionIdOf(user.token), user.user.id), 'cached as a client');
  const promoted = await runNode(['scripts/create-admin.ts'], {
    DATABASE_URL: databaseUrl,
    ADMIN_EMAIL: user.user.email!,
    ADMIN_PASSWORD: 'Other-pass1',
  });
  t.equal(promoted.code, 0, promoted.stderr);
  await waitFor(() => app.sessionCache.get(sessionIdOf(user.token), user.user.id) === undefined, 'the role notification');
  t.equal((await api('GET', '/api/v1/users/statistics', { token: user.token })).status, 200, 'the same token now acts as an admin');
});

t.test('a user deleted by another connection is refused (their sessions go with the row)', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const user = await register(api);
  t.equal((await api('GET', '/api/v1/users/@me', { token: user.token })).status, 200);
  await queryDatabase(databaseUrl, 'DELETE FROM users WHERE id = $1', [user.user.id]);
  await waitFor(() => app.sessionCache.get(sessionIdOf(user.token), user.user.id) === undefined, 'the delete notification');
  t.equal((await api('GET', '/api/v1/users/@me', { token: user.token })).status, 401);
});

t.test("this process's own changes count at once, without waiting for a notification", async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const admin = await register(api);
  await queryDatabase(databaseUrl, "UPDATE users SET role = 'admin' WHERE id = $1", [admin.user.id]);
  const target = await register(api);
  t.equal((await api('GET', '/api/v1/users/statistics', { token: target.token })).status, 403);
  t.ok(app.sessionCache.get(sessionIdOf(target.token), target.user.id), 'cached as a client');
  const changed = await api('PATCH', `/api/v1/users/${target.user.id}`, { token: admin.token, body: { role: 'admin' } });
  t.equal(changed.status, 200);
  t.equal((await api('GET', '/api/v1/users/statistics', { token: target.token })).status, 200, 'promoted on the very next request');

  const second = await api('POST', '/api/v1/auth/login', { body: { login: target.user.username, password: target.password } });
  const secondToken = second.body.access_token as string;
  t.equal((await api('GET', '/api/v1/users/@me', { token: secondToken })).status, 200);
  t.equal((await api('DELETE', `/api/v1/auth/sessions/${sessionIdOf(secondToken)}`, { token: target.token })).status, 204);
  t.equal((await api('GET', '/api/v1/users/@me', { token: secondToken })).status, 401, 'a revoked session, on the very next request');
  t.equal((await api('POST', '/api/v1/auth/logout', { token: target.token })).status, 204);
  t.equal((await api('GET', '/api/v1/users/@me', { token: target.token })).status, 401, 'logged out, on the very next request');
});

t.test('the listener: the cache is off while it is disconnected, and back after it reconnects', async (t) => {
  const database = await createTestDatabase();
  t.teardown(() => database.drop());
  const cache = new SessionCache({ maxEntries: 100, maxAgeMs: 60_000 });
  const log = pino({ level: 'silent' });
  const listener = new AuthNotificationListener({ databaseUrl: database.url, cache, log, retryDelaysMs: [60_000] });
  t.teardown(() => listener.stop());
  t.notOk(cache.enabled, 'off before LISTEN');
  await listener.start();
  t.ok(listener.listening);
  t.ok(cache.enabled, 'on once LISTEN is in effect');
  cache.set({ sessionId: '1', userId: '2', role: 'client', expiresAtMs: Date.now() + 60_000 }, cache.generation());
  t.ok(cache.get('1', '2'));

  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'parley-auth-listener' AND datname = current_database()");
  await waitFor(() => !listener.listening, 'the listener notices the lost connection');
  t.notOk(cache.enabled, 'off while disconnected');
  t.equal(cache.get('1', '2'), undefined, 'entries from before are gone');
  cache.set({ sessionId: '1', userId: '2', role: 'client', expiresAtMs: Date.now() + 60_000 }, cache.generation());
  t.equal(cache.size, 0, 'and nothing new is cached');
  await listener.stop();

  const quick = new SessionCache({ maxEntries: 100, maxAgeMs: 60_000 });
  const reconnecting = new AuthNotificationListener({ databaseUrl: database.url, cache: quick, log, retryDelaysMs: [20] });
  t.teardown(() => reconnecting.stop());
  await reconnecting.start();
  const listenerPids = async () =>
    (
      await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'parley-auth-listener' AND datname = current_database()",
      )
    ).rows.map((row) => row.pid);
  const [before] = await listenerPids();
  await admin.query('SELECT pg_terminate_backend($1)', [before]);
  await waitFor(async () => {
    const pids = await listenerPids();
    return reconnecting.listening && pids.length === 1 && pids[0] !== before;
  }, 'the listener reconnects on a new connection');
  t.ok(quick.enabled, 'the cache is on again');
  quick.set({ sessionId: '5', userId: '6', role: 'client', expiresAtMs: Date.now() + 60_000 }, quick.generation());
  quick.set({ sessionId: '7', userId: '8', role: 'client', expiresAtMs: Date.now() + 60_000 }, quick.generation());
  t.ok(quick.get('5', '6'));
  t.ok(quick.get('7', '8'));
  await admin.query("SELECT pg_notify('parley_auth', 'u:6')");
  await waitFor(() => quick.get('5', '6') === undefined, 'notifications arrive on the new connection');
  // The entry went because of that notification, not because the cache was switched off or
  // cleared again (which would also empty it): the cache is on and keeps the other user's entry.
  t.ok(reconnecting.listening, 'still listening after the notification');
  t.ok(quick.enabled, 'the cache stayed on');
  t.ok(quick.get('7', '8'), "a notification for one user keeps another user's entry");
});
