// Non-message channel events take part in the per-channel order across instances: a removal
// committed on one instance before a message committed on another is delivered before that
// message on every instance, even when the removal's PUBLISH reaches Redis last. Three real server
// processes on one real redis-server; instance 1 talks to Redis through a proxy that parks its
// PUBLISH (the barrier), so the race happens on purpose.
import t from 'tap';
import type { ServerFrame } from '../../generated/asyncapi-types.ts';
import { register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { pollUntil, startInstances } from '../helpers/instances.ts';
import { startPublishHoldingProxy } from '../helpers/publish-holding-proxy.ts';
import { startRedis } from '../helpers/redis-server.ts';

t.test('a room removal committed before a message, published after it: the removed user never gets the message', async (t) => {
  const redis = await startRedis(t);
  const proxy = await startPublishHoldingProxy(t, redis.url);
  // A long gap hold: the parked removal is waited for, not read around (the fallback for an event
  // that never comes is covered in test/bus/event-bus-contract.test.ts).
  const { instances } = await startInstances(
    t,
    3,
    { EVENT_BUS: 'redis', REDIS_URL: redis.url, BUS_GAP_HOLD_MS: '600000' },
    (index): Record<string, string> => (index === 1 ? { REDIS_URL: proxy.url } : {}),
  );
  const [a, b, c] = instances as [(typeof instances)[0], (typeof instances)[0], (typeof instances)[0]];
  const [owner, removed, witness, sender] = [await register(a.api), await register(a.api), await register(a.api), await register(a.api)];
  const room = await createRoom(a.api, owner);
  const other = await createRoom(a.api, owner, { name: 'other' });
  for (const user of [removed, witness, sender]) await join(a.api, room.id, user);
  await join(a.api, other.id, witness);
  await join(a.api, other.id, sender);
  const { client: removedClient } = await connectReady(t, c.baseUrl, removed.token, { name: 'removed@2' });
  const { client: witnessClient } = await connectReady(t, c.baseUrl, witness.token, { name: 'witness@2' });
  const post = (instance: typeof a, channelId: string, content: string) =>
    instance.api('POST', `/api/v1/channels/${channelId}/messages`, { token: sender.token, body: { content } });

  // Instance 2 has seen the room's chain up to now.
  const warm = await post(a, room.id, 'warm up');
  await removedClient.next((frame) => frame.type === 'message_created' && frame.message.id === warm.body.id, 15_000);

  // Instance 1 removes the user and commits; its event is parked on the way to Redis.
  proxy.hold();
  t.equal((await b.api('DELETE', `/api/v1/channels/${room.id}/members/${removed.user.id}`, { token: owner.token })).status, 204);
  t.ok(await pollUntil(async () => proxy.holding, 10_000), 'the removal\'s PUBLISH is parked');
  // Instance 0 commits a message after it (the channel row lock orders them) and publishes it,
  // then a marker in another room: Redis delivers instance 0's publishes in order, so once the
  // witness has the marker, instance 2 has received the message too.
  const after = await post(a, room.id, 'after the removal');
  t.equal(after.status, 201);
  const marker = await post(a, other.id, 'marker');
  await witnessClient.next((frame) => frame.type === 'message_created' && frame.message.id === marker.body.id, 15_000);
  const isAfter = (frame: ServerFrame) => frame.type === 'message_created' && frame.message.id === after.body.id;
  await removedClient.expectNone(isAfter, 'held on instance 2 while the removal committed before it is on its way');
  await witnessClient.expectNone(isAfter, 'for everyone: order, not just access');

  proxy.release();
  const left = await witnessClient.next('member_left', 15_000);
  t.equal(left.user_id, removed.user.id, 'the witness sees the removal first');
  await witnessClient.next(isAfter, 15_000);
  const witnessOrder = witnessClient.events().filter((frame) => frame.type === 'member_left' || isAfter(frame)).map((frame) => frame.type);
  t.same(witnessOrder, ['member_left', 'message_created'], 'removal, then the message, as committed');
  await removedClient.expectNone(isAfter, 'the removed user never gets the message committed after the removal');
});
