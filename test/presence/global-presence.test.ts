// GlobalPresence on a real redis-server, with the clock injected: another instance's users are
// announced (presence_updated) when its snapshot expires, once, unless online elsewhere; a first
// heartbeat announces nothing; an instance that comes back after expiry has its users announced
// again. The other instances are played by a raw RedisTransport sending the bus's envelopes, so
// the test decides every heartbeat; barriers are messages on the same ordered connection.
import t from 'tap';
import { RedisTransport } from '../../src/bus/redis-transport.ts';
import { SharedEventBus } from '../../src/bus/shared-event-bus.ts';
import type { PresenceSnapshot, VisibleStatus } from '../../src/domain/presence-snapshots.ts';
import type { PresenceChange } from '../../src/gateway/presence.ts';
import { GlobalPresence } from '../../src/presence/global-presence.ts';
import { eventually } from '../helpers/server-process.ts';
import { startRedis } from '../helpers/redis-server.ts';

t.test('a silent instance: its users offline once (not those online elsewhere), and back again if it returns', async (t) => {
  const redis = await startRedis(t);
  const bus = new SharedEventBus({ transport: new RedisTransport(redis.url), fillGap: async () => [], readFloor: async () => '0', holdMs: 50, onError: () => {} });
  await bus.start();
  t.teardown(() => bus.close());
  let ownHeartbeats = 0;
  const raw = new RedisTransport(redis.url);
  await raw.start((payload) => {
    if ((JSON.parse(payload) as { o: string }).o === bus.instanceId) ownHeartbeats += 1;
  }, () => {});
  t.teardown(() => raw.close());

  let now = 0;
  const announced: Array<{ userId: string; status: VisibleStatus; lastSeenAt: number | null; channelIds: string[] | null }> = [];
  const gateway = {
    presenceScope: undefined,
    announceRemotePresence: (change: PresenceChange, channelIds: string[] | null) => announced.push({ ...change, channelIds }),
    presence: { trackedUsers: () => [], visibleOnlineUserIds: () => [], visibleStatus: (): VisibleStatus => 'offline' },
  };
  const presence = new GlobalPresence({ gateway, bus, config: { PRESENCE_HEARTBEAT_MS: 20, PRESENCE_TTL_MS: 1000 }, now: () => now });
  presence.start();
  t.teardown(() => presence.stop());

  const heartbeat = (instance: string, visible: PresenceSnapshot['visible']) =>
    raw.send(JSON.stringify({ o: instance, p: { connected: Object.keys(visible), visible } }));
  const change = (instance: string, userId: string, status: VisibleStatus, channelIds: string[]) =>
    raw.send(JSON.stringify({ o: instance, c: { user_id: userId, status, last_seen_at: now, channel_ids: channelIds } }));
  const announcedFor = (userId: string) => announced.filter((entry) => entry.userId === userId).map((entry) => entry.status);
  /** Everything sent before has been handled: a change for a fresh user, on the same connection, was announced. */
  let barriers = 0;
  const barrier = async () => {
    const user = `barrier-${(barriers += 1)}`;
    await change('z', user, 'online', []);
    t.ok(await eventually(() => announcedFor(user).length > 0, 10_000), `${user} handled`);
  };

  // x knows u1 and u2 (from before this instance listened); y shows u2 too; u3 connects to x later.
  await heartbeat('x', { u1: 'online', u2: 'online' });
  // x's snapshot is stored at time 0 before the clock moves (a PUBLISH resolves before delivery).
  t.ok(await eventually(() => presence.visibleOnlineUserIds().includes('u1'), 10_000), "x's first heartbeat handled");
  now = 900;
  await heartbeat('y', { u2: 'online' });
  await change('x', 'u3', 'online', ['c1']);
  await barrier();
  t.same(announced.filter((entry) => !entry.userId.startsWith('barrier')).map((entry) => [entry.userId, entry.status]), [['u3', 'online']], 'first heartbeats announce nothing');

  // x falls silent; past the TTL the next sweep expires its snapshot.
  now = 1500;
  t.ok(await eventually(() => announcedFor('u1').length > 0, 10_000), 'u1 announced');
  t.same(announcedFor('u1'), ['offline'], 'u1 (only on x, never announced here): offline');
  t.same(announcedFor('u3'), ['online', 'offline'], 'u3: offline');
  t.same(announcedFor('u2'), [], 'u2 is still online on y: nothing');
  const u1 = announced.find((entry) => entry.userId === 'u1')!;
  const u3 = announced.filter((entry) => entry.userId === 'u3')[1]!;
  t.equal(u1.lastSeenAt, 0, "last seen at x's last heartbeat");
  t.same([u1.channelIds, u3.channelIds], [null, ['c1']], "u3's channels from its change message; u1's for the gateway to look up");
  t.same(presence.visibleOnlineUserIds().sort(), ['u2', ...Array.from({ length: barriers }, (_, index) => `barrier-${index + 1}`)].sort(), 'GET /users/online agrees');

  // Two more sweeps (this instance's own heartbeats come round): nothing is announced twice.
  const seen = ownHeartbeats;
  t.ok(await eventually(() => ownHeartbeats >= seen + 2, 10_000), 'two more sweeps ran');
  t.same([announcedFor('u1'), announcedFor('u3')], [['offline'], ['online', 'offline']], 'once');

  // x was only cut off: its next heartbeat is news again. y's next one (u2 gone) moves u2 offline.
  await heartbeat('x', { u1: 'idle' });
  await heartbeat('y', {});
  await barrier();
  t.same(announcedFor('u1'), ['offline', 'idle'], 'u1 back (idle)');
  t.same(announcedFor('u2'), ['offline'], 'u2 left y: offline');
});
