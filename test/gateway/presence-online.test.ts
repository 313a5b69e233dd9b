// Presence end to end: online while connected, offline after the last connection (and the grace
// period), last_seen_at stored, presence_updated to users sharing a channel, GET /users/online.
import t from 'tap';
import { adminOverrides, loginAdmin } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { waitFor } from '../helpers/poll.ts';

t.test('online and offline reach users who share a channel; last_seen_at is stored', async (t) => {
  const { api, baseUrl } = await build(t, { PRESENCE_GRACE_MS: 0 });
  const ada = await register(api);
  const bob = await register(api);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  const online = await adaWs.next('presence_updated');
  t.match(online, { user_id: bob.user.id, status: 'online' }, 'bob is online (they share general)');
  t.type(online.last_seen_at, 'string');

  const listed = await api('GET', '/api/v1/users/online', { token: ada.token });
  t.equal(listed.status, 200);
  t.same(
    listed.body.items.map((item: { user: { id: string }; status: string }) => [item.user.id, item.status]).sort(),
    [[ada.user.id, 'online'], [bob.user.id, 'online']].sort(),
    'GET /users/online lists both',
  );
  t.notOk('email' in listed.body.items.find((item: { user: { id: string } }) => item.user.id === bob.user.id).user, "others' email is hidden");

  t.same(await bobWs.request({ type: 'presence_update', ref: 'p', status: 'dnd' }), { type: 'ack', ref: 'p' });
  t.match(await adaWs.next('presence_updated'), { user_id: bob.user.id, status: 'dnd' });
  t.equal(
    (await api('GET', '/api/v1/users/online', { token: ada.token })).body.items.find((item: { user: { id: string } }) => item.user.id === bob.user.id)
      .status,
    'dnd',
  );

  await bobWs.close();
  const offline = await adaWs.next('presence_updated');
  t.match(offline, { user_id: bob.user.id, status: 'offline' }, 'offline after the last connection closed');
  t.type(offline.last_seen_at, 'string');
  // last_seen_at is written after the announcement: wait for the stored state, not for a while.
  let stored: unknown;
  await waitFor(async () => {
    stored = (await api('GET', `/api/v1/users/${bob.user.id}`, { token: ada.token })).body.last_seen_at;
    return stored === offline.last_seen_at;
  }, 'last_seen_at stored').catch(() => undefined);
  t.equal(stored, offline.last_seen_at, 'last_seen_at stored as announced');
  const after = await api('GET', '/api/v1/users/online', { token: ada.token });
  t.same(after.body.items.map((item: { user: { id: string } }) => item.user.id), [ada.user.id], 'bob is no longer listed');
  t.equal(bobWs.events('presence_updated').filter((frame) => (frame as { user_id: string }).user_id === bob.user.id).length, 0, 'nobody is told about themself');
});

t.test('two connections: offline only when both are gone; a reconnect within the grace period is no absence', async (t) => {
  // A grace period no test outlasts: "within the grace period" holds however slow the machine.
  const { app, api, baseUrl } = await build(t, { PRESENCE_GRACE_MS: 3_600_000 });
  const ada = await register(api);
  const bob = await register(api);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: phone } = await connectReady(t, baseUrl, bob.token, { name: 'phone' });
  const { client: laptop } = await connectReady(t, baseUrl, bob.token, { name: 'laptop' });
  t.match(await adaWs.next('presence_updated'), { user_id: bob.user.id, status: 'online' });
  const connectionsOfBob = () => [...app.gateway.connections].filter((connection) => connection.session?.userId === bob.user.id).length;
  const inGracePeriod = () => app.gateway.presence.graceDeadline(bob.user.id) !== null;
  await phone.close();
  await waitFor(() => connectionsOfBob() === 1, 'the server handled the first close');
  await adaWs.expectNone('presence_updated', 'one of two connections gone: still online');
  await laptop.close();
  await waitFor(inGracePeriod, 'the server handled the last close');
  await adaWs.expectNone('presence_updated', 'both gone, but within the grace period: no offline yet');
  const { client: again } = await connectReady(t, baseUrl, bob.token, { name: 'again' });
  await adaWs.expectNone('presence_updated', 'no offline/online flap: the reconnect is no absence');
  t.notOk(inGracePeriod(), 'connected again');
  await again.close();
  await waitFor(inGracePeriod, 'the server handled the close');
  await adaWs.expectNone('presence_updated', 'gone again: still within a grace period');
});

