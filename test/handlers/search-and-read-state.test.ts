import t from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, generalId, join, leave, openDm, send } from '../helpers/chat.ts';

const SEARCH = '/api/v1/messages/search';
const ids = (items: { id: string }[]) => items.map((item) => item.id);

t.test('search: full text, ranked, scoped to the channels the caller can read right now', async (t) => {
  const { api } = await build(t);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const open = await createRoom(api, ada, { name: 'open' });
  await join(api, open.id, grace);
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  await join(api, closed.id, grace, ada);
  const dm = await openDm(api, ada, grace);

  const inOpen = await send(api, ada, open.id, 'The analytical engine weaves algebraic patterns');
  const best = await send(api, grace, open.id, 'engine engine engine: the engine is ready');
  const inClosed = await send(api, ada, closed.id, 'A secret engine plan');
  const inDm = await send(api, grace, dm.id, 'meet me at the engine room');
  await send(api, ada, open.id, 'nothing to see here');

  const all = await api('GET', `${SEARCH}?q=engine`, { token: grace.token });
  t.equal(all.status, 200);
  t.same(new Set(ids(all.body.items)), new Set([inOpen.id, best.id, inClosed.id, inDm.id]), 'every readable match');
  t.equal(all.body.items[0].id, best.id, 'the best match first');
  t.equal(all.body.has_more, false);

  const eveSees = await api('GET', `${SEARCH}?q=engine`, { token: eve.token });
  t.same(eveSees.body.items, [], 'an outsider finds nothing: not in the public room, the private room or the DM');

  const phrase = await api('GET', `${SEARCH}?q=${encodeURIComponent('"analytical engine" -secret')}`, { token: grace.token });
  t.same(ids(phrase.body.items), [inOpen.id], 'websearch syntax: phrases and exclusions');
  const caseless = await api('GET', `${SEARCH}?q=ENGINE%20Plan`, { token: ada.token });
  t.same(ids(caseless.body.items), [inClosed.id], 'case-insensitive, every word must match');

  const byAuthor = await api('GET', `${SEARCH}?q=engine&author_id=${ada.user.id}`, { token: grace.token });
  t.same(new Set(ids(byAuthor.body.items)), new Set([inOpen.id, inClosed.id]), 'author_id filter');
  t.same((await api('GET', `${SEARCH}?q=engine&author_id=1`, { token: grace.token })).body.items, [], 'unknown author: nothing');
  const inChannel = await api('GET', `${SEARCH}?q=engine&channel_id=${closed.id}`, { token: grace.token });
  t.same(ids(inChannel.body.items), [inClosed.id], 'channel_id filter');
  const before = await api('GET', `${SEARCH}?q=engine&before=${inClosed.id}`, { token: grace.token });
  t.same(new Set(ids(before.body.items)), new Set([inOpen.id, best.id]), 'before: only older messages');

  const limited = await api('GET', `${SEARCH}?q=engine&limit=2`, { token: grace.token });
  t.equal(limited.body.items.length, 2);
  t.equal(limited.body.has_more, true, 'has_more when more matches exist');

  // channel_id the caller cannot see is 404, a visible public room they are not in is 403.
  t.equal((await api('GET', `${SEARCH}?q=engine&channel_id=${closed.id}`, { token: eve.token })).status, 404);
  t.equal((await api('GET', `${SEARCH}?q=engine&channel_id=${dm.id}`, { token: eve.token })).status, 404);
  t.equal((await api('GET', `${SEARCH}?q=engine&channel_id=${open.id}`, { token: eve.token })).status, 403);
  t.equal((await api('GET', `${SEARCH}?q=engine&channel_id=987654321`, { token: eve.token })).status, 404);

  // Access is checked now: a user who left a room, or was removed, no longer finds its messages.
  await leave(api, open.id, grace);
  await leave(api, closed.id, grace, ada);
  const afterLeaving = await api('GET', `${SEARCH}?q=engine`, { token: grace.token });
  t.same(ids(afterLeaving.body.items), [inDm.id], 'only the DM is left');
  t.equal((await api('GET', `${SEARCH}?q=engine&channel_id=${closed.id}`, { token: grace.token })).status, 404, 'removed member');

  // Deleted messages are never found.
  t.equal((await api('DELETE', `/api/v1/channels/${open.id}/messages/${best.id}`, { token: grace.token })).status, 403);
  t.equal((await api('DELETE', `/api/v1/channels/${open.id}/messages/${best.id}`, { token: ada.token })).status, 204);
  const afterDelete = await api('GET', `${SEARCH}?q=engine`, { token: ada.token });
  t.notOk(ids(afterDelete.body.items).includes(best.id), 'a deleted message is not found');
  t.equal(afterDelete.body.items.length, 3);

  for (const query of ['', 'q=', `q=${'x'.repeat(201)}`, 'q=a&limit=0', 'q=a&limit=101', 'q=a&channel_id=abc', 'q=a&before=x']) {
    const response = await api('GET', `${SEARCH}?${query}`, { token: ada.token });
    t.equal(response.status, 400, `"${query}" is 400`);
  }
  const punctuation = await api('GET', `${SEARCH}?q=${encodeURIComponent('!!! &&')}`, { token: ada.token });
  t.same(punctuation.body, { items: [], has_more: false }, 'a query without words matches nothing');
});

