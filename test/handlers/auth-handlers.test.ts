import t from 'tap';
import { build, newAccount, register } from '../helpers/build.ts';
import { cookiesOf, decodeJwt, login, queryDatabase, signJwt } from '../helpers/accounts.ts';

const ME = '/api/v1/users/@me';

t.test('register: 201 with a token pair, the full user and HttpOnly cookies', async (t) => {
  const { api, config } = await build(t);
  const account = { ...newAccount('reg'), display_name: 'Ada L.', phone_number: '+44 20 7946 0958' };
  const response = await api('POST', '/api/v1/auth/register', { body: account });
  t.equal(response.status, 201);
  t.equal(response.body.token_type, 'Bearer');
  t.equal(response.body.expires_in, config.ACCESS_TOKEN_TTL_SECONDS);
  t.match(response.body.user, {
    username: account.username,
    email: account.email,
    display_name: 'Ada L.',
    phone_number: '+44 20 7946 0958',
    role: 'client',
    active: true,
  });
  t.equal(response.headers.get('cache-control'), 'no-store', 'token responses are not cached');
  t.type(response.body.refresh_token, 'string');
  t.ok(response.body.refresh_token.length >= 32, 'the refresh token is long and opaque');
  t.notMatch(response.body.refresh_token, /\./, 'the refresh token is not a JWT');

  const claims = decodeJwt(response.body.access_token);
  t.same(claims.header, { alg: 'HS256', typ: 'JWT' });
  t.match(claims.payload, {
    sub: response.body.user.id,
    name: account.username,
    email: account.email,
    role: 'client',
    sid: /^[0-9]+$/,
  });
  t.equal(Number(claims.payload.exp) - Number(claims.payload.iat), config.ACCESS_TOKEN_TTL_SECONDS, 'access lifetime from config');

  const cookies = cookiesOf(response);
  const access = cookies.get('parley_access');
  const refresh = cookies.get('parley_refresh');
  t.equal(access?.value, response.body.access_token, 'the access cookie carries the access token');
  t.equal(refresh?.value, response.body.refresh_token, 'the refresh cookie carries the refresh token');
  for (const [name, cookie] of [['parley_access', access], ['parley_refresh', refresh]] as const) {
    t.equal(cookie?.attributes.get('httponly'), true, `${name} is HttpOnly`);
    t.equal(cookie?.attributes.get('samesite'), 'Strict', `${name} is SameSite=Strict`);
    t.notOk(cookie?.attributes.has('secure'), `${name} is not Secure unless COOKIE_SECURE`);
  }
  t.equal(access?.attributes.get('path'), '/');
  t.equal(access?.attributes.get('max-age'), String(config.ACCESS_TOKEN_TTL_SECONDS));
  t.equal(refresh?.attributes.get('path'), '/api/v1/auth', 'the refresh cookie only goes to the auth endpoints');
  t.equal(refresh?.attributes.get('max-age'), String(config.REFRESH_TOKEN_TTL_SECONDS));

  const me = await api('GET', ME, { token: response.body.access_token });
  t.equal(me.status, 200);
  t.equal(me.body.id, response.body.user.id);
});

