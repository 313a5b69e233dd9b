import t from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import { adminOverrides, loginAdmin, queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, join, openDm, send } from '../helpers/chat.ts';

const messagesOf = (channelId: string) => `/api/v1/channels/${channelId}/messages`;

t.test('send a message: 201 after commit, trimmed, announced with the same object', async (t) => {
  const { app, api } = await build(t);
  const [ada, grace] = [await register(api), await register(api)];
  const room = await createRoom(api, ada);
  const recorder = recordEvents(app.events);
  await join(api, room.id, grace);
  const joined = recorder.events.shift();
  const joinSlot = joined && 'seq' in joined ? joined.seq?.id : undefined;

  const sent = await api('POST', messagesOf(room.id), { token: grace.token, body: { content: '  Hello, world!\n ' } });
  t.equal(sent.status, 201);
  t.match(sent.body, {
    channel_id: room.id,
    author: { id: grace.user.id, username: grace.user.username },
    content: 'Hello, world!',
    nonce: null,
    reply_to_id: null,
    edited_at: null,
  });
  t.notOk('email' in sent.body.author, 'the author is a public user object');
  // prev_id: the channel's previous commit (here grace's join; no message before), for the shared bus's ordering.
  t.ok(joinSlot, 'the join took a place in the chain');
  t.same(recorder.events, [{ type: 'message.created', channel_id: room.id, message: sent.body, prev_id: joinSlot }]);

  const fetched = await api('GET', `${messagesOf(room.id)}/${sent.body.id}`, { token: ada.token });
  t.equal(fetched.status, 200);
  t.same(fetched.body, sent.body, 'the stored message is what was returned and announced');

  const channel = await api('GET', `/api/v1/channels/${room.id}`, { token: ada.token });
  t.equal(channel.body.last_message_id, sent.body.id);

  const reply = await api('POST', messagesOf(room.id), {
    token: ada.token,
    body: { content: 'Hi!', reply_to_id: sent.body.id, nonce: 'n-1' },
  });
  t.equal(reply.status, 201);
  t.equal(reply.body.reply_to_id, sent.body.id);
  t.equal(reply.body.nonce, 'n-1');
  t.ok(BigInt(reply.body.id) > BigInt(sent.body.id), 'ids grow');

  const dm = await openDm(api, ada, grace);
  t.equal((await api('POST', messagesOf(dm.id), { token: grace.token, body: { content: 'psst' } })).status, 201, 'DMs too');
});

