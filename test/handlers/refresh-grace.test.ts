// Concurrent refresh (issue 9, item 6): within REFRESH_REUSE_GRACE_SECONDS of a rotation, the
// rotated refresh token returns the same new pair (two tabs refreshing at once); after it, reuse
// still revokes the whole family. The clock is injected: "after the grace" needs no sleeping.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { decodeJwt, queryDatabase } from '../helpers/accounts.ts';

const ME = '/api/v1/users/@me';
const REFRESH = '/api/v1/auth/refresh';

/** A clock the test moves by hand. */
function manualClock() {
  let ms = Date.now();
  return { now: () => ms, advance: (by: number) => (ms += by) };
}

t.test('two concurrent refreshes with one token both succeed with the same pair; the session survives', async (t) => {
  const { api } = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 10 });
  const account = await register(api);
  const sid = decodeJwt(account.token).payload.sid;

  const [a, b] = await Promise.all([
    api('POST', REFRESH, { body: { refresh_token: account.refreshToken } }),
    api('POST', REFRESH, { body: { refresh_token: account.refreshToken } }),
  ]);
  t.equal(a.status, 200, 'first tab');
  t.equal(b.status, 200, 'second tab');
  t.equal(a.body.refresh_token, b.body.refresh_token, 'the same new refresh token');
  t.not(a.body.refresh_token, account.refreshToken, 'which is a new one');
  t.equal(decodeJwt(a.body.access_token).payload.sid, sid, 'access token of the same session');
  t.equal(decodeJwt(b.body.access_token).payload.sid, sid, 'both of them');
  for (const [name, response] of [['first', a], ['second', b]] as const) {
    t.equal((await api('GET', ME, { token: response.body.access_token })).status, 200, `the ${name} access token works`);
  }

  const next = await api('POST', REFRESH, { body: { refresh_token: a.body.refresh_token } });
  t.equal(next.status, 200, 'the shared new refresh token rotates normally: the session was not revoked');
  t.equal(decodeJwt(next.body.access_token).payload.sid, sid);
  t.equal((await api('GET', ME, { token: account.token })).status, 200, 'the original access token still works');
});

t.test('within the grace the rotated token returns the same pair; after it, reuse revokes the family', async (t) => {
  const clock = manualClock();
  const { api } = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 10 }, { clock: clock.now });
  const account = await register(api);

  const rotated = await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } });
  t.equal(rotated.status, 200);
  clock.advance(9_000);
  const again = await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } });
  t.equal(again.status, 200, '9 s later (grace 10 s): accepted');
  t.equal(again.body.refresh_token, rotated.body.refresh_token, 'with the same new refresh token');

  clock.advance(1_001);
  const reuse = await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } });
  t.equal(reuse.status, 401, '10.001 s later: reuse');
  t.match(reuse.body.detail, /already used/);
  t.equal((await api('GET', ME, { token: rotated.body.access_token })).status, 401, 'the new access token stopped working');
  t.equal((await api('GET', ME, { token: again.body.access_token })).status, 401, 'so did the one given in the grace');
  t.equal((await api('POST', REFRESH, { body: { refresh_token: rotated.body.refresh_token } })).status, 401, 'and the new refresh token');
});

t.test('the database alone never reveals the successor; it is forgotten once the grace has passed', async (t) => {
  const clock = manualClock();
  const { api, databaseUrl } = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 10 }, { clock: clock.now });
  const account = await register(api);
  const sid = String(decodeJwt(account.token).payload.sid);

  const first = await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } });
  const sealed = async () =>
    queryDatabase<{ successor_sealed: Buffer | null }>(
      databaseUrl,
      'SELECT successor_sealed FROM refresh_tokens WHERE session_id = $1 AND used_at IS NOT NULL ORDER BY used_at',
      [sid],
    );
  const [row] = await sealed();
  t.ok(row?.successor_sealed, 'the spent token keeps a sealed successor');
  t.notOk(row!.successor_sealed!.includes(Buffer.from(first.body.refresh_token)), 'not the successor in clear');

  clock.advance(11_000);
  const second = await api('POST', REFRESH, { body: { refresh_token: first.body.refresh_token } });
  t.equal(second.status, 200);
  const rows = await sealed();
  t.equal(rows.length, 2);
  t.equal(rows[0]!.successor_sealed, null, 'the next rotation cleared the successor whose grace had passed');
  t.ok(rows[1]!.successor_sealed, 'and kept the fresh one');
});

t.test('REFRESH_REUSE_GRACE_SECONDS=0: any reuse revokes the family at once', async (t) => {
  const { api } = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 0 });
  const account = await register(api);
  const rotated = await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } });
  t.equal(rotated.status, 200);
  t.equal((await api('POST', REFRESH, { body: { refresh_token: account.refreshToken } })).status, 401, 'the spent token is refused');
  t.equal((await api('GET', ME, { token: rotated.body.access_token })).status, 401, 'and the family is revoked');
});
