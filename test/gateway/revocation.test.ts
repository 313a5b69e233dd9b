// Revocation: logout, session revocation, a password change, deactivation and deletion close the
// affected sockets with 4004 within a second; other sessions stay.
import t, { type Test } from 'tap';
import { adminOverrides, loginAdmin } from '../helpers/accounts.ts';
import { build, register, type ApiClient, type Registered } from '../helpers/build.ts';
import { connectReady } from '../helpers/gateway-client.ts';

async function secondLogin(api: ApiClient, user: Registered) {
  const response = await api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: user.password } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status}`);
  return response.body as { access_token: string };
}

/**
 * The socket is closed 4004. No time limit is asserted (a busy machine must not fail it): the
 * close follows from the change itself, and how soon belongs in `npm run bench`.
 */
async function closedWithin(t: Test, client: Awaited<ReturnType<typeof connectReady>>['client'], what: string) {
  const closed = await client.closedWith(10_000);
  t.equal(closed.code, 4004, `${what}: 4004`);
}

t.test('logout closes the sockets of that session only', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const other = await secondLogin(api, ada);
  const { client: mine } = await connectReady(t, baseUrl, ada.token, { name: 'this session' });
  const { client: mineToo } = await connectReady(t, baseUrl, ada.token, { name: 'this session, 2nd socket' });
  const { client: elsewhere } = await connectReady(t, baseUrl, other.access_token, { name: 'other session' });
  t.equal((await api('POST', '/api/v1/auth/logout', { token: ada.token })).status, 204);
  await closedWithin(t, mine, 'logout');
  await closedWithin(t, mineToo, 'logout (second socket)');
  t.match(await elsewhere.request({ type: 'ping', ref: 'p' }), { type: 'pong' }, 'the other session stays');
});

t.test('revoking a session closes its sockets', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const other = await secondLogin(api, ada);
  const { client: victim } = await connectReady(t, baseUrl, other.access_token, { name: 'revoked' });
  const { client: keeper } = await connectReady(t, baseUrl, ada.token, { name: 'kept' });
  const sessions = await api('GET', '/api/v1/auth/sessions', { token: ada.token });
  const victimId = sessions.body.items.find((item: { current: boolean }) => !item.current).id;
  t.equal((await api('DELETE', `/api/v1/auth/sessions/${victimId}`, { token: ada.token })).status, 204);
  await closedWithin(t, victim, 'session revoked');
  t.match(await keeper.request({ type: 'ping', ref: 'p' }), { type: 'pong' }, "the caller's own session stays");
});

t.test('a password change closes the other sessions; deactivation and deletion close all', async (t) => {
  const { api, baseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const ada = await register(api);
  const other = await secondLogin(api, ada);
  const { client: current } = await connectReady(t, baseUrl, ada.token, { name: 'current' });
  const { client: elsewhere } = await connectReady(t, baseUrl, other.access_token, { name: 'elsewhere' });
  const changed = await api('PATCH', '/api/v1/users/@me', {
    token: ada.token,
    body: { current_password: ada.password, password: 'N3w-password-ok' },
  });
  t.equal(changed.status, 200);
  await closedWithin(t, elsewhere, 'password change');
  t.match(await current.request({ type: 'ping', ref: 'p' }), { type: 'pong' }, 'the session that changed it stays');

  const deactivated = await api('PATCH', `/api/v1/users/${ada.user.id}`, { token: admin.token, body: { active: false } });
  t.equal(deactivated.status, 200);
  await closedWithin(t, current, 'deactivation');

  const bob = await register(api);
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  t.equal((await api('DELETE', '/api/v1/users/@me', { token: bob.token })).status, 204);
  await closedWithin(t, bobWs, 'account deletion');

  const carl = await register(api);
  const { client: carlWs } = await connectReady(t, baseUrl, carl.token, { name: 'carl' });
  t.equal((await api('DELETE', `/api/v1/users/${carl.user.id}`, { token: admin.token })).status, 204);
  await closedWithin(t, carlWs, 'deletion by an admin');
});