t.test('register: the stored hash is argon2id with m=19456, t=2, p=1', async (t) => {
  const { api, databaseUrl } = await build(t);
  const { user, password } = await register(api);
  const [row] = await queryDatabase<{ password_hash: string }>(databaseUrl, 'SELECT password_hash FROM users WHERE id = $1', [
    user.id,
  ]);
  t.match(row?.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  t.notOk(row?.password_hash.includes(password), 'the password is not stored');
  const tokens = await queryDatabase<{ token_hash: Buffer }>(
    databaseUrl,
    'SELECT r.token_hash FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE s.user_id = $1',
    [user.id],
  );
  t.equal(tokens.length, 1);
  t.equal(tokens[0]?.token_hash.length, 32, 'refresh tokens are stored as SHA-256 digests');
});

t.test('register: 400 validation names each bad field', async (t) => {
  const { api, databaseUrl } = await build(t);
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['missing password', { username: 'valid_name', email: 'v@example.com' }, ['/password']],
    ['bad email', { ...newAccount(), email: 'not-an-email' }, ['/email']],
    ['bad username', { ...newAccount(), username: 'a b' }, ['/username']],
    ['unknown field (mass assignment)', { ...newAccount(), role: 'admin' }, ['/role']],
    ['several at once', { username: 'x', email: 'nope', password: 'Sup3r-secret' }, ['/username', '/email']],
    ['policy: no digit', { ...newAccount(), password: 'No-digits-here' }, ['/password']],
    ['policy: too short', { ...newAccount(), password: 'Ab1' }, ['/password']],
    ['policy: no upper case', { ...newAccount(), password: 'lower-case-1' }, ['/password']],
    ['policy: no lower case', { ...newAccount(), password: 'UPPER-CASE-1' }, ['/password']],
  ];
  for (const [name, body, fields] of cases) {
    const response = await api('POST', '/api/v1/auth/register', { body });
    t.equal(response.status, 400, name);
    t.equal(response.body.code, 'validation_failed', name);
    t.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8', name);
    const named = (response.body.errors as Array<{ field: string }>).map((error) => error.field);
    for (const field of fields) t.ok(named.includes(field), `${name}: errors[] names ${field} (${named.join(', ')})`);
  }
  const policy = await api('POST', '/api/v1/auth/register', { body: { ...newAccount(), password: 'No-digits-here' } });
  t.same(policy.body.errors, [{ in: 'body', field: '/password', message: 'must contain a digit' }]);

  for (const rawBody of [undefined, 'null']) {
    const missing = await api('POST', '/api/v1/auth/register', {
      ...(rawBody === undefined ? {} : { rawBody, headers: { 'content-type': 'application/json' } }),
    });
    t.equal(missing.status, 400, `a missing body (${rawBody ?? 'none'}) is a 400, not a crash`);
    t.same(missing.body.errors, [{ in: 'body', field: '/', message: 'is required' }]);
  }

  const malformed = await api('POST', '/api/v1/auth/register', {
    rawBody: '{"username": ',
    headers: { 'content-type': 'application/json' },
  });
  t.equal(malformed.status, 400, 'malformed JSON');
  t.equal(malformed.body.code, 'validation_failed');
  t.same(await queryDatabase(databaseUrl, 'SELECT count(*)::int AS n FROM users'), [{ n: 0 }], 'no refused registration wrote a user');
});

t.test('register: 409 for a taken username or email, case-insensitively', async (t) => {
  const { api } = await build(t);
  const first = await register(api);
  const sameName = await api('POST', '/api/v1/auth/register', {
    body: { ...newAccount(), username: first.user.username.toUpperCase() },
  });
  t.equal(sameName.status, 409);
  t.equal(sameName.body.code, 'conflict');
  t.same(sameName.body.errors, [{ in: 'body', field: '/username', message: 'is already taken' }]);
  const sameEmail = await api('POST', '/api/v1/auth/register', {
    body: { ...newAccount(), email: first.user.email!.toUpperCase() },
  });
  t.equal(sameEmail.status, 409);
  t.same(sameEmail.body.errors, [{ in: 'body', field: '/email', message: 'is already registered' }]);
});

t.test('413: a body over BODY_LIMIT_BYTES (default 1 MiB, configurable)', async (t) => {
  const { api, config } = await build(t);
  t.equal(config.BODY_LIMIT_BYTES, 1024 * 1024, 'the default limit is 1 MiB');
  const huge = JSON.stringify({ ...newAccount(), display_name: 'x'.repeat(1024 * 1024) });
  const response = await api('POST', '/api/v1/auth/register', { rawBody: huge, headers: { 'content-type': 'application/json' } });
  t.equal(response.status, 413);
  t.equal(response.body.code, 'payload_too_large');

  const small = await build(t, { BODY_LIMIT_BYTES: 256 });
  const body = JSON.stringify({ login: 'x'.repeat(200), password: 'y'.repeat(100) });
  t.ok(body.length > 256);
  const login413 = await small.api('POST', '/api/v1/auth/login', { rawBody: body, headers: { 'content-type': 'application/json' } });
  t.equal(login413.status, 413);
  t.equal(login413.body.code, 'payload_too_large');
  const fits = await small.api('POST', '/api/v1/auth/login', { body: { login: 'nobody', password: 'Wrong-pass1' } });
  t.equal(fits.status, 401, 'a body under the limit is processed');
});

