import t from 'tap';
import { build, newAccount, register, type ApiClient } from '../helpers/build.ts';
import { adminOverrides, decodeJwt, login, loginAdmin, queryDatabase } from '../helpers/accounts.ts';

const ME = '/api/v1/users/@me';
const fieldsOf = (body: { errors?: Array<{ field: string }> }) => (body.errors ?? []).map((error) => error.field);

t.test('GET /users/@me: my full profile; 401 without a token', async (t) => {
  const { api } = await build(t);
  const account = await register(api, { phone_number: '+1 555 0100' });
  const me = await api('GET', ME, { token: account.token });
  t.equal(me.status, 200);
  t.match(me.body, { id: account.user.id, username: account.user.username, email: account.user.email, phone_number: '+1 555 0100' });
  t.equal(me.body.last_seen_at, null);
  const anonymous = await api('GET', ME);
  t.equal(anonymous.status, 401);
  t.equal(anonymous.body.code, 'unauthorized');
});

t.test('PATCH /users/@me: profile fields; validation, mass assignment, conflicts, content type', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const other = await register(api);
  const token = account.token;

  const renamed = `${account.user.username.slice(0, 28)}_new`;
  const updated = await api('PATCH', ME, {
    token,
    body: { display_name: 'New Name', username: renamed, phone_number: '+44 1234 5678', email: `new-${account.user.email}` },
  });
  t.equal(updated.status, 200);
  t.match(updated.body, { display_name: 'New Name', username: renamed, phone_number: '+44 1234 5678', email: `new-${account.user.email}` });
  t.ok(updated.body.updated_at >= updated.body.created_at);
  t.equal((await login(api, renamed, account.password)).user.id, account.user.id, 'the new username logs in');
  const cleared = await api('PATCH', ME, { token, body: { phone_number: null } });
  t.equal(cleared.status, 200);
  t.equal(cleared.body.phone_number, null, 'phone number can be cleared');

  for (const [body, field] of [
    [{ role: 'admin' }, '/role'],
    [{ id: '1' }, '/id'],
    [{ active: false }, '/active'],
    [{ display_name: 'ok', role: 'admin' }, '/role'],
    [{ created_at: '2020-01-01T00:00:00Z' }, '/created_at'],
  ] as const) {
    const response = await api('PATCH', ME, { token, body });
    t.equal(response.status, 400, `${JSON.stringify(body)} is rejected, not silently dropped`);
    t.equal(response.body.code, 'validation_failed');
    t.ok(fieldsOf(response.body).includes(field), `errors[] names ${field}`);
  }
  const me = await api('GET', ME, { token });
  t.equal(me.body.role, 'client', 'the role did not change');
  t.equal(me.body.display_name, 'New Name', 'nothing of the rejected requests was applied');

  const empty = await api('PATCH', ME, { token, body: {} });
  t.equal(empty.status, 400, 'an empty patch');
  const badName = await api('PATCH', ME, { token, body: { display_name: '' } });
  t.same(fieldsOf(badName.body), ['/display_name']);
  const badEmail = await api('PATCH', ME, { token, body: { email: 'nope' } });
  t.same(fieldsOf(badEmail.body), ['/email']);
  const badPhone = await api('PATCH', ME, { token, body: { phone_number: 'call me' } });
  t.equal(badPhone.status, 400);
  t.ok(fieldsOf(badPhone.body).every((field) => field === '/phone_number'));

  const taken = await api('PATCH', ME, { token, body: { username: other.user.username.toUpperCase() } });
  t.equal(taken.status, 409);
  t.same(taken.body.errors, [{ in: 'body', field: '/username', message: 'is already taken' }]);
  const takenEmail = await api('PATCH', ME, { token, body: { email: other.user.email } });
  t.equal(takenEmail.status, 409);
  t.same(takenEmail.body.errors, [{ in: 'body', field: '/email', message: 'is already registered' }]);

  const text = await api('PATCH', ME, { token, rawBody: Buffer.from('{"display_name":"x"}'), headers: { 'content-type': 'text/plain' } });
  t.equal(text.status, 415);
  t.equal(text.body.code, 'unsupported_media_type');
  t.equal((await api('PATCH', ME, { body: { display_name: 'x' } })).status, 401);
});