t.test('send: content, nonce and reply_to_id rules', async (t) => {
  const { app, api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const other = await createRoom(api, ada, { name: 'other' });
  const elsewhere = await send(api, ada, other.id, 'in another room');
  const gone = await send(api, ada, room.id, 'deleted soon');
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${gone.id}`, { token: ada.token })).status, 204);
  const recorder = recordEvents(app.events);

  const cases: Array<[string, unknown, string]> = [
    ['blank content', { content: ' \n\t ' }, '/content'],
    ['empty content', { content: '' }, '/content'],
    ['4001 characters', { content: 'x'.repeat(4001) }, '/content'],
    ['missing content', {}, '/content'],
    ['content not a string', { content: { text: 'x' } }, '/content'],
    ['65-character nonce', { content: 'x', nonce: 'n'.repeat(65) }, '/nonce'],
    ['empty nonce', { content: 'x', nonce: '' }, '/nonce'],
    ['reply to a message of another channel', { content: 'x', reply_to_id: elsewhere.id }, '/reply_to_id'],
    ['reply to a deleted message', { content: 'x', reply_to_id: gone.id }, '/reply_to_id'],
    ['reply to nothing', { content: 'x', reply_to_id: '12345' }, '/reply_to_id'],
    ['author cannot be set', { content: 'x', author_id: ada.user.id }, '/author_id'],
    ['id cannot be set', { content: 'x', id: '1' }, '/id'],
  ];
  for (const [what, body, field] of cases) {
    const response = await api('POST', messagesOf(room.id), { token: ada.token, body });
    t.equal(response.status, 400, what);
    t.equal(response.body.code, 'validation_failed', what);
    t.ok(
      response.body.errors?.some((error: { field: string }) => error.field === field),
      `${what}: errors name ${field} (${JSON.stringify(response.body.errors)})`,
    );
  }
  t.same(recorder.events, [], 'nothing was announced');
  const history = await api('GET', messagesOf(room.id), { token: ada.token });
  t.same(history.body.items, [], 'nothing was stored');

  const longest = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: '😀'.repeat(4000) } });
  t.equal(longest.status, 201, '4000 characters (code points, not UTF-16 units) are allowed');
  const padded = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: ` ${'y'.repeat(3998)} ` } });
  t.equal(padded.status, 201);
  t.equal(padded.body.content, 'y'.repeat(3998), 'trimmed before storing');
  const nonce64 = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'x', nonce: 'n'.repeat(64) } });
  t.equal(nonce64.status, 201, 'a 64-character nonce is fine');
  t.equal((await api('POST', messagesOf(room.id), { token: ada.token, rawBody: 'content=x', headers: { 'content-type': 'text/plain' } })).status, 415);
});

t.test('idempotent send: a nonce retry returns the same message (200) and announces nothing', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const [ada, grace] = [await register(api), await register(api)];
  const room = await createRoom(api, ada);
  await join(api, room.id, grace);
  const other = await createRoom(api, ada, { name: 'other' });
  const recorder = recordEvents(app.events);

  const first = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'once', nonce: 'abc' } });
  t.equal(first.status, 201);
  const retry = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'once', nonce: 'abc' } });
  t.equal(retry.status, 200);
  t.same(retry.body, first.body, 'the original message');
  const changed = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'different', nonce: 'abc' } });
  t.equal(changed.status, 200, 'even with other content');
  t.equal(changed.body.content, 'once', 'unchanged');
  t.equal(recorder.events.length, 1, 'one message.created in all');

  const graceSame = await api('POST', messagesOf(room.id), { token: grace.token, body: { content: 'mine', nonce: 'abc' } });
  t.equal(graceSame.status, 201, 'another author with the same nonce sends a new message');
  const otherRoom = await api('POST', messagesOf(other.id), { token: ada.token, body: { content: 'there', nonce: 'abc' } });
  t.equal(otherRoom.status, 201, 'the same nonce in another channel is a new message');

  // A moderator deleting the original does not make a retry post it again.
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${first.body.id}`, { token: ada.token })).status, 204);
  const afterDelete = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'once', nonce: 'abc' } });
  t.equal(afterDelete.status, 200);
  t.equal(afterDelete.body.id, first.body.id);

  // After 24 hours the nonce may be used again.
  await queryDatabase(databaseUrl, `UPDATE message_nonces SET created_at = now() - interval '24 hours 1 second'`);
  const later = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'once more', nonce: 'abc' } });
  t.equal(later.status, 201, 'a nonce older than 24 hours creates a new message');
  t.not(later.body.id, first.body.id);
  const laterRetry = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: 'again', nonce: 'abc' } });
  t.equal(laterRetry.status, 200);
  t.equal(laterRetry.body.id, later.body.id, 'and the window restarts from that message');

  const stored = await queryDatabase<{ count: number }>(
    databaseUrl,
    `SELECT count(*)::int AS count FROM messages WHERE channel_id = $1 AND author_id = $2`,
    [room.id, ada.user.id],
  );
  t.equal(stored[0]!.count, 2, 'the original and the post-window message, nothing else');
});

t.test('two (and twenty) concurrent sends with one nonce store one message and announce it once', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  for (const parallel of [2, 20]) {
    const nonce = `race-${parallel}`;
    const recorder = recordEvents(app.events);
    const responses = await Promise.all(
      Array.from({ length: parallel }, (_, index) =>
        api('POST', messagesOf(room.id), { token: ada.token, body: { content: `attempt ${index}`, nonce } }),
      ),
    );
    recorder.stop();
    const statuses = responses.map((response) => response.status).sort();
    t.same(statuses, [201, ...Array(parallel - 1).fill(200)].sort(), `${parallel}: one 201, the rest 200`);
    t.equal(new Set(responses.map((response) => response.body.id)).size, 1, `${parallel}: every response is the same message`);
    t.equal(recorder.events.length, 1, `${parallel}: one message.created`);
    const rows = await queryDatabase<{ count: number }>(databaseUrl, 'SELECT count(*)::int AS count FROM messages WHERE nonce = $1', [
      nonce,
    ]);
    t.equal(rows[0]!.count, 1, `${parallel}: one stored message`);
  }
});

