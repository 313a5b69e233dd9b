import t from 'tap';
import { build, newAccount, register, type ApiResponse } from '../helpers/build.ts';
import { adminOverrides, cookiesOf, decodeJwt, loginAdmin, signJwt } from '../helpers/accounts.ts';
import { createRoom } from '../helpers/chat.ts';

/** Issue 9 item 10: the protocol details a client library relies on. */

const PLAIN = 'Bearer realm="parley"';
const INVALID_TOKEN = 'Bearer realm="parley", error="invalid_token"';

t.test('401s carry WWW-Authenticate: Bearer (RFC 6750), invalid_token when a presented token is refused', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const me = '/api/v1/users/@me';

  const missing = await api('GET', me);
  t.equal(missing.status, 401);
  t.equal(missing.headers.get('www-authenticate'), PLAIN, 'no token: a plain challenge');

  const garbage = await api('GET', me, { token: 'not-a-jwt' });
  t.equal(garbage.status, 401);
  t.equal(garbage.headers.get('www-authenticate'), INVALID_TOKEN, 'a malformed token');

  const claims = decodeJwt(ada.token).payload;
  const now = Math.floor(Date.now() / 1000);
  const expired = await api('GET', me, { token: signJwt({ ...claims, iat: now - 7200, exp: now - 3600 }) });
  t.equal(expired.status, 401);
  t.equal(expired.headers.get('www-authenticate'), INVALID_TOKEN, 'an expired token');

  const forged = await api('GET', me, { token: signJwt(claims, { secret: 'another-secret-that-is-long-enough-000' }) });
  t.equal(forged.headers.get('www-authenticate'), INVALID_TOKEN, 'a token signed with another key');

  const badCookie = await api('GET', me, { headers: { cookie: 'parley_access=not-a-jwt' } });
  t.equal(badCookie.status, 401);
  t.equal(badCookie.headers.get('www-authenticate'), INVALID_TOKEN, 'a bad access cookie is a presented token too');

  t.equal((await api('POST', '/api/v1/auth/logout', { token: ada.token })).status, 204);
  const revoked = await api('GET', me, { token: ada.token });
  t.equal(revoked.status, 401);
  t.equal(revoked.headers.get('www-authenticate'), INVALID_TOKEN, 'a revoked token');

  // 401s that are not about an access token still carry a (plain) challenge.
  const wrongPassword = await api('POST', '/api/v1/auth/login', { body: { login: ada.user.username, password: 'Wrong-passw0rd' } });
  t.equal(wrongPassword.status, 401);
  t.equal(wrongPassword.headers.get('www-authenticate'), PLAIN, 'wrong password');
  const badRefresh = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: 'x'.repeat(43) } });
  t.equal(badRefresh.status, 401);
  t.equal(badRefresh.headers.get('www-authenticate'), PLAIN, 'bad refresh token');

  const fine = await api('GET', '/api/v1/users/@me', { token: (await register(api)).token });
  t.equal(fine.status, 200);
  t.equal(fine.headers.get('www-authenticate'), null, 'no challenge on success');
});

t.test('a known path with an unsupported method is a 405 with Allow; unknown paths stay 404', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);

  const putMe = await api('PUT', '/api/v1/users/@me', { token: ada.token, body: { display_name: 'Ada' } });
  t.equal(putMe.status, 405);
  t.equal(putMe.body.code, 'method_not_allowed');
  t.match(putMe.headers.get('content-type'), /^application\/problem\+json/);
  t.equal(putMe.headers.get('allow'), 'DELETE, GET, HEAD, PATCH');

  const deleteLogin = await api('DELETE', '/api/v1/auth/login');
  t.equal(deleteLogin.status, 405, 'no credentials needed to learn the methods');
  t.equal(deleteLogin.body.code, 'method_not_allowed');
  t.equal(deleteLogin.headers.get('allow'), 'POST');

  const getLogin = await api('GET', '/api/v1/auth/login');
  t.equal(getLogin.status, 405);
  t.equal(getLogin.headers.get('allow'), 'POST');

  const parametric = await api('POST', '/api/v1/channels/123/messages/456', { token: ada.token, body: {} });
  t.equal(parametric.status, 405, 'a path with parameters');
  t.equal(parametric.headers.get('allow'), 'DELETE, GET, HEAD, PATCH');

  // A HEAD answer has no body: plain fetch.
  const head = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'HEAD' });
  t.equal(head.status, 405);
  t.equal(head.headers.get('allow'), 'POST');

  for (const [method, url] of [
    ['GET', '/api/v1/nothing-here'],
    ['PUT', '/api/v1/nothing-here'],
    ['DELETE', '/api/v1/auth/login/extra'],
    ['GET', '/api/v1/users/1/2/3'],
  ] as const) {
    const unknown = await api(method, url, { token: ada.token });
    t.equal(unknown.status, 404, `${method} ${url}`);
    t.equal(unknown.body.code, 'not_found');
    t.equal(unknown.headers.get('allow'), null);
  }

  // The methods the path does support still work.
  t.equal((await api('GET', '/api/v1/users/@me', { token: ada.token })).status, 200);
  t.equal((await api('POST', '/api/v1/auth/login', { body: { login: ada.user.username, password: ada.password } })).status, 200);
});

