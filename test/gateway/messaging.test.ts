// Frames that act: send_message (ack after commit, nonce retries over WS and REST, replies,
// refusals), typing, mark_read; and hybrid REST <-> WS delivery of messages, edits and deletes.
import t from 'tap';
import type { Test } from 'tap';
import { build, register } from '../helpers/build.ts';
import { createRoom, join, send } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

/** An app, Ada's room and Bob as its second member. */
async function adaAndBobInARoom(t: Test) {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  await join(api, room.id, bob);
  return { api, baseUrl, ada, bob, room };
}

t.test('send_message: ack with the stored message after commit; the same object in REST history and in events', async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });

  const ack = await adaWs.request({ type: 'send_message', ref: 'm1', channel_id: room.id, content: '  Hello, world!  ' });
  t.equal(ack.type, 'ack');
  if (ack.type !== 'ack' || !ack.message) throw new Error('no message in ack');
  t.equal(ack.message.content, 'Hello, world!', 'content trimmed as over REST');
  t.equal(ack.message.author.id, ada.user.id);
  t.notOk('email' in ack.message.author, 'the author is the public user');

  // Committed before the ack: REST history has it, identical.
  const history = await api('GET', `/api/v1/channels/${room.id}/messages`, { token: bob.token });
  t.same(history.body.items[0], ack.message, 'REST history holds the acked message, identical');

  const seenByBob = await bobWs.next('message_created');
  t.same(seenByBob.message, ack.message, 'the event carries the same object');
  const seenByAda = await adaWs.next('message_created');
  t.same(seenByAda.message, ack.message, "the sender's own sessions get the event too");
  const ackIndex = adaWs.frames.indexOf(ack);
  t.ok(adaWs.frames.indexOf(seenByAda) < ackIndex, 'the event is published after commit, before the ack is written');

  const reply = await adaWs.request({ type: 'send_message', ref: 'm2', channel_id: room.id, content: 'a reply', reply_to_id: ack.message.id });
  t.equal(reply.type === 'ack' && reply.message?.reply_to_id, ack.message.id, 'reply_to_id is kept');
});

t.test("send_message: the ack is written mid fan-out, after the author's own sessions have the event, once", async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: adaWs2 } = await connectReady(t, baseUrl, ada.token, { name: 'ada-2' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });

  const ack = await adaWs.request({ type: 'send_message', ref: 'once', channel_id: room.id, content: 'first the author', nonce: 'n-once' });
  if (ack.type !== 'ack' || !ack.message) throw new Error('no message in ack');
  const own = adaWs.frames.findIndex((frame) => frame.type === 'message_created');
  t.ok(own >= 0 && own < adaWs.frames.indexOf(ack), "the sending session has its event before the ack");
  t.same((await adaWs2.next('message_created')).message, ack.message, "the author's other session gets it");
  t.same((await bobWs.next('message_created')).message, ack.message, 'the other members get it');

  // A nonce retry creates nothing: acked when the send returns, once too.
  const again = await adaWs.request({ type: 'send_message', ref: 'retry', channel_id: room.id, content: 'first the author', nonce: 'n-once' });
  t.same(again, { ...ack, ref: 'retry' });
  await adaWs.sync();
  const acks = adaWs.frames.filter((frame) => frame.type === 'ack').map((frame) => (frame as { ref?: string }).ref);
  t.same(acks.filter((ref) => ref === 'once' || ref === 'retry'), ['once', 'retry'], 'one ack per send');
  await bobWs.expectNone('message_created', 'the retry broadcast nothing');
});

t.test('nonce retries over the socket and over REST return the same message and broadcast nothing new', async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  const nonce = '3b0c8f4e-5c3a-4b8e-9b1f-2f6a7d1e9c20';

  const first = await adaWs.request({ type: 'send_message', ref: 'a', channel_id: room.id, content: 'once', nonce });
  const again = await adaWs.request({ type: 'send_message', ref: 'b', channel_id: room.id, content: 'once (retry)', nonce });
  t.equal(first.type, 'ack');
  t.same(again, { ...first, ref: 'b' }, 'the retry is acked with the same message');

  const viaRest = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'rest retry', nonce } });
  t.equal(viaRest.status, 200, 'a REST retry of a WS send is a replay (200)');
  t.same(viaRest.body, first.type === 'ack' ? first.message : undefined);

  // REST first, then the socket retries.
  const restNonce = 'rest-first-nonce';
  const created = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'from rest', nonce: restNonce } });
  t.equal(created.status, 201);
  const wsRetry = await adaWs.request({ type: 'send_message', ref: 'c', channel_id: room.id, content: 'from ws', nonce: restNonce });
  t.same(wsRetry.type === 'ack' && wsRetry.message, created.body, 'a WS retry of a REST send returns it');

  // Concurrent sends with one nonce store one message.
  const parallel = await Promise.all(
    ['p1', 'p2', 'p3'].map((ref) => adaWs.request({ type: 'send_message', ref, channel_id: room.id, content: 'parallel', nonce: 'parallel-nonce' })),
  );
  t.same(
    parallel.map((reply) => reply.type),
    ['ack', 'ack', 'ack'],
    'every concurrent send is acked',
  );
  const ids = new Set(parallel.map((reply) => (reply.type === 'ack' ? reply.message?.id : undefined)));
  t.equal(ids.size, 1, 'one message for three concurrent sends');
  t.type([...ids][0], 'string', 'and it has an id');

  await bobWs.request({ type: 'ping', ref: 'sync' });
  await adaWs.request({ type: 'ping', ref: 'sync' });
  const created2 = bobWs.events('message_created').map((frame) => (frame as { message: { id: string } }).message.id);
  t.equal(created2.length, 3, 'exactly three message_created events (once, from rest, parallel)');
  t.equal(new Set(created2).size, 3, 'no event repeated');
});