t.test('get, edit and delete a message', async (t) => {
  const { app, api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const [owner, ada, grace] = [await register(api), await register(api), await register(api)];
  const room = await createRoom(api, owner);
  await join(api, room.id, ada);
  await join(api, room.id, grace);
  const other = await createRoom(api, owner, { name: 'other' });
  const message = await send(api, ada, room.id, 'first draft');
  const recorder = recordEvents(app.events);

  // get
  t.equal((await api('GET', `${messagesOf(room.id)}/${message.id}`, { token: grace.token })).status, 200);
  t.equal((await api('GET', `${messagesOf(other.id)}/${message.id}`, { token: owner.token })).status, 404, 'wrong channel');
  t.equal((await api('GET', `${messagesOf(room.id)}/1234`, { token: grace.token })).status, 404, 'unknown message');

  // edit: author only
  const edited = await api('PATCH', `${messagesOf(room.id)}/${message.id}`, { token: ada.token, body: { content: ' final ' } });
  t.equal(edited.status, 200);
  t.equal(edited.body.content, 'final');
  t.ok(edited.body.edited_at, 'edited_at is set');
  t.equal(edited.body.created_at, message.created_at);
  // seq: the edit's place in the channel's chain (src/bus/ orders by it): right after the message,
  // the channel's last commit.
  const editSeq = recorder.events[0] && 'seq' in recorder.events[0] ? recorder.events[0].seq : undefined;
  t.same(recorder.events, [{ type: 'message.updated', channel_id: room.id, message: edited.body, seq: { id: editSeq?.id, prev_id: message.id } }]);
  t.ok(editSeq && BigInt(editSeq.id) > BigInt(message.id), 'the edit sorts after the message');
  for (const [what, token] of [
    ['another member', grace.token],
    ['the room owner', owner.token],
    ['an admin', admin.token],
  ] as const) {
    const response = await api('PATCH', `${messagesOf(room.id)}/${message.id}`, { token, body: { content: 'hijack' } });
    t.equal(response.status, 403, `${what} cannot edit`);
  }
  t.equal((await api('PATCH', `${messagesOf(room.id)}/${message.id}`, { token: ada.token, body: { content: '  ' } })).status, 400);
  t.equal(
    (await api('PATCH', `${messagesOf(room.id)}/${message.id}`, { token: ada.token, body: { content: 'x', nonce: 'n' } })).status,
    400,
    'only content may be edited',
  );
  t.equal((await api('PATCH', `${messagesOf(other.id)}/${message.id}`, { token: owner.token, body: { content: 'x' } })).status, 404);
  t.equal(recorder.events.length, 1, 'refused edits announce nothing');

  // delete: author, room owner, admin; not another member
  const byOwner = await send(api, ada, room.id, 'owner deletes this');
  const byAdmin = await send(api, ada, room.id, 'admin deletes this');
  recorder.events.length = 0;
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${message.id}`, { token: grace.token })).status, 403, 'another member');
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${byOwner.id}`, { token: owner.token })).status, 204, 'the room owner');
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${byAdmin.id}`, { token: admin.token })).status, 204, 'an admin (not a member)');
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${message.id}`, { token: ada.token })).status, 204, 'the author');
  // One dense chain: each deletion follows the commit before it (the last send, then each other).
  const slots = recorder.events.map((event) => ('seq' in event ? event.seq : undefined));
  t.same(recorder.events, [
    { type: 'message.deleted', channel_id: room.id, message_id: byOwner.id, seq: { id: slots[0]?.id, prev_id: byAdmin.id } },
    { type: 'message.deleted', channel_id: room.id, message_id: byAdmin.id, seq: { id: slots[1]?.id, prev_id: slots[0]?.id } },
    { type: 'message.deleted', channel_id: room.id, message_id: message.id, seq: { id: slots[2]?.id, prev_id: slots[1]?.id } },
  ]);
  t.ok(slots.every((slot) => slot && BigInt(slot.id) > BigInt(slot.prev_id ?? 0)), 'ids rise along the chain');
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${message.id}`, { token: ada.token })).status, 404, 'deleting twice');
  t.equal((await api('GET', `${messagesOf(room.id)}/${message.id}`, { token: ada.token })).status, 404, 'a deleted message is gone');
  t.equal((await api('PATCH', `${messagesOf(room.id)}/${message.id}`, { token: ada.token, body: { content: 'x' } })).status, 404);
});

t.test('a deleted message vanishes from history, last_message and the conversation list', async (t) => {
  const { api } = await build(t);
  const [ada, grace] = [await register(api), await register(api)];
  const room = await createRoom(api, ada);
  await join(api, room.id, grace);
  const older = await send(api, ada, room.id, 'older');
  const newest = await send(api, ada, room.id, 'newest');

  t.equal((await api('DELETE', `${messagesOf(room.id)}/${newest.id}`, { token: ada.token })).status, 204);
  const history = await api('GET', messagesOf(room.id), { token: grace.token });
  t.same(history.body.items.map((item: { id: string }) => item.id), [older.id]);
  const channel = await api('GET', `/api/v1/channels/${room.id}`, { token: grace.token });
  t.equal(channel.body.last_message_id, older.id, 'last_message_id falls back to the newest remaining message');
  const mine = await api('GET', '/api/v1/users/@me/channels', { token: grace.token });
  const item = mine.body.items.find((entry: { id: string }) => entry.id === room.id);
  t.equal(item.last_message.id, older.id);
  t.equal(item.unread_count, 1, 'deleted messages are not unread');

  t.equal((await api('DELETE', `${messagesOf(room.id)}/${older.id}`, { token: ada.token })).status, 204);
  const empty = await api('GET', `/api/v1/channels/${room.id}`, { token: grace.token });
  t.equal(empty.body.last_message_id, null, 'no messages left: null');
  const after = await send(api, ada, room.id, 'fresh start');
  t.ok(BigInt(after.id) > BigInt(newest.id), 'ids are never reused after deletions');
});