t.test('PATCH /users/@me password: needs the current one, obeys the policy, ends the other sessions', async (t) => {
  const { api } = await build(t);
  const account = await register(api);
  const second = await login(api, account.user.username, account.password);
  const third = await login(api, account.user.email!, account.password);
  const newPassword = 'N3w-password!';

  const withoutCurrent = await api('PATCH', ME, { token: account.token, body: { password: newPassword } });
  t.equal(withoutCurrent.status, 400);
  t.same(fieldsOf(withoutCurrent.body), ['/current_password']);
  const currentOnly = await api('PATCH', ME, { token: account.token, body: { current_password: account.password } });
  t.equal(currentOnly.status, 400);
  t.same(fieldsOf(currentOnly.body), ['/password']);
  const wrongCurrent = await api('PATCH', ME, { token: account.token, body: { password: newPassword, current_password: 'Wrong-pass1' } });
  t.equal(wrongCurrent.status, 401);
  t.equal(wrongCurrent.body.code, 'invalid_credentials');
  const weak = await api('PATCH', ME, { token: account.token, body: { password: 'weakpassword', current_password: account.password } });
  t.equal(weak.status, 400);
  t.same(weak.body.errors, [
    { in: 'body', field: '/password', message: 'must contain a digit' },
    { in: 'body', field: '/password', message: 'must contain an upper-case letter' },
  ]);
  t.equal((await api('GET', ME, { token: second.token })).status, 200, 'failed attempts end nothing');

  const changed = await api('PATCH', ME, { token: account.token, body: { password: newPassword, current_password: account.password } });
  t.equal(changed.status, 200);
  t.notOk('password' in changed.body || 'password_hash' in changed.body, 'no password in the response');
  t.equal((await api('GET', ME, { token: account.token })).status, 200, 'the session that changed it lives on');
  t.equal((await api('GET', ME, { token: second.token })).status, 401, 'every other session ended at once');
  t.equal((await api('GET', ME, { token: third.token })).status, 401);
  t.equal((await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: third.refreshToken } })).status, 401);
  const sessions = await api('GET', '/api/v1/auth/sessions', { token: account.token });
  t.equal(sessions.body.items.length, 1);
  const old = await api('POST', '/api/v1/auth/login', { body: { login: account.user.username, password: account.password } });
  t.equal(old.status, 401, 'the old password is refused');
  t.equal((await login(api, account.user.username, newPassword)).user.id, account.user.id, 'the new one works');
});

t.test('DELETE /users/@me ends all sessions and touches nothing else', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const doomed = await register(api);
  const doomedSecond = await login(api, doomed.user.email!, doomed.password);
  const bystander = await register(api);
  const before = (await api('GET', '/api/v1/users/statistics', { token: admin.token })).body;

  const deleted = await api('DELETE', ME, { token: doomed.token });
  t.equal(deleted.status, 204);
  t.equal(deleted.text, '');
  t.equal((await api('GET', ME, { token: doomed.token })).status, 401, 'the calling session ended');
  t.equal((await api('GET', ME, { token: doomedSecond.token })).status, 401, 'every other session too');
  t.equal((await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: doomedSecond.refreshToken } })).status, 401);
  t.equal((await api('DELETE', ME, { token: doomed.token })).status, 401, 'deleting twice is 401');
  const relogin = await api('POST', '/api/v1/auth/login', { body: { login: doomed.user.username, password: doomed.password } });
  t.equal(relogin.status, 401, 'the account cannot log in any more');
  t.equal((await api('GET', `/api/v1/users/${doomed.user.id}`, { token: bystander.token })).status, 404, 'it is gone from the API');

  t.equal((await api('GET', ME, { token: bystander.token })).status, 200, "another user's session is untouched");
  t.equal((await api('GET', ME, { token: admin.token })).status, 200);
  const after = (await api('GET', '/api/v1/users/statistics', { token: admin.token })).body;
  t.equal(after.total, before.total - 1, 'exactly one account left the statistics');
  t.equal(after.by_role.admin, before.by_role.admin);
  t.equal((await api('GET', `/api/v1/users/${bystander.user.id}`, { token: admin.token })).body.username, bystander.user.username);
});

