// Connecting and authenticating: the four ways, hello/ready, and the close codes of authentication.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { signJwt } from '../helpers/accounts.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';

t.test('hello then ready, with upgrade credentials in the query, a header or the cookie', async (t) => {
  const { api, baseUrl, config } = await build(t);
  const ada = await register(api);

  for (const way of ['token', 'bearer', 'cookie'] as const) {
    const client = await connect(t, baseUrl, { [way]: ada.token, name: way });
    const hello = await client.next('hello');
    t.match(hello.session_id, /^[A-Za-z0-9_-]{8,64}$/, `${way}: hello has a session id`);
    t.equal(hello.heartbeat_interval_ms, config.WS_HEARTBEAT_INTERVAL_MS);
    t.equal(hello.resume_window_ms, config.WS_RESUME_WINDOW_MS);
    const ready = await client.next('ready');
    t.equal(ready.user.id, ada.user.id, `${way}: ready names the user`);
    t.equal(ready.user.email, ada.user.email, 'ready carries the full own profile');
    t.ok(ready.channel_ids.length >= 1, 'ready lists the channels (general at least)');
    t.equal(client.frames[0]!.type, 'hello', 'hello comes first');
    await client.close();
  }
});

t.test('a first authorization frame authenticates; its ref is echoed in ready', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const client = await connect(t, baseUrl);
  await client.next('hello');
  const pong = await client.request({ type: 'ping', ref: 'p0' });
  t.same(pong, { type: 'pong', ref: 'p0' }, 'ping is allowed before authentication');
  const ready = await client.request({ type: 'authorization', ref: 'auth-1', token: ada.token });
  t.equal(ready.type, 'ready');
  t.equal((ready as { ref?: string }).ref, 'auth-1');
  const ack = await client.request({ type: 'presence_update', ref: 's1', status: 'online' });
  t.same(ack, { type: 'ack', ref: 's1' }, 'the session works');
});

t.test('?resume=1 ignores upgrade credentials', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const client = await connect(t, baseUrl, { token: ada.token, query: 'resume=1' });
  await client.next('hello');
  await client.expectNone('ready', 'no ready without a frame');
  const ready = await client.request({ type: 'authorization', ref: 'a', token: ada.token });
  t.equal(ready.type, 'ready');
});

t.test('bad, expired, forged or revoked tokens close 4004', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: ada.user.id, name: 'x', email: 'x@example.com', role: 'client', sid: '1' };
  const tokens: Record<string, string> = {
    garbage: 'not-a-jwt',
    expired: signJwt({ ...claims, iat: now - 3600, exp: now - 1800 }),
    'wrong secret': signJwt({ ...claims, iat: now, exp: now + 600 }, { secret: 'another-secret-that-is-long-enough-000' }),
    'alg none': signJwt({ ...claims, iat: now, exp: now + 600 }, { alg: 'none' }),
    'unknown session': signJwt({ ...claims, iat: now, exp: now + 600 }),
  };
  for (const [name, token] of Object.entries(tokens)) {
    const viaQuery = await connect(t, baseUrl, { token, name: `${name} (query)` });
    await viaQuery.next('hello');
    t.equal((await viaQuery.closedWith()).code, 4004, `${name} in the query closes 4004`);
    const viaFrame = await connect(t, baseUrl, { name: `${name} (frame)` });
    await viaFrame.next('hello');
    viaFrame.send({ type: 'authorization', token });
    t.equal((await viaFrame.closedWith()).code, 4004, `${name} in an authorization frame closes 4004`);
  }

  const logout = await api('POST', '/api/v1/auth/logout', { token: ada.token });
  t.equal(logout.status, 204);
  const revoked = await connect(t, baseUrl, { bearer: ada.token });
  t.equal((await revoked.closedWith()).code, 4004, 'a logged-out token closes 4004');
  t.notOk(revoked.frames.some((frame) => frame.type === 'ready'), 'and never gets ready');
});

t.test('a second authorization (or a resume) on an authenticated connection closes 4005', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const first = (await connectReady(t, baseUrl, ada.token)).client;
  first.send({ type: 'authorization', token: ada.token });
  t.equal((await first.closedWith()).code, 4005);

  const second = await connect(t, baseUrl);
  await second.next('hello');
  await second.request({ type: 'authorization', ref: 'a', token: ada.token });
  second.send({ type: 'resume', token: ada.token, session_id: 'abcdefgh12', seq: 0 });
  t.equal((await second.closedWith()).code, 4005, 'resume after authorization');
});

t.test('anything but authorization, resume or ping before authentication closes 4003', async (t) => {
  const { api, baseUrl } = await build(t);
  await register(api);
  const client = await connect(t, baseUrl);
  await client.next('hello');
  client.send({ type: 'join', channel_id: '1' });
  t.equal((await client.closedWith()).code, 4003);
});

t.test('no authorization within the timeout closes 4003; a ping does not extend it', async (t) => {
  const { baseUrl } = await build(t, { WS_AUTH_TIMEOUT_MS: 250 });
  // Taken before the connection exists, so the server's timer surely started after it: a lower
  // bound a slow machine cannot break (no upper bound is asserted).
  const started = performance.now();
  const client = await connect(t, baseUrl);
  await client.next('hello');
  // Ping after ping, each answered: were a ping to restart the timer, the connection would never
  // close (the wait below would time out); the pings are spaced so the frame rate limit is not hit.
  let pongs = 0;
  while (!client.closeInfo) {
    const reply = await client.request({ type: 'ping', ref: `keep-${pongs}` }).catch(() => undefined);
    if (reply?.type === 'pong') pongs += 1;
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (performance.now() - started > 20_000) break;
  }
  const closed = await client.closedWith();
  t.equal(closed.code, 4003, 'closed 4003 although pings kept coming');
  t.ok(pongs >= 1, `pings were answered before the timeout (${pongs})`);
  t.ok(performance.now() - started >= 250, 'not before the timeout');
});
