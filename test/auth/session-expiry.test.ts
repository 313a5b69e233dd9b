// Session expiry end to end: an expired session refuses access and refresh; a refresh slides the
// expiry forward; with SESSION_CACHE_SIZE=0 every request asks the database. Time is moved in the
// database (the session row is backdated), not waited for.
import t from 'tap';
import { decodeJwt, queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { waitFor } from '../helpers/poll.ts';

const ME = '/api/v1/users/@me';
const REFRESH = '/api/v1/auth/refresh';
const TTL_SECONDS = 3_600;
const sessionIdOf = (token: string) => String(decodeJwt(token).payload.sid);

t.test('an expired session refuses its access token and its refresh token', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const ada = await register(api);
  const sid = sessionIdOf(ada.token);
  t.equal((await api('GET', ME, { token: ada.token })).status, 200);
  t.ok(app.sessionCache.get(sid, ada.user.id), 'cached while live');

  await queryDatabase(databaseUrl, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [sid]);
  // The expiry change notifies (sql/004_auth_notify.sql): the cached entry goes.
  await waitFor(() => app.sessionCache.get(sid, ada.user.id) === undefined, 'the expiry notification');
  const refused = await api('GET', ME, { token: ada.token });
  t.equal(refused.status, 401, 'the access token of an expired session is refused');
  t.equal(refused.body.code, 'unauthorized');
  const refresh = await api('POST', REFRESH, { body: { refresh_token: ada.refreshToken } });
  t.equal(refresh.status, 401, 'so is its refresh token');
  t.equal(refresh.body.code, 'unauthorized');
  const [row] = await queryDatabase<{ live: boolean }>(databaseUrl, 'SELECT expires_at > now() AS live FROM sessions WHERE id = $1', [sid]);
  t.same(row, { live: false }, 'a refused refresh does not revive the session');
});

t.test('a refresh slides the expiry forward by REFRESH_TOKEN_TTL_SECONDS', async (t) => {
  const { api, databaseUrl } = await build(t, { REFRESH_TOKEN_TTL_SECONDS: TTL_SECONDS });
  const ada = await register(api);
  const sid = sessionIdOf(ada.token);
  // Close to its end, but live.
  const [near] = await queryDatabase<{ expires_at: Date }>(
    databaseUrl,
    "UPDATE sessions SET expires_at = now() + interval '1 minute' WHERE id = $1 RETURNING expires_at",
    [sid],
  );
  const [{ before }] = (await queryDatabase<{ before: Date }>(databaseUrl, 'SELECT now() AS before')) as [{ before: Date }];
  const refreshed = await api('POST', REFRESH, { body: { refresh_token: ada.refreshToken } });
  const [{ after }] = (await queryDatabase<{ after: Date }>(databaseUrl, 'SELECT now() AS after')) as [{ after: Date }];
  t.equal(refreshed.status, 200);
  const [row] = await queryDatabase<{ expires_at: Date }>(databaseUrl, 'SELECT expires_at FROM sessions WHERE id = $1', [sid]);
  const expiresAt = row!.expires_at.getTime();
  t.ok(expiresAt > near!.expires_at.getTime(), 'the expiry moved forward');
  // Bounded by the database clock before and after the call: no tolerance, no timing.
  t.ok(
    expiresAt >= before.getTime() + TTL_SECONDS * 1000 && expiresAt <= after.getTime() + TTL_SECONDS * 1000,
    'to the time of the refresh plus the TTL',
    { expiresAt: row!.expires_at, before, after },
  );
  t.equal((await api('GET', ME, { token: refreshed.body.access_token })).status, 200, 'the new access token works');
  t.equal(sessionIdOf(refreshed.body.access_token), sid, 'in the same session');
});

t.test('SESSION_CACHE_SIZE=0: nothing is cached, every request asks the database', async (t) => {
  const { app, api, databaseUrl } = await build(t, { SESSION_CACHE_SIZE: 0 });
  const ada = await register(api);
  const sid = sessionIdOf(ada.token);
  t.equal((await api('GET', ME, { token: ada.token })).status, 200);
  t.equal((await api('GET', ME, { token: ada.token })).status, 200);
  t.equal(app.sessionCache.size, 0, 'no entry was cached');
  t.equal(app.sessionCache.get(sid, ada.user.id), undefined);
  // No listener, no notification to wait for: the very next request sees the change.
  await queryDatabase(databaseUrl, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", [sid]);
  t.equal((await api('GET', ME, { token: ada.token })).status, 401, 'expired: refused on the next request');
  const bob = await register(api);
  t.equal((await api('GET', ME, { token: bob.token })).status, 200);
  await queryDatabase(databaseUrl, "UPDATE users SET active = false WHERE id = $1", [bob.user.id]);
  t.equal((await api('GET', ME, { token: bob.token })).status, 401, 'deactivated: refused on the next request');
});