t.test('offline is announced once the grace period after the last connection ends', async (t) => {
  const { api, baseUrl } = await build(t, { PRESENCE_GRACE_MS: 50 });
  const ada = await register(api);
  const bob = await register(api);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  t.match(await adaWs.next('presence_updated'), { user_id: bob.user.id, status: 'online' });
  await bobWs.close();
  // Waits for the state (the grace timer fired), bounded only against hanging.
  const offline = await adaWs.next('presence_updated', 30_000);
  t.match(offline, { user_id: bob.user.id, status: 'offline' }, 'offline after the grace period');
});

t.test('invisible shows offline and is not listed; only users sharing a channel are told', async (t) => {
  const { api, baseUrl } = await build(t, { PRESENCE_GRACE_MS: 0 });
  const ada = await register(api);
  const bob = await register(api);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  await adaWs.next('presence_updated');

  await bobWs.request({ type: 'presence_update', ref: 'i', status: 'invisible' });
  t.match(await adaWs.next('presence_updated'), { user_id: bob.user.id, status: 'offline' }, 'invisible looks offline');
  const listed = await api('GET', '/api/v1/users/online', { token: ada.token });
  t.notOk(listed.body.items.some((item: { user: { id: string } }) => item.user.id === bob.user.id), 'not listed');
  await bobWs.request({ type: 'presence_update', ref: 'o', status: 'online' });
  t.match(await adaWs.next('presence_updated'), { user_id: bob.user.id, status: 'online' });

  // Leave general: ada and carl share nothing, so ada hears nothing of carl.
  const carl = await register(api);
  const general = (await api('GET', '/api/v1/channels?q=general', { token: carl.token })).body.items.find(
    (room: { name: string }) => room.name === 'general',
  );
  t.equal((await api('DELETE', `/api/v1/channels/${general.id}/members/${carl.user.id}`, { token: carl.token })).status, 204);
  const { client: carlWs } = await connectReady(t, baseUrl, carl.token, { name: 'carl' });
  await adaWs.expectNone((frame) => frame.type === 'presence_updated' && frame.user_id === carl.user.id, 'no shared channel, no presence');
  const room = await createRoom(api, carl, { name: 'carls' });
  await join(api, room.id, ada);
  await carlWs.request({ type: 'presence_update', ref: 'idle', status: 'idle' });
  t.match(await adaWs.next((frame) => frame.type === 'presence_updated' && frame.user_id === carl.user.id), { status: 'idle' }, 'now they share a room');
});

t.test('the users statistics count connected users', async (t) => {
  const { api, baseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const ada = await register(api);
  const before = await api('GET', '/api/v1/users/statistics', { token: admin.token });
  t.equal(before.body.online, 0);
  const { client } = await connectReady(t, baseUrl, ada.token);
  t.equal((await api('GET', '/api/v1/users/statistics', { token: admin.token })).body.online, 1);
  await client.request({ type: 'presence_update', ref: 'i', status: 'invisible' });
  t.equal((await api('GET', '/api/v1/users/statistics', { token: admin.token })).body.online, 1, 'invisible users are connected');
  const page = await api('GET', '/api/v1/users/online?limit=1', { token: admin.token });
  t.same(page.body, { items: [], next_cursor: null }, 'but not listed');
  t.equal((await api('GET', '/api/v1/users/online?cursor=nope', { token: admin.token })).status, 400, 'a bad cursor is 400');
});

t.test('GET /users/online pages by user id', async (t) => {
  const { api, baseUrl } = await build(t);
  const users = await Promise.all([register(api), register(api), register(api)]);
  for (const user of users) await connectReady(t, baseUrl, user.token);
  const ids = users.map((user) => user.user.id).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  const first = await api('GET', '/api/v1/users/online?limit=2', { token: users[0]!.token });
  t.same(first.body.items.map((item: { user: { id: string } }) => item.user.id), ids.slice(0, 2));
  t.type(first.body.next_cursor, 'string');
  const second = await api('GET', `/api/v1/users/online?limit=2&cursor=${first.body.next_cursor}`, { token: users[0]!.token });
  t.same(second.body.items.map((item: { user: { id: string } }) => item.user.id), ids.slice(2));
  t.equal(second.body.next_cursor, null);
  t.equal((await api('GET', '/api/v1/users/online')).status, 401, 'needs authentication');
});