t.test('refusals are error frames with the REST codes; the session stays open', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const publicRoom = await createRoom(api, ada, { name: 'open' });
  const privateRoom = await createRoom(api, ada, { name: 'secret', visibility: 'private' });
  const other = await createRoom(api, ada, { name: 'other' });
  const elsewhere = await send(api, ada, other.id, 'in another room');
  const { client } = await connectReady(t, baseUrl, bob.token);

  const cases: Array<{ frame: Record<string, unknown> & { ref: string }; code: string }> = [
    { frame: { type: 'send_message', ref: 'r1', channel_id: publicRoom.id, content: 'not a member' }, code: 'forbidden' },
    { frame: { type: 'send_message', ref: 'r2', channel_id: privateRoom.id, content: 'invisible' }, code: 'not_found' },
    { frame: { type: 'send_message', ref: 'r3', channel_id: '999999999999', content: 'nowhere' }, code: 'not_found' },
    { frame: { type: 'join', ref: 'r4', channel_id: privateRoom.id }, code: 'not_found' },
    { frame: { type: 'typing', ref: 'r5', channel_id: publicRoom.id }, code: 'forbidden' },
    { frame: { type: 'mark_read', ref: 'r6', channel_id: publicRoom.id, message_id: elsewhere.id }, code: 'forbidden' },
    { frame: { type: 'leave', ref: 'r7', channel_id: publicRoom.id }, code: 'not_found' },
  ];
  for (const { frame, code } of cases) {
    const reply = await client.request(frame);
    t.match(reply, { type: 'error', ref: frame.ref, code }, `${frame.type} ${frame.ref}: ${code}`);
  }
  await client.request({ type: 'join', ref: 'j', channel_id: publicRoom.id });
  const blank = await client.request({ type: 'send_message', ref: 'r8', channel_id: publicRoom.id, content: '   ' });
  t.match(blank, { type: 'error', code: 'validation_failed', errors: [{ field: '/content' }] }, 'blank content');
  const badReply = await client.request({ type: 'send_message', ref: 'r9', channel_id: publicRoom.id, content: 'x', reply_to_id: elsewhere.id });
  t.match(badReply, { type: 'error', code: 'validation_failed', errors: [{ field: '/reply_to_id' }] }, 'reply to another channel');
  t.match(await client.request({ type: 'ping', ref: 'alive' }), { type: 'pong' }, 'still open');
});

t.test('hybrid: REST sends, edits and deletes reach sockets; socket sends are in REST history', async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });

  const posted = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'over REST' } });
  t.same((await bobWs.next('message_created')).message, posted.body, 'message_created carries the REST response body');

  const edited = await api('PATCH', `/api/v1/channels/${room.id}/messages/${posted.body.id}`, { token: ada.token, body: { content: 'edited' } });
  t.equal(edited.status, 200);
  t.same((await bobWs.next('message_updated')).message, edited.body, 'message_updated carries the edited message');

  const deleted = await api('DELETE', `/api/v1/channels/${room.id}/messages/${posted.body.id}`, { token: ada.token });
  t.equal(deleted.status, 204);
  t.match(await bobWs.next('message_deleted'), { channel_id: room.id, message_id: posted.body.id });

  const ack = await bobWs.request({ type: 'send_message', ref: 'w', channel_id: room.id, content: 'over the socket' });
  const fetched = await api('GET', `/api/v1/channels/${room.id}/messages/${ack.type === 'ack' ? ack.message?.id : ''}`, { token: ada.token });
  t.same(fetched.body, ack.type === 'ack' ? ack.message : undefined, 'GET returns the socket-sent message, identical');
});

t.test('typing: typing_started to the other members, at most once per 5 s; ack either way', async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });

  t.same(await adaWs.request({ type: 'typing', ref: 't1', channel_id: room.id }), { type: 'ack', ref: 't1' });
  const typing = await bobWs.next('typing_started');
  t.match(typing, { channel_id: room.id, user_id: ada.user.id });
  t.same(await adaWs.request({ type: 'typing', ref: 't2', channel_id: room.id }), { type: 'ack', ref: 't2' }, 'excess typing is acked');
  await bobWs.expectNone('typing_started', 'and dropped (once per 5 s)');
  t.equal(adaWs.events('typing_started').length, 0, 'the typer is not told about themself');

  // REST typing reaches sockets too.
  t.equal((await api('POST', `/api/v1/channels/${room.id}/typing`, { token: bob.token })).status, 204);
  t.match(await adaWs.next('typing_started'), { user_id: bob.user.id });
});

t.test('mark_read: acked, read_receipt to the other members', async (t) => {
  const { api, baseUrl, ada, bob, room } = await adaAndBobInARoom(t);
  const message = await send(api, ada, room.id, 'read me');
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });

  t.same(await bobWs.request({ type: 'mark_read', ref: 'r', channel_id: room.id, message_id: message.id }), { type: 'ack', ref: 'r' });
  t.match(await adaWs.next('read_receipt'), { channel_id: room.id, user_id: bob.user.id, message_id: message.id });
  const state = await api('GET', '/api/v1/users/@me/channels', { token: bob.token });
  t.equal(state.body.items.find((item: { id: string }) => item.id === room.id)?.unread_count, 0, 'the marker moved (REST)');
  await bobWs.expectNone('read_receipt', 'the reader is not told about themself');
});