t.test('email and phone number: visible to the user and admins only', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const alice = await register(api, { phone_number: '+1 555 0101' });
  const bob = await register(api);

  const asBob = await api('GET', `/api/v1/users/${alice.user.id}`, { token: bob.token });
  t.equal(asBob.status, 200);
  t.equal(asBob.body.username, alice.user.username);
  t.notOk('email' in asBob.body, "another user's email is hidden");
  t.notOk('phone_number' in asBob.body, "another user's phone number is hidden");
  const asSelf = await api('GET', `/api/v1/users/${alice.user.id}`, { token: alice.token });
  t.equal(asSelf.body.email, alice.user.email);
  t.equal(asSelf.body.phone_number, '+1 555 0101');
  const asAdmin = await api('GET', `/api/v1/users/${alice.user.id}`, { token: admin.token });
  t.equal(asAdmin.body.email, alice.user.email);
  t.equal(asAdmin.body.phone_number, '+1 555 0101');

  const list = await api('GET', '/api/v1/users?limit=100', { token: bob.token });
  for (const user of list.body.items as Array<{ id: string; email?: string; phone_number?: string }>) {
    if (user.id === bob.user.id) t.equal(user.email, bob.user.email, 'my own entry shows my email');
    else t.notOk('email' in user || 'phone_number' in user, `list hides ${user.id}'s contact details from a non-admin`);
  }
  const adminList = await api('GET', '/api/v1/users?limit=100', { token: admin.token });
  t.ok((adminList.body.items as Array<{ email?: string }>).every((user) => typeof user.email === 'string'), 'admins see every email');

  const byEmail = await api('GET', `/api/v1/users?q=${encodeURIComponent(alice.user.email!)}`, { token: bob.token });
  t.same(byEmail.body.items, [], 'a non-admin cannot find users by (hidden) email');
  const adminByEmail = await api('GET', `/api/v1/users?q=${encodeURIComponent(alice.user.email!)}`, { token: admin.token });
  t.same(adminByEmail.body.items.map((user: { id: string }) => user.id), [alice.user.id], 'an admin can');
});

t.test('a non-admin gets 403 on every admin route', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const trainer = await register(api);
  await api('PATCH', `/api/v1/users/${trainer.user.id}`, { token: admin.token, body: { role: 'trainer' } });
  const client = await register(api);
  const target = await register(api);

  for (const caller of [client, trainer]) {
    const checks: Array<[string, string, unknown?]> = [
      ['POST', '/api/v1/users', { ...newAccount('made'), role: 'client' }],
      ['GET', '/api/v1/users/statistics'],
      ['DELETE', `/api/v1/users/${target.user.id}`],
      ['PATCH', `/api/v1/users/${target.user.id}`, { role: 'admin' }],
      ['PATCH', `/api/v1/users/${target.user.id}`, { active: false }],
      ['PATCH', `/api/v1/users/${target.user.id}`, { display_name: 'Hijacked' }],
      ['PATCH', `/api/v1/users/${caller.user.id}`, { role: 'admin' }],
      ['PATCH', `/api/v1/users/${caller.user.id}`, { active: true }],
      ['DELETE', `/api/v1/users/${caller.user.id}`],
    ];
    for (const [method, url, body] of checks) {
      const response = await api(method, url, { token: caller.token, ...(body ? { body } : {}) });
      t.equal(response.status, 403, `${method} ${url} ${JSON.stringify(body ?? '')} as a ${caller === trainer ? 'trainer' : 'client'}`);
      t.equal(response.body.code, 'forbidden');
    }
  }
  for (const [method, url] of [
    ['POST', '/api/v1/users'],
    ['GET', '/api/v1/users/statistics'],
    ['GET', '/api/v1/users'],
    ['GET', `/api/v1/users/${target.user.id}`],
    ['DELETE', `/api/v1/users/${target.user.id}`],
    ['PATCH', `/api/v1/users/${target.user.id}`],
  ]) {
    const response = await api(method!, url!, method === 'POST' || method === 'PATCH' ? { body: { display_name: 'x' } } : {});
    t.equal(response.status, 401, `${method} ${url} without a token (authentication comes before body validation)`);
    if (method === 'POST' || method === 'PATCH') {
      t.equal((await api(method, url!)).status, 401, `${method} ${url} without a token or a body`);
    }
  }

  const still = await api('GET', `/api/v1/users/${target.user.id}`, { token: admin.token });
  t.match(still.body, { role: 'client', active: true, display_name: target.user.username }, 'the target is untouched');
  t.equal((await api('GET', ME, { token: target.token })).status, 200);
  t.equal((await api('GET', ME, { token: client.token })).body.role, 'client', 'nobody promoted themself');

  const own = await api('PATCH', `/api/v1/users/${client.user.id}`, { token: client.token, body: { display_name: 'Mine' } });
  t.equal(own.status, 200, 'a user may update their own profile fields here');
  t.equal(own.body.display_name, 'Mine');
  t.equal(own.body.email, client.user.email);
});