t.test('CORS preflights still work next to the 405s', async (t) => {
  const origin = 'https://app.example.com';
  const { api, baseUrl } = await build(t, { CORS_ORIGINS: [origin] });
  // A preflight is CORS plumbing, not an operation of the contract: plain fetch.
  const preflight = await fetch(`${baseUrl}/api/v1/users/@me`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'PATCH' },
  });
  t.equal(preflight.status, 204);
  t.equal(preflight.headers.get('access-control-allow-origin'), origin);

  const put = await api('PUT', '/api/v1/users/@me', { headers: { origin } });
  t.equal(put.status, 405);
  t.equal(put.headers.get('allow'), 'DELETE, GET, HEAD, OPTIONS, PATCH', 'OPTIONS is served (preflights) while CORS is on');
});

t.test('validation errors[] name the place the same way for body, query and path', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);

  const body = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'hi', admin: true } });
  t.equal(body.status, 400);
  t.same(body.body.errors, [{ in: 'body', field: '/admin', message: 'is not an allowed field' }], 'body: schema');

  const blank = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: '   ' } });
  t.same(blank.body.errors, [{ in: 'body', field: '/content', message: 'must not be blank' }], 'body: a service check');

  const query = await api('GET', `/api/v1/channels/${room.id}/messages?limit=1000`, { token: ada.token });
  t.equal(query.status, 400);
  t.same(query.body.errors, [{ in: 'query', field: '/limit', message: 'must be <= 100' }], 'query: schema');

  const twoCursors = await api('GET', `/api/v1/channels/${room.id}/messages?before=1&after=2`, { token: ada.token });
  t.equal(twoCursors.status, 400);
  t.same(
    twoCursors.body.errors.map((error: { in: string; field: string }) => `${error.in} ${error.field}`),
    ['query /before', 'query /after'],
    'query: a service check',
  );

  const cursor = await api('GET', '/api/v1/users?cursor=garbage', { token: ada.token });
  t.equal(cursor.status, 400);
  t.same(cursor.body.errors, [{ in: 'query', field: '/cursor', message: 'is not a valid cursor' }], 'query: a bad cursor');

  const path = await api('GET', '/api/v1/channels/general/messages', { token: ada.token });
  t.equal(path.status, 400);
  t.same(
    path.body.errors.map((error: { in: string; field: string }) => `${error.in} ${error.field}`),
    ['path /channel_id'],
    'path: schema',
  );

  const missing = await api('GET', '/api/v1/messages/search', { token: ada.token });
  t.equal(missing.status, 400);
  t.same(
    missing.body.errors.map((error: { in: string; field: string }) => `${error.in} ${error.field}`),
    ['query /q'],
    'query: a missing required parameter',
  );
  t.ok(cookiesOf(missing).size === 0, 'no cookies on a problem');
});

t.test('display_name refuses bidi overrides and invisible characters on register, PATCH @me, admin create and update', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const ada = await register(api);
  const spoof = '\u202Enimda'; // displays as "admin"
  const named = (response: ApiResponse, what: string, codePoint = /U\+202E/) => {
    t.equal(response.status, 400, `${what}: 400`);
    t.equal(response.body.code, 'validation_failed', what);
    t.match(response.body.errors, [{ in: 'body', field: '/display_name', message: codePoint }], `${what}: names /display_name`);
  };

  const account = newAccount();
  named(await api('POST', '/api/v1/auth/register', { body: { ...account, display_name: spoof } }), 'register');
  t.equal((await api('POST', '/api/v1/auth/login', { body: { login: account.username, password: account.password } })).status, 401, 'no account was made');

  named(await api('PATCH', '/api/v1/users/@me', { token: ada.token, body: { display_name: spoof } }), 'PATCH @me');
  named(await api('PATCH', '/api/v1/users/@me', { token: ada.token, body: { display_name: 'Ada\u200B' } }), 'PATCH @me, zero-width space', /U\+200B/);
  const created = newAccount();
  named(await api('POST', '/api/v1/users', { token: admin.token, body: { ...created, display_name: spoof } }), 'admin create');
  named(await api('PATCH', `/api/v1/users/${ada.user.id}`, { token: admin.token, body: { display_name: spoof } }), 'admin update');

  const me = await api('GET', '/api/v1/users/@me', { token: ada.token });
  t.equal(me.body.display_name, ada.user.username, 'the name is unchanged');

  const fine = await api('PATCH', '/api/v1/users/@me', { token: ada.token, body: { display_name: 'Ada \u{1F469}\u200D\u{1F4BB} محمد' } });
  t.equal(fine.status, 200, 'right-to-left script and an emoji ZWJ sequence are fine');
});
