// presence_updated frames cross instances: a user who connects, changes status or leaves on one
// instance is announced to the sessions sharing a channel with them on another, with the status
// over all instances (two real server processes on one real redis-server).
import t from 'tap';
import { register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { pollUntil, startInstances, type Instance } from '../helpers/instances.ts';
import { startRedis } from '../helpers/redis-server.ts';

t.test('presence_updated reaches a watcher on another instance: online, dnd, offline', async (t) => {
  const redis = await startRedis(t);
  const { instances } = await startInstances(t, 2, { EVENT_BUS: 'redis', REDIS_URL: redis.url, PRESENCE_GRACE_MS: '0' });
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const [owner, watcher, mover] = [await register(a.api), await register(a.api), await register(a.api)];
  const room = await createRoom(a.api, owner);
  await join(a.api, room.id, watcher);
  await join(a.api, room.id, mover);
  const { client: watching } = await connectReady(t, a.baseUrl, watcher.token, { name: 'watcher@0' });
  const isMover = (frame: { type: string; user_id?: string }) => frame.type === 'presence_updated' && frame.user_id === mover.user.id;

  const { client: moving } = await connectReady(t, b.baseUrl, mover.token, { name: 'mover@1' });
  const online = await watching.next(isMover, 15_000);
  t.match(online, { user_id: mover.user.id, status: 'online' }, 'connected on instance 1: online on instance 0');

  t.same(await moving.request({ type: 'presence_update', ref: 'd', status: 'dnd' }), { type: 'ack', ref: 'd' });
  t.match(await watching.next(isMover, 15_000), { status: 'dnd' }, 'a status set on instance 1');

  moving.socket.close();
  await moving.closed;
  const offline = await watching.next(isMover, 15_000);
  t.equal(offline.type === 'presence_updated' ? offline.status : null, 'offline', 'gone from instance 1: offline on instance 0');
  t.ok(offline.type === 'presence_updated' && offline.last_seen_at, 'with last_seen_at');

  // Back on instance 1, then a second connection on instance 0: the user's status over both
  // instances has not moved, so nothing more is announced (a ping round trip after ready proves it).
  const { client: again } = await connectReady(t, b.baseUrl, mover.token, { name: 'mover@1 again' });
  t.match(await watching.next(isMover, 15_000), { status: 'online' });
  await connectReady(t, a.baseUrl, mover.token, { name: 'mover@0' });
  await watching.expectNone(isMover, 'a second connection on another instance changes nothing others see');
  again.socket.close();
});

t.test('an instance killed with kill -9: every other instance announces its users offline, once, unless online elsewhere', async (t) => {
  const redis = await startRedis(t);
  // A short TTL setting instead of waiting: the dead instance's snapshot expires about 1.5 s after its last heartbeat.
  const env = { EVENT_BUS: 'redis', REDIS_URL: redis.url, PRESENCE_GRACE_MS: '0', PRESENCE_HEARTBEAT_MS: '200', PRESENCE_TTL_MS: '1500' };
  const { instances, start } = await startInstances(t, 2, env);
  const [a, doomed] = instances as [(typeof instances)[0], (typeof instances)[0]];
  const [owner, watcherA, watcherC, gone, both, early] = await Promise.all(Array.from({ length: 6 }, () => register(a.api)));
  const room = await createRoom(a.api, owner!);
  for (const user of [watcherA, watcherC, gone, both, early]) await join(a.api, room.id, user!);
  const is = (user: { user: { id: string } }, status: string) => (frame: { type: string; user_id?: string; status?: string }) =>
    frame.type === 'presence_updated' && frame.user_id === user.user.id && frame.status === status;

  // `early` connects to the doomed instance before instance c starts: c never gets its change
  // message, only its heartbeats (c must still announce it offline, finding its channels itself).
  await connectReady(t, doomed.baseUrl, early!.token, { name: 'early@doomed' });
  const c = await start(env);
  const { client: watchingA } = await connectReady(t, a.baseUrl, watcherA!.token, { name: 'watcher@a' });
  const { client: watchingC } = await connectReady(t, c.baseUrl, watcherC!.token, { name: 'watcher@c' });
  // `gone` only on the doomed instance; `both` there and on c.
  await connectReady(t, doomed.baseUrl, gone!.token, { name: 'gone@doomed' });
  await connectReady(t, doomed.baseUrl, both!.token, { name: 'both@doomed' });
  await connectReady(t, c.baseUrl, both!.token, { name: 'both@c' });
  for (const watching of [watchingA, watchingC]) {
    await watching.next(is(gone!, 'online'), 15_000);
    await watching.next(is(both!, 'online'), 15_000);
  }
  const onlineOn = async (instance: Instance) =>
    ((await instance.api('GET', '/api/v1/users/online?limit=100', { token: owner!.token })).body.items as Array<{ user: { id: string } }>).map((item) => item.user.id);
  t.ok(await pollUntil(async () => (await onlineOn(c)).includes(early!.user.id), 15_000), 'c has heard the doomed instance\'s heartbeat');

  doomed.server.child.kill('SIGKILL');
  await doomed.server.exited;

  for (const [name, watching] of [['a', watchingA], ['c', watchingC]] as const) {
    const offline = await watching.next(is(gone!, 'offline'), 15_000);
    t.ok(offline.type === 'presence_updated' && offline.last_seen_at, `${name}: gone offline, with last_seen_at`);
    t.match(await watching.next(is(early!, 'offline'), 15_000), { user_id: early!.user.id, status: 'offline' }, `${name}: early offline too (its channels looked up where not known)`);
    // The expiry was seen (the frames above); `both` is still online on c: nothing for them, and no second offline.
    await watching.expectNone(is(both!, 'offline'), `${name}: a user still online on another instance stays online`);
    await watching.expectNone(is(gone!, 'offline'), `${name}: gone is announced offline once`);
  }
  const online = await onlineOn(a);
  t.ok(online.includes(both!.user.id) && !online.includes(gone!.user.id) && !online.includes(early!.user.id), 'GET /users/online agrees');
});