t.test('POST /users (admin): create with a role; validation, policy, conflicts, content type', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const account = { ...newAccount('made'), role: 'trainer', display_name: 'Coach', phone_number: '+1 555 0199' };
  const created = await api('POST', '/api/v1/users', { token: admin.token, body: account });
  t.equal(created.status, 201);
  t.match(created.body, { username: account.username, email: account.email, role: 'trainer', active: true, display_name: 'Coach' });
  t.equal((await login(api, account.username, account.password)).user.role, 'trainer', 'the new user can log in');

  const inactive = await api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount('off'), active: false } });
  t.equal(inactive.status, 201);
  t.equal(inactive.body.active, false);
  t.equal(inactive.body.role, 'client', 'role defaults to client');

  const duplicate = await api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount(), username: account.username } });
  t.equal(duplicate.status, 409);
  t.same(fieldsOf(duplicate.body), ['/username']);
  const weak = await api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount(), password: 'alllowercase1' } });
  t.equal(weak.status, 400);
  t.same(weak.body.errors, [{ in: 'body', field: '/password', message: 'must contain an upper-case letter' }]);
  const badRole = await api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount(), role: 'root' } });
  t.equal(badRole.status, 400);
  t.ok(fieldsOf(badRole.body).includes('/role'));
  const extra = await api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount(), id: '5' } });
  t.equal(extra.status, 400);
  t.same(fieldsOf(extra.body), ['/id']);
  const missing = await api('POST', '/api/v1/users', { token: admin.token, body: { username: 'abc_def' } });
  t.same(fieldsOf(missing.body).sort(), ['/email', '/password']);
  const text = await api('POST', '/api/v1/users', {
    token: admin.token,
    rawBody: Buffer.from(JSON.stringify(newAccount())),
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.status, 415);
});

t.test('PATCH /users/{id} (admin): role and active; deactivation ends sessions and blocks login', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const user = await register(api);
  const userSecond = await login(api, user.user.username, user.password);
  const bystander = await register(api);

  const promoted = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { role: 'trainer' } });
  t.equal(promoted.status, 200);
  t.equal(promoted.body.role, 'trainer');
  t.equal(promoted.body.email, user.user.email, 'admins see the email');
  t.equal((await api('GET', ME, { token: user.token })).body.role, 'trainer', 'the role applies to live sessions at once');

  const deactivated = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { active: false } });
  t.equal(deactivated.status, 200);
  t.equal(deactivated.body.active, false);
  t.equal((await api('GET', ME, { token: user.token })).status, 401, 'their sessions ended');
  t.equal((await api('GET', ME, { token: userSecond.token })).status, 401);
  t.equal((await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: userSecond.refreshToken } })).status, 401);
  const refused = await api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: user.password } });
  t.equal(refused.status, 403, 'a deactivated user cannot log in');
  t.equal(refused.body.code, 'account_inactive');
  const wrong = await api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: 'Wrong-pass1' } });
  t.equal(wrong.status, 401, 'with a wrong password it is still just invalid credentials');
  t.equal((await api('GET', ME, { token: bystander.token })).status, 200, 'other users are unaffected');

  const reactivated = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { active: true } });
  t.equal(reactivated.body.active, true);
  t.equal((await login(api, user.user.username, user.password)).user.role, 'trainer', 'reactivated, they can log in again');

  const renamed = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { display_name: 'Renamed by admin' } });
  t.equal(renamed.body.display_name, 'Renamed by admin');
  const conflict = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { username: bystander.user.username } });
  t.equal(conflict.status, 409);
  const unknown = await api('PATCH', '/api/v1/users/123456789', { token: admin.token, body: { role: 'admin' } });
  t.equal(unknown.status, 404);
  t.equal(unknown.body.code, 'not_found');
  const badId = await api('PATCH', '/api/v1/users/abc', { token: admin.token, body: { role: 'admin' } });
  t.equal(badId.status, 400);
  t.ok(fieldsOf(badId.body).some((field) => field.includes('user_id')));
  const badBody = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { role: 'owner' } });
  t.equal(badBody.status, 400);
  const stringly = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { active: 'false' } });
  t.equal(stringly.status, 400, '"false" is not a boolean: bodies are not type-coerced');
  t.same(fieldsOf(stringly.body), ['/active']);
  const extra = await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { password_hash: 'x' } });
  t.same(fieldsOf(extra.body), ['/password_hash'], 'not even admins may set arbitrary columns');
  const text = await api('PATCH', `/api/v1/users/${user.user.id}`, {
    token: admin.token,
    rawBody: Buffer.from('{"role":"admin"}'),
    headers: { 'content-type': 'text/plain' },
  });
  t.equal(text.status, 415);
});