t.test('415: a body that is not application/json', async (t) => {
  const { api, databaseUrl } = await build(t);
  const account = newAccount();
  const cases: Array<[string, string]> = [
    ['/api/v1/auth/register', JSON.stringify(account)],
    ['/api/v1/auth/login', JSON.stringify({ login: account.username, password: account.password })],
    ['/api/v1/auth/refresh', JSON.stringify({ refresh_token: 'abc' })],
  ];
  for (const [url, rawBody] of cases) {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', undefined]) {
      const response = await api('POST', url, {
        rawBody: Buffer.from(rawBody),
        ...(contentType ? { headers: { 'content-type': contentType } } : {}),
      });
      t.equal(response.status, 415, `${url} as ${contentType ?? '(no content type)'}`);
      t.equal(response.body.code, 'unsupported_media_type');
    }
  }
  t.same(await queryDatabase(databaseUrl, 'SELECT count(*)::int AS n FROM users'), [{ n: 0 }], 'nothing was registered on the way');
});

t.test('register: 429 per IP with Retry-After and X-RateLimit-* headers', async (t) => {
  const { api } = await build(t, { RATE_LIMIT_REGISTER_PER_IP: 2, RATE_LIMIT_WINDOW_SECONDS: 60 });
  const first = await api('POST', '/api/v1/auth/register', { body: newAccount() });
  t.equal(first.status, 201);
  t.equal(first.headers.get('x-ratelimit-limit'), '2');
  t.equal(first.headers.get('x-ratelimit-remaining'), '1');
  t.equal((await api('POST', '/api/v1/auth/register', { body: newAccount() })).status, 201);
  const limited = await api('POST', '/api/v1/auth/register', { body: newAccount() });
  t.equal(limited.status, 429);
  t.equal(limited.body.code, 'rate_limited');
  t.equal(limited.headers.get('x-ratelimit-limit'), '2');
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  t.ok(Number(limited.headers.get('retry-after')) >= 1 && Number(limited.headers.get('retry-after')) <= 60, 'Retry-After in seconds');
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) >= 1, 'X-RateLimit-Reset in seconds');
  const login = await api('POST', '/api/v1/auth/login', { body: { login: 'someone', password: 'Wrong-pass1' } });
  t.equal(login.status, 401, 'the register limit does not spill over to login');
});

t.test('login: by username or email, case-insensitively; wrong credentials are 401', async (t) => {
  const { api } = await build(t);
  const { user, password } = await register(api);

  for (const loginName of [user.username, user.username.toUpperCase(), user.email!, user.email!.toUpperCase()]) {
    const session = await login(api, loginName, password);
    t.equal(session.user.id, user.id, `login as ${loginName}`);
    t.equal(session.user.email, user.email, 'the token response carries the full user');
    t.equal(session.response.body.token_type, 'Bearer');
    t.ok(cookiesOf(session.response).has('parley_access'), 'login sets the access cookie');
    t.equal((await api('GET', ME, { token: session.token })).status, 200);
  }

  const wrongPassword = await api('POST', '/api/v1/auth/login', { body: { login: user.username, password: 'Wrong-pass1' } });
  t.equal(wrongPassword.status, 401);
  t.equal(wrongPassword.body.code, 'invalid_credentials');
  const unknown = await api('POST', '/api/v1/auth/login', { body: { login: 'no_such_user', password } });
  t.equal(unknown.status, 401);
  t.equal(unknown.body.code, 'invalid_credentials');
  t.equal(unknown.body.detail, wrongPassword.body.detail, 'an unknown login and a wrong password look the same');
  const wrongCase = await api('POST', '/api/v1/auth/login', { body: { login: user.username, password: password.toLowerCase() } });
  t.equal(wrongCase.status, 401, 'passwords are case-sensitive');
});

t.test('login: 400 validation names each bad field', async (t) => {
  const { api } = await build(t);
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ password: 'Sup3r-secret' }, '/login'],
    [{ login: 'someone' }, '/password'],
    [{ login: '', password: 'Sup3r-secret' }, '/login'],
    [{ login: 'someone', password: 'Sup3r-secret', remember: true }, '/remember'],
    [{ login: 'x'.repeat(255), password: 'Sup3r-secret' }, '/login'],
    [{ login: 42, password: 'Sup3r-secret' }, '/login'], // bodies are never type-coerced
  ];
  for (const [body, field] of cases) {
    const response = await api('POST', '/api/v1/auth/login', { body });
    t.equal(response.status, 400, JSON.stringify(body));
    t.ok(
      (response.body.errors as Array<{ field: string }>).some((error) => error.field === field),
      `errors[] names ${field}`,
    );
  }
});

