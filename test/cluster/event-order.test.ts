// Non-message channel events take part in the per-channel order across instances: a removal
// committed on one instance before a message committed on another is delivered before that
// message on every instance, even when the removal's PUBLISH reaches Redis last. The same for a
// guild kick, whose place is in the order of every channel of the guild; and a channel's first
// message seen by an instance does not make it drop the message committed before it. Three real server
// processes on one real redis-server; instance 1 talks to Redis through a proxy that parks its
// PUBLISH (the barrier), so the race happens on purpose.
import t, { type Test } from 'tap';
import type { ServerFrame } from '../../generated/asyncapi-types.ts';
import { register } from '../helpers/build.ts';
import { createRoom, join, openDm } from '../helpers/chat.ts';
import { createGuild, joinGuild } from '../helpers/guilds.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { pollUntil, startInstances } from '../helpers/instances.ts';
import { startPublishHoldingProxy } from '../helpers/publish-holding-proxy.ts';
import { startRedis } from '../helpers/redis-server.ts';

/**
 * Three instances on one real redis-server; instance 1 (b) reaches Redis through a proxy that can
 * park its PUBLISH. A long gap hold: a parked event is waited for, not read around (the fallback
 * for an event that never comes is covered in test/bus/event-bus-contract.test.ts).
 */
async function startRace(t: Test) {
  const redis = await startRedis(t);
  const proxy = await startPublishHoldingProxy(t, redis.url);
  const { instances } = await startInstances(
    t,
    3,
    { EVENT_BUS: 'redis', REDIS_URL: redis.url, BUS_GAP_HOLD_MS: '600000' },
    (index): Record<string, string> => (index === 1 ? { REDIS_URL: proxy.url } : {}),
  );
  const [a, b, c] = instances as [(typeof instances)[0], (typeof instances)[0], (typeof instances)[0]];
  return { proxy, a, b, c };
}

t.test('a room removal committed before a message, published after it: the removed user never gets the message', async (t) => {
  const { proxy, a, b, c } = await startRace(t);
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

t.test('a guild kick committed before messages in two channels, published after them: the kicked user gets neither', async (t) => {
  const { proxy, a, b, c } = await startRace(t);
  const { owner, guild, generalId } = await createGuild(a.api);
  const second = await a.api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: 'second' } });
  t.equal(second.status, 201);
  const [kicked, witness, sender] = [await joinGuild(a.api, guild.id, owner), await joinGuild(a.api, guild.id, owner), await joinGuild(a.api, guild.id, owner)];
  const markers = await createRoom(a.api, sender, { name: 'markers' });
  await join(a.api, markers.id, witness);
  const { client: kickedClient } = await connectReady(t, c.baseUrl, kicked.token, { name: 'kicked@2' });
  const { client: witnessClient } = await connectReady(t, c.baseUrl, witness.token, { name: 'witness@2' });
  const post = (channelId: string, content: string) =>
    a.api('POST', `/api/v1/channels/${channelId}/messages`, { token: sender.token, body: { content } });
  const created = (id: string) => (frame: ServerFrame) => frame.type === 'message_created' && frame.message.id === id;

  // Instance 2 has seen both channels' chains up to now.
  for (const channelId of [generalId, second.body.id]) {
    const warm = await post(channelId, 'warm up');
    await kickedClient.next(created(warm.body.id), 15_000);
  }

  // Instance 1 kicks and commits; its guild.member_left is parked on the way to Redis.
  proxy.hold();
  t.equal((await b.api('DELETE', `/api/v1/guilds/${guild.id}/members/${kicked.user.id}`, { token: owner.token })).status, 204);
  t.ok(await pollUntil(async () => proxy.holding, 10_000), "the kick's PUBLISH is parked");
  // Instance 0 commits a message in each channel after the kick (each waited on its channel row,
  // which the kick held), then a marker elsewhere: once the witness has the marker, instance 2 has
  // received both messages (Redis keeps instance 0's publish order).
  const after = [await post(generalId, 'after the kick, general'), await post(second.body.id, 'after the kick, second')];
  for (const response of after) t.equal(response.status, 201);
  const marker = await post(markers.id, 'marker');
  await witnessClient.next(created(marker.body.id), 15_000);
  const isAfter = (frame: ServerFrame) => frame.type === 'message_created' && after.some((response) => response.body.id === frame.message.id);
  await kickedClient.expectNone(isAfter, 'held on instance 2 while the kick committed before them is on its way');
  await witnessClient.expectNone(isAfter, 'for everyone: order, not just access');

  proxy.release();
  for (const response of after) await witnessClient.next(created(response.body.id), 15_000);
  const order = witnessClient
    .events()
    .filter((frame) => (frame.type === 'member_left' && frame.user_id === kicked.user.id) || isAfter(frame))
    .map((frame) => (frame.type === 'member_left' ? `left ${frame.channel_id}` : `message ${frame.type === 'message_created' ? frame.message.channel_id : ''}`));
  t.same(order.slice(0, 2).sort(), [`left ${generalId}`, `left ${second.body.id}`].sort(), 'the witness sees the kick in both channels first');
  t.same(order.slice(2).sort(), [`message ${generalId}`, `message ${second.body.id}`].sort(), 'then the messages');
  await kickedClient.expectNone(isAfter, 'the kicked user never gets a message committed after the kick');
});

t.test("a channel's first message seen by an instance, published before its predecessor: both delivered, in order", async (t) => {
  const { proxy, a, b, c } = await startRace(t);
  const [sender, reader] = [await register(a.api), await register(a.api)];
  const markers = await createRoom(a.api, sender, { name: 'markers' });
  await join(a.api, markers.id, reader);
  // A DM: its creation is announced without a place in any chain, so instance 2 has seen nothing
  // of its order when the first message comes.
  const dm = await openDm(a.api, sender, reader);
  const { client: readerClient } = await connectReady(t, c.baseUrl, reader.token, { name: 'reader@2' });
  const post = (instance: typeof a, channelId: string, content: string) =>
    instance.api('POST', `/api/v1/channels/${channelId}/messages`, { token: sender.token, body: { content } });
  const created = (id: string) => (frame: ServerFrame) => frame.type === 'message_created' && frame.message.id === id;

  proxy.hold();
  const first = await post(b, dm.id, 'first, parked');
  t.equal(first.status, 201);
  t.ok(await pollUntil(async () => proxy.holding, 10_000), "the first message's PUBLISH is parked");
  const second = await post(a, dm.id, 'second');
  t.equal(second.status, 201);
  const marker = await post(a, markers.id, 'marker');
  await readerClient.next(created(marker.body.id), 15_000);
  await readerClient.expectNone(created(second.body.id), 'the second waits for the first, committed before it and still on its way');

  proxy.release();
  await readerClient.next(created(second.body.id), 15_000);
  const order = readerClient
    .events()
    .filter((frame) => frame.type === 'message_created' && frame.message.channel_id === dm.id)
    .map((frame) => (frame.type === 'message_created' ? frame.message.id : ''));
  t.same(order, [first.body.id, second.body.id], 'both, in history order, the first not dropped as a duplicate');
});