t.test('GET /users/{id} and DELETE /users/{id} (admin)', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const user = await register(api);
  const other = await register(api);

  t.equal((await api('GET', '/api/v1/users/123456789', { token: user.token })).status, 404);
  const bad = await api('GET', '/api/v1/users/not-a-number', { token: user.token });
  t.equal(bad.status, 400);
  t.equal((await api('GET', `/api/v1/users/${user.user.id}`)).status, 401);

  const deleted = await api('DELETE', `/api/v1/users/${user.user.id}`, { token: admin.token });
  t.equal(deleted.status, 204);
  t.equal((await api('GET', ME, { token: user.token })).status, 401, "the deleted user's sessions ended");
  t.equal((await api('GET', `/api/v1/users/${user.user.id}`, { token: admin.token })).status, 404);
  t.equal((await api('DELETE', `/api/v1/users/${user.user.id}`, { token: admin.token })).status, 404, 'deleting twice is 404');
  t.equal((await api('DELETE', '/api/v1/users/abc', { token: admin.token })).status, 400);
  t.equal((await api('GET', ME, { token: other.token })).status, 200, 'nobody else is affected');
  const again = await api('POST', '/api/v1/auth/register', { body: { ...newAccount(), username: user.user.username } });
  t.equal(again.status, 201, "a deleted account's username can be registered again");
});

async function seedUsers(api: ApiClient, adminToken: string, count: number) {
  const made: Array<{ id: string; username: string; role: string; active: boolean }> = [];
  for (let index = 0; index < count; index += 1) {
    const role = index % 3 === 0 ? 'trainer' : 'client';
    const active = index % 4 !== 1;
    const account = { ...newAccount(index % 2 === 0 ? 'zeta' : 'omega'), role, active };
    const response = await api('POST', '/api/v1/users', { token: adminToken, body: account });
    made.push(response.body);
  }
  return made;
}

t.test('GET /users: filters role, active, q; keyset pagination walks every page', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const made = await seedUsers(api, admin.token, 9);
  const everyone = [admin.user, ...made].map((user) => user.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

  for (const limit of [1, 2, 4, 10, 100]) {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/v1/users?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await api('GET', query, { token: admin.token });
      t.equal(page.status, 200);
      t.ok(page.body.items.length <= limit, `page size <= ${limit}`);
      seen.push(...page.body.items.map((user: { id: string }) => user.id));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    t.same(seen, everyone, `limit=${limit}: every user exactly once, in id order`);
    t.equal(pages, Math.max(1, Math.ceil(everyone.length / limit)), `limit=${limit}: ${pages} pages, no empty last page`);
  }

  const defaultPage = await api('GET', '/api/v1/users', { token: admin.token });
  t.equal(defaultPage.body.items.length, everyone.length, 'default limit (50) covers them all');
  t.equal(defaultPage.body.next_cursor, null);

  const trainers = await api('GET', '/api/v1/users?role=trainer&limit=100', { token: admin.token });
  t.same(
    trainers.body.items.map((user: { id: string }) => user.id),
    made.filter((user) => user.role === 'trainer').map((user) => user.id),
  );
  const admins = await api('GET', '/api/v1/users?role=admin', { token: admin.token });
  t.same(admins.body.items.map((user: { id: string }) => user.id), [admin.user.id]);
  const inactive = await api('GET', '/api/v1/users?active=false', { token: admin.token });
  t.same(
    inactive.body.items.map((user: { id: string }) => user.id),
    made.filter((user) => !user.active).map((user) => user.id),
  );
  const activeTrainers = await api('GET', '/api/v1/users?active=true&role=trainer', { token: admin.token });
  t.same(
    activeTrainers.body.items.map((user: { id: string }) => user.id),
    made.filter((user) => user.active && user.role === 'trainer').map((user) => user.id),
    'filters combine',
  );
  const omegas = await api('GET', '/api/v1/users?q=OMEGA', { token: admin.token });
  t.same(
    omegas.body.items.map((user: { id: string }) => user.id),
    made.filter((user) => user.username.startsWith('omega')).map((user) => user.id),
    'q is a case-insensitive substring of the username',
  );
  const byDisplayName = await api('PATCH', `/api/v1/users/${made[0]!.id}`, { token: admin.token, body: { display_name: 'Quite Unique Name' } });
  t.equal(byDisplayName.status, 200);
  const found = await api('GET', '/api/v1/users?q=unique%20name', { token: admin.token });
  t.same(found.body.items.map((user: { id: string }) => user.id), [made[0]!.id], 'q matches the display name');
  const wildcard = await api('GET', '/api/v1/users?q=%25', { token: admin.token });
  t.same(wildcard.body.items, [], 'q is literal: % is not a wildcard');
  const pagedFilter = await api('GET', '/api/v1/users?role=client&limit=2', { token: admin.token });
  const nextFiltered = await api('GET', `/api/v1/users?role=client&limit=2&cursor=${encodeURIComponent(pagedFilter.body.next_cursor)}`, {
    token: admin.token,
  });
  t.ok(nextFiltered.body.items.every((user: { role: string }) => user.role === 'client'), 'the filter holds on later pages');

  const regular = await register(api);
  const asUser = await api('GET', '/api/v1/users?limit=1', { token: regular.token });
  t.equal(asUser.status, 200, 'any signed-in user may list users');
});

