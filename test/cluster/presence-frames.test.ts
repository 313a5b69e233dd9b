// presence_updated frames cross instances: a user who connects, changes status or leaves on one
// instance is announced to the sessions sharing a channel with them on another, with the status
// over all instances (two real server processes on one real redis-server).
import t from 'tap';
import { register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { startInstances } from '../helpers/instances.ts';
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