t.test('read state: the marker moves forwards only, unread counts follow it', async (t) => {
  const { app, api } = await build(t);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const room = await createRoom(api, ada);
  await join(api, room.id, grace);
  const other = await createRoom(api, ada, { name: 'other' });
  const elsewhere = await send(api, ada, other.id, 'elsewhere');
  const sent = [];
  for (let index = 0; index < 5; index += 1) sent.push(await send(api, ada, room.id, `news ${index}`));
  await send(api, grace, room.id, 'my own message');
  const readUrl = `/api/v1/channels/${room.id}/read`;
  const unreadOf = async () =>
    (await api('GET', '/api/v1/users/@me/channels', { token: grace.token })).body.items.find(
      (item: { id: string }) => item.id === room.id,
    ).unread_count;

  t.equal(await unreadOf(), 5, 'every message by others is unread at first, own messages never');
  const recorder = recordEvents(app.events);

  const marked = await api('POST', readUrl, { token: grace.token, body: { message_id: sent[2]!.id } });
  t.equal(marked.status, 200);
  t.same(marked.body, { channel_id: room.id, last_read_message_id: sent[2]!.id, unread_count: 2 });
  t.same(recorder.events, [{ type: 'read.updated', channel_id: room.id, user_id: grace.user.id, message_id: sent[2]!.id }]);
  t.equal(await unreadOf(), 2);

  const backwards = await api('POST', readUrl, { token: grace.token, body: { message_id: sent[0]!.id } });
  t.equal(backwards.status, 200, 'an older id succeeds');
  t.same(backwards.body, { channel_id: room.id, last_read_message_id: sent[2]!.id, unread_count: 2 }, 'and changes nothing');
  const same = await api('POST', readUrl, { token: grace.token, body: { message_id: sent[2]!.id } });
  t.equal(same.body.last_read_message_id, sent[2]!.id);
  t.equal(recorder.events.length, 1, 'a marker that did not move announces nothing');

  const members = await api('GET', `/api/v1/channels/${room.id}/members`, { token: ada.token });
  const graceMember = members.body.items.find((member: { user: { id: string } }) => member.user.id === grace.user.id);
  t.equal(graceMember.last_read_message_id, sent[2]!.id, 'read receipts show in the member list');

  t.equal((await api('DELETE', `/api/v1/channels/${room.id}/messages/${sent[4]!.id}`, { token: ada.token })).status, 204);
  t.equal(await unreadOf(), 1, 'a deleted message is no longer unread');

  const toEnd = await api('POST', readUrl, { token: grace.token, body: { message_id: sent[3]!.id } });
  t.same(toEnd.body, { channel_id: room.id, last_read_message_id: sent[3]!.id, unread_count: 0 });

  const cases: Array<[string, string, string, unknown, number]> = [
    ['a message of another channel', grace.token, readUrl, { message_id: elsewhere.id }, 404],
    ['an unknown message', grace.token, readUrl, { message_id: '123' }, 404],
    ['a deleted message', grace.token, readUrl, { message_id: sent[4]!.id }, 404],
    ['a non-member of a public room', eve.token, readUrl, { message_id: sent[3]!.id }, 403],
    ['a bad id', grace.token, readUrl, { message_id: 'abc' }, 400],
    ['an extra field', grace.token, readUrl, { message_id: sent[3]!.id, user_id: eve.user.id }, 400],
    ['no body', grace.token, readUrl, undefined, 400],
  ];
  for (const [what, token, url, body, status] of cases) {
    const response = await api('POST', url, { token, ...(body !== undefined ? { body } : {}) });
    t.equal(response.status, status, what);
  }
  t.equal(await unreadOf(), 0, 'refused calls changed nothing');
});

t.test('stats: sent, received in readable channels, unread per channel', async (t) => {
  const { api } = await build(t);
  const [ada, grace] = [await register(api), await register(api)];
  const general = await generalId(api, ada);
  const room = await createRoom(api, ada);
  await join(api, room.id, grace);
  const dm = await openDm(api, ada, grace);
  const lonely = await createRoom(api, ada, { name: 'lonely' });

  await send(api, ada, room.id, 'a1');
  await send(api, ada, lonely.id, 'a2');
  const g1 = await send(api, grace, room.id, 'g1');
  await send(api, grace, room.id, 'g2');
  await send(api, grace, dm.id, 'g3');
  await send(api, grace, general, 'g4');
  const deleted = await send(api, grace, room.id, 'g5');
  t.equal((await api('DELETE', `/api/v1/channels/${room.id}/messages/${deleted.id}`, { token: grace.token })).status, 204);

  const stats = await api('GET', '/api/v1/users/@me/stats', { token: ada.token });
  t.equal(stats.status, 200);
  t.same(stats.body, {
    messages_sent: 2,
    messages_received: 4,
    unread_total: 4,
    channels: [
      { channel_id: room.id, unread_count: 2 },
      ...[
        { channel_id: general, unread_count: 1 },
        { channel_id: dm.id, unread_count: 1 },
      ].sort((a, b) => (BigInt(a.channel_id) < BigInt(b.channel_id) ? -1 : 1)),
    ],
  }, 'most unread first; deleted messages and own messages never count');

  t.equal((await api('POST', `/api/v1/channels/${room.id}/read`, { token: ada.token, body: { message_id: g1.id } })).status, 200);
  await leave(api, general, ada);
  const after = await api('GET', '/api/v1/users/@me/stats', { token: ada.token });
  t.same(after.body, {
    messages_sent: 2,
    messages_received: 3,
    unread_total: 2,
    channels: [
      { channel_id: room.id, unread_count: 1 },
      { channel_id: dm.id, unread_count: 1 },
    ],
  }, 'reading moves unread; a left channel no longer counts as received or unread');

  const graceStats = await api('GET', '/api/v1/users/@me/stats', { token: grace.token });
  t.match(graceStats.body, { messages_sent: 4, messages_received: 1 }, 'grace: a1 is received; a2 is in a room she is not in');
  t.equal((await api('GET', '/api/v1/users/@me/stats')).status, 401);
});