t.test('GET /users: limit bounds and bad cursors are 400', async (t) => {
  const { api } = await build(t);
  const { token } = await register(api);
  for (const query of ['limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'role=root', 'active=maybe', 'q=', `q=${'x'.repeat(101)}`]) {
    const response = await api('GET', `/api/v1/users?${query}`, { token });
    t.equal(response.status, 400, query);
    t.equal(response.body.code, 'validation_failed');
    const name = query.split('=')[0]!;
    t.ok(fieldsOf(response.body).some((field) => field.includes(name)), `errors[] names ${name}: ${fieldsOf(response.body).join(', ')}`);
  }
  t.equal((await api('GET', '/api/v1/users?limit=1', { token })).status, 200);
  t.equal((await api('GET', '/api/v1/users?limit=100', { token })).status, 200);
  const badCursors = [
    'not-base64-json',
    Buffer.from('{"v":2,"id":"1"}').toString('base64url'),
    Buffer.from('{"v":1,"id":"1; DROP TABLE users"}').toString('base64url'),
    Buffer.from('{"v":1}').toString('base64url'),
    Buffer.from('[]').toString('base64url'),
  ];
  for (const cursor of badCursors) {
    const response = await api('GET', `/api/v1/users?cursor=${encodeURIComponent(cursor)}`, { token });
    t.equal(response.status, 400, `cursor ${cursor}`);
    t.same(response.body.errors, [{ in: 'query', field: '/cursor', message: 'is not a valid cursor' }]);
  }
  t.equal((await api('GET', `/api/v1/users?cursor=${'x'.repeat(201)}`, { token })).status, 400, 'cursor length is bounded');
});

t.test('GET /users/statistics (admin): counts per role, active, inactive, total, online', async (t) => {
  const { api, databaseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const empty = await api('GET', '/api/v1/users/statistics', { token: admin.token });
  t.equal(empty.status, 200);
  t.same(empty.body, { total: 1, active: 1, inactive: 0, online: 0, by_role: { client: 0, trainer: 0, admin: 1 } });

  const made = await seedUsers(api, admin.token, 8);
  const doomed = await register(api);
  await api('DELETE', `/api/v1/users/${doomed.user.id}`, { token: admin.token });
  const stats = await api('GET', '/api/v1/users/statistics', { token: admin.token });
  const expected = {
    total: 1 + made.length,
    active: 1 + made.filter((user) => user.active).length,
    inactive: made.filter((user) => !user.active).length,
    online: 0,
    by_role: {
      client: made.filter((user) => user.role === 'client').length,
      trainer: made.filter((user) => user.role === 'trainer').length,
      admin: 1,
    },
  };
  t.same(stats.body, expected, 'deleted accounts are not counted');
  const [row] = await queryDatabase<{ n: number }>(databaseUrl, 'SELECT count(*)::int AS n FROM users WHERE deleted_at IS NULL');
  t.equal(row?.n, expected.total, 'matches the table');
});

t.test('tokens carry the role at issue time, but authorization reads the live role', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const user = await register(api);
  t.equal(decodeJwt(user.token).payload.role, 'client');
  await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { role: 'admin' } });
  const stats = await api('GET', '/api/v1/users/statistics', { token: user.token });
  t.equal(stats.status, 200, 'a promotion applies to the existing token');
  await api('PATCH', `/api/v1/users/${user.user.id}`, { token: admin.token, body: { role: 'client' } });
  t.equal((await api('GET', '/api/v1/users/statistics', { token: user.token })).status, 403, 'and so does a demotion');
});