t.test('login: 429 per IP with Retry-After and X-RateLimit-* headers', async (t) => {
  const { api } = await build(t, { RATE_LIMIT_LOGIN_PER_IP: 3 });
  const { user, password } = await register(api);
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const response = await api('POST', '/api/v1/auth/login', { body: { login: `nobody${attempt}`, password: 'Wrong-pass1' } });
    t.equal(response.status, 401, `attempt ${attempt} is judged`);
    t.equal(response.headers.get('x-ratelimit-remaining'), String(3 - attempt));
  }
  const limited = await api('POST', '/api/v1/auth/login', { body: { login: user.username, password } });
  t.equal(limited.status, 429, 'even a correct login is refused once the IP is over its limit');
  t.equal(limited.body.code, 'rate_limited');
  t.equal(limited.headers.get('x-ratelimit-limit'), '3');
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  t.ok(Number(limited.headers.get('retry-after')) >= 1);
  t.ok(Number(limited.headers.get('x-ratelimit-reset')) >= 1);
});

t.test('login: 429 per account (username and email share one budget), other accounts unaffected', async (t) => {
  const { api } = await build(t, { RATE_LIMIT_LOGIN_PER_ACCOUNT: 3, RATE_LIMIT_WINDOW_SECONDS: 60 });
  const victim = await register(api);
  const other = await register(api);
  const attempts = [victim.user.username, victim.user.email!.toUpperCase(), victim.user.username.toUpperCase()];
  for (const loginName of attempts) {
    const response = await api('POST', '/api/v1/auth/login', { body: { login: loginName, password: 'Wrong-pass1' } });
    t.equal(response.status, 401);
  }
  const limited = await api('POST', '/api/v1/auth/login', { body: { login: victim.user.username, password: victim.password } });
  t.equal(limited.status, 429, 'the fourth attempt on the account is refused, even with the right password');
  t.equal(limited.body.code, 'rate_limited');
  t.equal(limited.headers.get('x-ratelimit-limit'), '3');
  t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
  const retryAfter = Number(limited.headers.get('retry-after'));
  t.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  t.equal(limited.headers.get('x-ratelimit-reset'), String(retryAfter));
  t.equal((await api('POST', '/api/v1/auth/login', { body: { login: other.user.username, password: other.password } })).status, 200);
});

t.test('refresh: rotation on every use; reusing a spent token revokes the whole family', async (t) => {
  // No grace period: the reuse below comes at once (test/handlers/refresh-grace.test.ts covers the grace).
  const { api } = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 0 });
  const first = await register(api);

  const rotated = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: first.refreshToken } });
  t.equal(rotated.status, 200);
  t.not(rotated.body.refresh_token, first.refreshToken, 'a new refresh token every time');
  t.equal(rotated.body.user.id, first.user.id);
  t.equal(decodeJwt(rotated.body.access_token).payload.sid, decodeJwt(first.token).payload.sid, 'same session (family)');
  t.equal((await api('GET', ME, { token: rotated.body.access_token })).status, 200);

  const second = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: rotated.body.refresh_token } });
  t.equal(second.status, 200, 'the rotated token works once');
  const newest = second.body as { access_token: string; refresh_token: string };

  const reuse = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: first.refreshToken } });
  t.equal(reuse.status, 401, 'a spent token is refused');
  t.equal(reuse.body.code, 'unauthorized');
  t.match(reuse.body.detail, /already used/);

  const afterReuse = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: newest.refresh_token } });
  t.equal(afterReuse.status, 401, 'the newest refresh token of the family stopped working too');
  t.equal((await api('GET', ME, { token: newest.access_token })).status, 401, 'so did the newest access token');
  t.equal((await api('GET', ME, { token: first.token })).status, 401, 'and the first one');

  const fresh = await login(api, first.user.username, first.password);
  t.equal((await api('GET', ME, { token: fresh.token })).status, 200, 'other sessions (new logins) are unaffected');
});

