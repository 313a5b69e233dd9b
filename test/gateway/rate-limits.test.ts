// Gateway frames spend the same budgets as their REST operations: a frame over budget gets an
// `error` frame `rate_limited` with `retry_after_ms` (the socket stays open; 4008 is only the
// per-connection frame flood limit), and REST and the gateway draw on one count.
import t from 'tap';
import { queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

const CHANNELS = '/api/v1/channels';

t.test('send_message and POST …/messages share one budget per user and channel', async (t) => {
  let now = 5_000_000;
  const { api, baseUrl, databaseUrl } = await build(
    t,
    { RATE_LIMITS: { message_send: { limit: 3, windowMs: 5000 } } },
    { clock: () => now },
  );
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  const other = await createRoom(api, ada, { name: 'other' });
  await join(api, room.id, bob);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  const restSend = (token: string, channelId: string, content: string) =>
    api('POST', `${CHANNELS}/${channelId}/messages`, { token, body: { content } });

  t.equal((await restSend(ada.token, room.id, 'rest 1')).status, 201);
  t.equal((await adaWs.request({ type: 'send_message', ref: 'w1', channel_id: room.id, content: 'ws 1' })).type, 'ack');
  const third = await restSend(ada.token, room.id, 'rest 2');
  t.equal(third.status, 201);
  t.equal(third.headers.get('x-ratelimit-remaining'), '0', 'the gateway send was counted by REST');

  now += 1250;
  const refused = await adaWs.request({ type: 'send_message', ref: 'w2', channel_id: room.id, content: 'ws 2', nonce: 'n-2' });
  t.match(refused, { type: 'error', ref: 'w2', code: 'rate_limited', retry_after_ms: 3750 });
  t.match(refused.type === 'error' && refused.message, /^Rate limit message_send \(3 per 5 s\) exceeded; retry in 4 s\.$/);
  const restRefused = await restSend(ada.token, room.id, 'rest 3');
  t.equal(restRefused.status, 429, 'REST is refused too: one budget');
  t.equal(restRefused.headers.get('retry-after'), '4');

  // The socket stays open and usable: a ping round trip, and sends elsewhere / by others work.
  t.equal((await adaWs.request({ type: 'ping', ref: 'p1' })).type, 'pong');
  t.equal(adaWs.closeInfo, undefined, 'not closed');
  t.equal((await adaWs.request({ type: 'send_message', ref: 'w3', channel_id: other.id, content: 'elsewhere' })).type, 'ack', 'another channel has its own budget');
  t.equal((await bobWs.request({ type: 'send_message', ref: 'b1', channel_id: room.id, content: 'bob' })).type, 'ack', 'another user has their own budget');

  const stored = await queryDatabase<{ content: string }>(databaseUrl, 'SELECT content FROM messages WHERE channel_id = $1 ORDER BY id', [room.id]);
  t.same(stored.map((row) => row.content), ['rest 1', 'ws 1', 'rest 2', 'bob'], 'refused sends stored nothing');
  const ping = await bobWs.request({ type: 'ping', ref: 'p2' });
  t.equal(ping.type, 'pong');
  t.same(
    bobWs.events('message_created').map((frame) => (frame.type === 'message_created' ? frame.message.content : '')),
    ['rest 1', 'ws 1', 'rest 2', 'bob'],
    'and broadcast nothing',
  );

  now += 3750; // the window resets
  const after = await adaWs.request({ type: 'send_message', ref: 'w4', channel_id: room.id, content: 'ws 2', nonce: 'n-2' });
  t.equal(after.type, 'ack', 'a new window: the refused send can be retried');
});

t.test('typing frames and POST …/typing share one budget; refusals are error frames', async (t) => {
  let now = 7_000_000;
  const { api, baseUrl } = await build(t, { RATE_LIMITS: { typing: { limit: 2, windowMs: 10_000 } } }, { clock: () => now });
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  await join(api, room.id, bob);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  t.equal((await api('POST', `${CHANNELS}/${room.id}/typing`, { token: ada.token })).status, 204);
  t.equal((await adaWs.request({ type: 'typing', ref: 't1', channel_id: room.id })).type, 'ack');
  t.match(await adaWs.request({ type: 'typing', ref: 't2', channel_id: room.id }), { type: 'error', code: 'rate_limited', retry_after_ms: 10_000 });
  const rest = await api('POST', `${CHANNELS}/${room.id}/typing`, { token: ada.token });
  t.equal(rest.status, 429);
  t.equal(rest.headers.get('retry-after'), '10');
  t.equal((await api('POST', `${CHANNELS}/${room.id}/typing`, { token: bob.token })).status, 204, 'another user is not limited');
  now += 10_000;
  t.equal((await adaWs.request({ type: 'typing', ref: 't3', channel_id: room.id })).type, 'ack', 'a new window');
});

t.test('join/leave, mark_read and presence_update frames spend their budgets', async (t) => {
  let now = 9_000_000;
  const { api, baseUrl } = await build(
    t,
    {
      RATE_LIMITS: {
        membership: { limit: 2, windowMs: 60_000 },
        read_state: { limit: 1, windowMs: 10_000 },
        presence: { limit: 1, windowMs: 60_000 },
      },
    },
    { clock: () => now },
  );
  const owner = await register(api);
  const ada = await register(api);
  const room = await createRoom(api, owner, { visibility: 'public' });
  const message = (await api('POST', `${CHANNELS}/${room.id}/messages`, { token: owner.token, body: { content: 'hi' } })).body;
  const { client } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  t.equal((await client.request({ type: 'join', ref: 'j1', channel_id: room.id })).type, 'ack');
  t.equal((await api('DELETE', `${CHANNELS}/${room.id}/members/${ada.user.id}`, { token: ada.token })).status, 204, 'REST leave: the 2nd');
  t.match(await client.request({ type: 'join', ref: 'j2', channel_id: room.id }), { type: 'error', code: 'rate_limited' });
  const members = await api('GET', `${CHANNELS}/${room.id}/members`, { token: owner.token });
  t.notOk(members.body.items.some((member: { user: { id: string } }) => member.user.id === ada.user.id), 'the refused join did nothing');

  t.equal((await api('PUT', `${CHANNELS}/${room.id}/members/${ada.user.id}`, { token: owner.token })).status, 200, "the owner's budget is the owner's");
  t.equal((await client.request({ type: 'mark_read', ref: 'r1', channel_id: room.id, message_id: message.id })).type, 'ack');
  t.match(await client.request({ type: 'mark_read', ref: 'r2', channel_id: room.id, message_id: message.id }), {
    type: 'error',
    code: 'rate_limited',
    retry_after_ms: 10_000,
  });

  t.equal((await client.request({ type: 'presence_update', ref: 's1', status: 'dnd' })).type, 'ack');
  t.match(await client.request({ type: 'presence_update', ref: 's2', status: 'idle' }), { type: 'error', code: 'rate_limited', retry_after_ms: 60_000 });
  t.equal((await client.request({ type: 'ping', ref: 'p' })).type, 'pong', 'the session stays open');

  now += 60_000;
  t.equal((await client.request({ type: 'presence_update', ref: 's3', status: 'idle' })).type, 'ack', 'a new window');
});