t.test('refresh: by cookie; missing, unknown and malformed tokens', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const byCookie = await api('POST', '/api/v1/auth/refresh', { headers: { cookie: `parley_refresh=${account.refreshToken}` } });
  t.equal(byCookie.status, 200, 'the parley_refresh cookie is enough');
  t.equal(cookiesOf(byCookie).get('parley_refresh')?.value, byCookie.body.refresh_token, 'the rotated token is set as a cookie');

  const none = await api('POST', '/api/v1/auth/refresh', { body: {} });
  t.equal(none.status, 401);
  t.equal(none.body.code, 'unauthorized');
  const noBody = await api('POST', '/api/v1/auth/refresh');
  t.equal(noBody.status, 401);
  const unknown = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: 'not-a-real-token' } });
  t.equal(unknown.status, 401);
  const extra = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: byCookie.body.refresh_token, user_id: '1' } });
  t.equal(extra.status, 400);
  t.same(extra.body.errors.map((error: { field: string }) => error.field), ['/user_id']);
  const empty = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: '' } });
  t.equal(empty.status, 400);
  t.same(empty.body.errors.map((error: { field: string }) => error.field), ['/refresh_token']);
});

t.test('logout: the access token is refused at once; the cookies are cleared', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const other = await login(api, account.user.username, account.password);
  t.equal((await api('GET', ME, { token: account.token })).status, 200);

  const out = await api('POST', '/api/v1/auth/logout', { token: account.token });
  t.equal(out.status, 204);
  t.equal(out.text, '');
  const cleared = cookiesOf(out);
  for (const name of ['parley_access', 'parley_refresh']) {
    const cookie = cleared.get(name);
    t.equal(cookie?.value, '', `${name} is cleared`);
    t.ok(new Date(String(cookie?.attributes.get('expires'))).getTime() < Date.now(), `${name} expires in the past`);
  }
  t.equal(cleared.get('parley_refresh')?.attributes.get('path'), '/api/v1/auth', 'cleared on the path it was set on');

  const after = await api('GET', ME, { token: account.token });
  t.equal(after.status, 401, 'the very next request is refused, long before exp');
  t.equal(after.body.code, 'unauthorized');
  t.equal((await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: account.refreshToken } })).status, 401, 'its refresh token too');
  t.equal((await api('POST', '/api/v1/auth/logout', { token: account.token })).status, 401, 'logging out twice is 401');
  t.equal((await api('GET', ME, { token: other.token })).status, 200, 'the other session lives on');
  t.equal((await api('POST', '/api/v1/auth/logout')).status, 401, 'logout needs a token');
});

t.test('sessions: list my live sessions (current marked) and revoke one', async (t) => {
  const { api } = await build(t);
  const a = await register(api);
  const b = await login(api, a.user.username, a.password);
  const c = await api('POST', '/api/v1/auth/login', {
    body: { login: a.user.email, password: a.password },
    headers: { 'user-agent': 'parley-test-agent/1.0' },
  });
  t.equal(c.status, 200);
  const sidOf = (token: string) => String(decodeJwt(token).payload.sid);

  const list = await api('GET', '/api/v1/auth/sessions', { token: a.token });
  t.equal(list.status, 200);
  t.same(
    list.body.items.map((session: { id: string }) => session.id),
    [sidOf(c.body.access_token), sidOf(b.token), sidOf(a.token)],
    'newest first',
  );
  t.same(
    list.body.items.map((session: { current: boolean }) => session.current),
    [false, false, true],
    'the calling session is current',
  );
  t.equal(list.body.items[0].user_agent, 'parley-test-agent/1.0');
  t.equal(list.body.items[0].ip, '127.0.0.1');

  const revoke = await api('DELETE', `/api/v1/auth/sessions/${sidOf(b.token)}`, { token: a.token });
  t.equal(revoke.status, 204);
  t.equal((await api('GET', ME, { token: b.token })).status, 401, 'the revoked session is refused at once');
  t.equal((await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: b.refreshToken } })).status, 401);
  const after = await api('GET', '/api/v1/auth/sessions', { token: a.token });
  t.equal(after.body.items.length, 2);
  t.equal((await api('DELETE', `/api/v1/auth/sessions/${sidOf(b.token)}`, { token: a.token })).status, 404, 'already revoked');

  const stranger = await register(api);
  const foreign = await api('DELETE', `/api/v1/auth/sessions/${sidOf(stranger.token)}`, { token: a.token });
  t.equal(foreign.status, 404, "another user's session is invisible");
  t.equal(foreign.body.code, 'not_found');
  t.equal((await api('GET', ME, { token: stranger.token })).status, 200, 'and untouched');
  t.equal((await api('DELETE', '/api/v1/auth/sessions/999999999', { token: a.token })).status, 404);
  const bad = await api('DELETE', '/api/v1/auth/sessions/abc', { token: a.token });
  t.equal(bad.status, 400);
  t.ok(bad.body.errors.some((error: { field: string }) => error.field.includes('session_id')), 'errors[] names session_id');
  t.equal((await api('GET', '/api/v1/auth/sessions')).status, 401);
  t.equal((await api('DELETE', `/api/v1/auth/sessions/${sidOf(a.token)}`)).status, 401);

  t.equal((await api('DELETE', `/api/v1/auth/sessions/${sidOf(a.token)}`, { token: a.token })).status, 204, 'revoking my own current session');
  t.equal((await api('GET', '/api/v1/auth/sessions', { token: a.token })).status, 401);
  t.equal((await api('GET', ME, { token: c.body.access_token })).status, 200, 'the remaining session still works');
});

t.test('forged and dead access tokens are refused with 401', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const { payload } = decodeJwt(account.token);
  const now = Math.floor(Date.now() / 1000);
  const live = { ...payload, iat: now, exp: now + 600 };

  const control = signJwt(live);
  t.equal((await api('GET', ME, { token: control })).status, 200, 'control: a token signed by hand with the right secret works');

  const forged: Array<[string, string]> = [
    ['alg: none', signJwt(live, { alg: 'none' })],
    ['alg: none with the original signature', `${signJwt(live, { alg: 'none' })}${account.token.split('.')[2]}`],
    ['HS512 with the right secret', signJwt(live, { alg: 'HS512' })],
    ['HS384 with the right secret', signJwt(live, { alg: 'HS384' })],
    ['HS256 with another secret', signJwt(live, { secret: 'another-secret-that-is-long-enough-987654' })],
    ['payload changed after signing', `${control.split('.')[0]}.${Buffer.from(JSON.stringify({ ...live, role: 'admin' })).toString('base64url')}.${control.split('.')[2]}`],
    ['expired exp', signJwt({ ...payload, iat: now - 3600, exp: now - 60 })],
    ['no sid claim', signJwt({ sub: payload.sub, role: 'client', iat: now, exp: now + 600 })],
    ['another user in sub', signJwt({ ...live, sub: '1' })],
    ['not a JWT', 'garbage'],
  ];
  for (const [name, token] of forged) {
    const response = await api('GET', ME, { token });
    t.equal(response.status, 401, name);
    t.equal(response.body.code, 'unauthorized', name);
    t.equal((await api('GET', ME, { headers: { cookie: `parley_access=${token}` } })).status, 401, `${name} (as cookie)`);
  }

  await api('POST', '/api/v1/auth/logout', { token: account.token });
  const revoked = await api('GET', ME, { token: control });
  t.equal(revoked.status, 401, 'a correctly signed, unexpired token of a revoked session');
  t.equal(revoked.body.code, 'unauthorized');
});

t.test('the HttpOnly access cookie authenticates like the Bearer header', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const session = await login(api, account.user.username, account.password);
  const cookie = `parley_access=${cookiesOf(session.response).get('parley_access')!.value}`;

  const me = await api('GET', ME, { headers: { cookie } });
  t.equal(me.status, 200);
  t.equal(me.body.id, account.user.id);
  t.equal((await api('GET', '/api/v1/auth/sessions', { headers: { cookie } })).body.items.filter((s: { current: boolean }) => s.current).length, 1);
  t.equal((await api('GET', ME, { headers: { cookie, authorization: 'Bearer garbage' } })).status, 200, 'a valid cookie with a bad header');
  t.equal((await api('GET', ME, { headers: { cookie: 'parley_access=garbage' } })).status, 401);
  t.equal((await api('GET', ME, { headers: { cookie: 'other=1' } })).status, 401);
  t.equal((await api('GET', ME, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } })).status, 401);

  const logout = await api('POST', '/api/v1/auth/logout', { headers: { cookie } });
  t.equal(logout.status, 204, 'logout by cookie');
  t.equal((await api('GET', ME, { headers: { cookie } })).status, 401, 'the cookie is dead at once');
});

t.test('COOKIE_SECURE=true marks the auth cookies Secure', async (t) => {
  const { api } = await build(t, { COOKIE_SECURE: true });
  const response = await api('POST', '/api/v1/auth/register', { body: newAccount() });
  for (const [name, cookie] of cookiesOf(response)) t.equal(cookie.attributes.get('secure'), true, `${name} is Secure`);
});
