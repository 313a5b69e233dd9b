import t from 'tap';
import type { DomainEvent } from '../../src/events/domain-events.ts';
import { recordEvents } from '../../src/events/event-bus.ts';
import { adminOverrides, loginAdmin, queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, generalId, join, leave, openDm, send } from '../helpers/chat.ts';

const CHANNELS = '/api/v1/channels';
/** The chain id an event took in its transaction (undefined: none). */
const seqId = (event: DomainEvent | undefined) => (event && 'seq' in event ? event.seq?.id : undefined);
const seqPrev = (event: DomainEvent | undefined) => (event && 'seq' in event ? event.seq?.prev_id : undefined);

t.test('general exists from the first start and every new account is in it', async (t) => {
  const { api, databaseUrl } = await build(t, adminOverrides);
  const rows = await queryDatabase<{ id: string; owner_id: string | null }>(
    databaseUrl,
    `SELECT id::text, owner_id::text FROM channels WHERE name = 'general' AND is_default`,
  );
  t.equal(rows.length, 1, 'one default general room, made by the migration');

  const ada = await register(api);
  const general = await generalId(api, ada);
  t.equal(general, rows[0]!.id);
  const channel = await api('GET', `${CHANNELS}/${general}`, { token: ada.token });
  t.equal(channel.status, 200);
  t.match(channel.body, { type: 'room', name: 'general', visibility: 'public', owner_id: null, guild_id: null });

  const mine = await api('GET', '/api/v1/users/@me/channels', { token: ada.token });
  t.same(
    mine.body.items.map((item: { id: string }) => item.id),
    [general],
    'a registered account is a member of general (and only general)',
  );

  // Accounts made by an admin and the bootstrap admin join too (the users trigger, not request code).
  const admin = await loginAdmin(api);
  const created = await api('POST', '/api/v1/users', {
    token: admin.token,
    body: { username: 'made_by_admin', email: 'made@example.com', password: 'Sup3r-secret' },
  });
  t.equal(created.status, 201);
  const members = await api('GET', `${CHANNELS}/${general}/members?limit=100`, { token: ada.token });
  const memberIds = members.body.items.map((member: { user: { id: string } }) => member.user.id);
  t.ok(memberIds.includes(ada.user.id), 'registered user is listed');
  t.ok(memberIds.includes(created.body.id), 'admin-created user is listed');
  t.ok(memberIds.includes(admin.user.id), 'bootstrap admin is listed');
  t.equal(
    (await api('GET', `${CHANNELS}/${general}`, { token: ada.token })).body.member_count,
    channel.body.member_count + 1,
    'member_count counts the new account',
  );

  // Members may talk in general right away.
  t.equal((await api('POST', `${CHANNELS}/${general}/messages`, { token: ada.token, body: { content: 'hi all' } })).status, 201);

  // general cannot be deleted, not even by an admin.
  const deleted = await api('DELETE', `${CHANNELS}/${general}`, { token: admin.token });
  t.equal(deleted.status, 403);
  t.equal(deleted.body.code, 'forbidden');
});

t.test('create a room: owner, first member, event; bad input is 400', async (t) => {
  const { app, api } = await build(t);
  const ada = await register(api);
  const recorder = recordEvents(app.events);

  const created = await api('POST', CHANNELS, {
    token: ada.token,
    body: { type: 'room', name: '  book-club  ', description: ' One chapter a week. ', visibility: 'private' },
  });
  t.equal(created.status, 201);
  t.match(created.body, {
    type: 'room',
    name: 'book-club',
    description: 'One chapter a week.',
    visibility: 'private',
    owner_id: ada.user.id,
    guild_id: null,
    member_count: 1,
    last_message_id: null,
  });
  t.notOk('recipients' in created.body, 'rooms carry no recipients');
  t.same(recorder.events, [{ type: 'channel.created', channel: created.body, member_ids: [ada.user.id] }]);

  const members = await api('GET', `${CHANNELS}/${created.body.id}/members`, { token: ada.token });
  t.same(members.body.items.map((member: { user: { id: string } }) => member.user.id), [ada.user.id]);

  const bad: Array<[string, unknown, string]> = [
    ['blank name', { type: 'room', name: '   ', visibility: 'public' }, '/name'],
    ['empty name', { type: 'room', name: '', visibility: 'public' }, '/name'],
    ['name too long', { type: 'room', name: 'x'.repeat(101), visibility: 'public' }, '/name'],
    ['missing visibility', { type: 'room', name: 'x' }, '/visibility'],
    ['unknown visibility', { type: 'room', name: 'x', visibility: 'secret' }, '/visibility'],
    ['owner_id cannot be set', { type: 'room', name: 'x', visibility: 'public', owner_id: ada.user.id }, '/owner_id'],
    ['guild_text is not created here', { type: 'guild_text', name: 'x' }, '/type'],
    ['dm without recipient', { type: 'dm' }, '/recipient_id'],
  ];
  for (const [what, body, field] of bad) {
    const response = await api('POST', CHANNELS, { token: ada.token, body });
    t.equal(response.status, 400, what);
    t.equal(response.body.code, 'validation_failed', what);
    t.ok(
      response.body.errors.some((error: { field: string }) => error.field.includes(field)),
      `${what}: errors name ${field} (${JSON.stringify(response.body.errors)})`,
    );
  }
  t.equal((await api('POST', CHANNELS, { body: { type: 'room', name: 'x', visibility: 'public' } })).status, 401);
  t.equal(recorder.events.length, 1, 'failed creations announce nothing');
});

t.test('list public rooms: only public rooms, q filter, keyset pages', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const grace = await register(api);
  const publicIds: string[] = [(await generalId(api, ada))];
  for (let index = 0; index < 5; index += 1) {
    publicIds.push((await createRoom(api, index % 2 ? ada : grace, { name: `Knitting-${index}` })).id);
  }
  const secret = await createRoom(api, ada, { name: 'knitting-secret', visibility: 'private' });
  await openDm(api, ada, grace);

  const all = await api('GET', `${CHANNELS}?limit=100`, { token: grace.token });
  t.same(all.body.items.map((room: { id: string }) => room.id), publicIds, 'public rooms by id, oldest first');
  t.notOk(all.body.items.some((room: { id: string }) => room.id === secret.id), 'private rooms never appear');
  t.equal(all.body.next_cursor, null);

  const filtered = await api('GET', `${CHANNELS}?q=KNIT`, { token: grace.token });
  t.same(filtered.body.items.map((room: { id: string }) => room.id), publicIds.slice(1), 'q is a case-insensitive substring');
  t.same((await api('GET', `${CHANNELS}?q=%25`, { token: grace.token })).body.items, [], 'LIKE wildcards are literal');

  const walked: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await api(
      'GET',
      `${CHANNELS}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      { token: grace.token },
    );
    walked.push(...page.body.items.map((room) => room.id));
    cursor = page.body.next_cursor;
    pages += 1;
  } while (cursor);
  t.same(walked, publicIds, 'pages of 2 return every public room once');
  t.equal(pages, 3);

  for (const query of ['limit=0', 'limit=101', 'cursor=not-a-cursor', 'q=']) {
    const response = await api('GET', `${CHANNELS}?${query}`, { token: grace.token });
    t.equal(response.status, 400, query);
    t.equal(response.body.code, 'validation_failed', query);
  }
});

t.test('get a channel: public rooms are visible to all, private rooms and DMs only to members', async (t) => {
  const { api } = await build(t);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const open = await createRoom(api, ada, { name: 'open' });
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  const dm = await openDm(api, ada, grace);

  t.equal((await api('GET', `${CHANNELS}/${open.id}`, { token: eve.token })).status, 200, 'outsider sees a public room');
  for (const [what, id] of [
    ['private room', closed.id],
    ['DM', dm.id],
    ['unknown id', '123456789'],
  ] as const) {
    const response = await api('GET', `${CHANNELS}/${id}`, { token: eve.token });
    t.equal(response.status, 404, `${what}: 404 for an outsider`);
    t.equal(response.body.code, 'not_found');
  }
  t.equal((await api('GET', `${CHANNELS}/${closed.id}`, { token: ada.token })).status, 200);
  t.equal((await api('GET', `${CHANNELS}/${dm.id}`, { token: grace.token })).status, 200);
  t.equal((await api('GET', `${CHANNELS}/not-an-id`, { token: ada.token })).status, 400);
  t.equal((await api('GET', `${CHANNELS}/${open.id}`)).status, 401);
});

t.test('update a channel: owner or admin; DMs are 403; unknown fields are 400', async (t) => {
  const { app, api, databaseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const room = await createRoom(api, ada, { name: 'readers', description: 'old' });
  await join(api, room.id, grace);
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  const dm = await openDm(api, ada, grace);
  // Backdated, so an update stamped in the same millisecond as the create cannot pass unchanged.
  const [backdated] = await queryDatabase<{ updated_at: Date }>(
    databaseUrl,
    "UPDATE channels SET updated_at = updated_at - interval '1 hour' WHERE id = $1 RETURNING updated_at",
    [room.id],
  );
  const recorder = recordEvents(app.events);

  const renamed = await api('PATCH', `${CHANNELS}/${room.id}`, { token: ada.token, body: { name: ' writers ', description: null } });
  t.equal(renamed.status, 200);
  t.match(renamed.body, { id: room.id, name: 'writers', description: null, member_count: 2 });
  t.ok(Date.parse(renamed.body.updated_at) > backdated!.updated_at.getTime(), 'the update moved updated_at forward');
  // seq: the change's slot in the channel's chain, right after the room's last commit.
  t.same(recorder.events, [{ type: 'channel.updated', channel: renamed.body, seq: { id: seqId(recorder.events[0]), prev_id: seqPrev(recorder.events[0]) } }]);
  t.match(recorder.events[0], { seq: { id: /^\d+$/ } });

  const byAdmin = await api('PATCH', `${CHANNELS}/${room.id}`, { token: admin.token, body: { description: 'set by an admin' } });
  t.equal(byAdmin.status, 200, 'an admin may manage a room they can see');
  t.equal(byAdmin.body.description, 'set by an admin');
  t.equal((await api('GET', `${CHANNELS}/${room.id}`, { token: eve.token })).body.description, 'set by an admin');

  const cases: Array<[string, string, string, unknown, number]> = [
    ['member who is not the owner', grace.token, room.id, { name: 'mine' }, 403],
    ['outsider of a public room', eve.token, room.id, { name: 'mine' }, 403],
    ['outsider of a private room', eve.token, closed.id, { name: 'mine' }, 404],
    ['admin outside a private room', admin.token, closed.id, { name: 'mine' }, 404],
    ['a DM', ada.token, dm.id, { name: 'ours' }, 403],
    ['visibility cannot be set', ada.token, room.id, { visibility: 'private' }, 400],
    ['owner_id cannot be set', ada.token, room.id, { owner_id: grace.user.id }, 400],
    ['type cannot be set', ada.token, room.id, { type: 'dm' }, 400],
    ['permission_overwrites only on guild channels', ada.token, room.id, { permission_overwrites: [] }, 400],
    ['blank name', ada.token, room.id, { name: '  ' }, 400],
    ['empty body', ada.token, room.id, {}, 400],
    ['unknown channel', ada.token, '42', { name: 'x' }, 404],
  ];
  recorder.events.length = 0;
  for (const [what, token, id, body, status] of cases) {
    const response = await api('PATCH', `${CHANNELS}/${id}`, { token, body });
    t.equal(response.status, status, what);
  }
  t.same(recorder.events, [], 'refused updates announce nothing');
  t.equal((await api('GET', `${CHANNELS}/${room.id}`, { token: ada.token })).body.name, 'writers', 'nothing was applied');
});

t.test('delete a channel: owner or admin, with its messages; DMs and general are 403', async (t) => {
  const { app, api, databaseUrl } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const room = await createRoom(api, ada, { name: 'doomed' });
  await join(api, room.id, grace);
  await send(api, grace, room.id, 'soon gone');
  const dm = await openDm(api, ada, grace);
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  const recorder = recordEvents(app.events);

  t.equal((await api('DELETE', `${CHANNELS}/${room.id}`, { token: grace.token })).status, 403, 'member, not owner');
  t.equal((await api('DELETE', `${CHANNELS}/${room.id}`, { token: eve.token })).status, 403, 'outsider of a public room');
  t.equal((await api('DELETE', `${CHANNELS}/${closed.id}`, { token: eve.token })).status, 404, 'outsider of a private room');
  t.equal((await api('DELETE', `${CHANNELS}/${dm.id}`, { token: ada.token })).status, 403, 'DMs cannot be deleted');
  t.same(recorder.events, []);

  const deleted = await api('DELETE', `${CHANNELS}/${room.id}`, { token: ada.token });
  t.equal(deleted.status, 204);
  t.same(recorder.events, [{ type: 'channel.deleted', channel_id: room.id, guild_id: null, member_ids: [ada.user.id, grace.user.id] }]);
  t.equal((await api('GET', `${CHANNELS}/${room.id}`, { token: ada.token })).status, 404);
  t.equal((await api('DELETE', `${CHANNELS}/${room.id}`, { token: ada.token })).status, 404, 'a second delete is 404');
  const left = await queryDatabase<{ count: number }>(
    databaseUrl,
    'SELECT (SELECT count(*) FROM messages WHERE channel_id = $1)::int + (SELECT count(*) FROM channel_members WHERE channel_id = $1)::int AS count',
    [room.id],
  );
  t.equal(left[0]!.count, 0, 'messages and memberships went with it');

  const other = await createRoom(api, ada, { name: 'moderated' });
  t.equal((await api('DELETE', `${CHANNELS}/${other.id}`, { token: admin.token })).status, 204, 'an admin may delete a room');
});

t.test('direct messages: one per pair, 201 then 200, recipients; bad recipients', async (t) => {
  const { app, api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const recorder = recordEvents(app.events);

  const opened = await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: grace.user.id } });
  t.equal(opened.status, 201);
  t.match(opened.body, { type: 'dm', name: null, description: null, visibility: null, owner_id: null, guild_id: null, member_count: 2 });
  t.same(
    opened.body.recipients.map((user: { id: string }) => user.id).sort(),
    [ada.user.id, grace.user.id].sort(),
  );
  t.notOk('email' in opened.body.recipients[0], 'recipients are public user objects');
  t.same(recorder.events, [{ type: 'channel.created', channel: opened.body, member_ids: [ada.user.id, grace.user.id] }]);

  const again = await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: grace.user.id } });
  t.equal(again.status, 200);
  t.equal(again.body.id, opened.body.id);
  const reverse = await api('POST', CHANNELS, { token: grace.token, body: { type: 'dm', recipient_id: ada.user.id } });
  t.equal(reverse.status, 200, 'the other side opening it gets the same DM');
  t.equal(reverse.body.id, opened.body.id);
  t.equal(recorder.events.length, 1, 'reopening announces nothing');

  t.equal((await api('GET', `${CHANNELS}/${opened.body.id}`, { token: eve.token })).status, 404, 'outsiders cannot see a DM');

  const self = await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: ada.user.id } });
  t.equal(self.status, 400);
  t.equal(self.body.errors[0].field, '/recipient_id');
  t.equal((await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: '99999' } })).status, 404);
  t.equal((await api('PATCH', `/api/v1/users/${eve.user.id}`, { token: admin.token, body: { active: false } })).status, 200);
  t.equal(
    (await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: eve.user.id } })).status,
    404,
    'a deactivated recipient is 404',
  );
  t.equal(
    (await api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: grace.user.id, name: 'x' } })).status,
    400,
    'a DM takes no name',
  );
});

t.test('the DM race: both users open it at the same moment -> one channel, 201 and 200', async (t) => {
  const { app, api, databaseUrl } = await build(t);
  for (let round = 0; round < 5; round += 1) {
    const [ada, grace] = [await register(api), await register(api)];
    const recorder = recordEvents(app.events);
    const [first, second] = await Promise.all([
      api('POST', CHANNELS, { token: ada.token, body: { type: 'dm', recipient_id: grace.user.id } }),
      api('POST', CHANNELS, { token: grace.token, body: { type: 'dm', recipient_id: ada.user.id } }),
    ]);
    recorder.stop();
    t.same([first.status, second.status].sort(), [200, 201], `round ${round}: one created, one found`);
    t.equal(first.body.id, second.body.id, `round ${round}: the same channel`);
    t.equal(recorder.events.filter((event) => event.type === 'channel.created').length, 1, `round ${round}: announced once`);
    const stored = await queryDatabase<{ count: number }>(
      databaseUrl,
      `SELECT count(*)::int AS count FROM channels c WHERE type = 'dm'
         AND EXISTS (SELECT 1 FROM channel_members WHERE channel_id = c.id AND user_id = $1)
         AND EXISTS (SELECT 1 FROM channel_members WHERE channel_id = c.id AND user_id = $2)`,
      [ada.user.id, grace.user.id],
    );
    t.equal(stored[0]!.count, 1, `round ${round}: one DM row`);
  }
});

t.test('membership: join, add, idempotence, leave, removal, ownership hand-over', async (t) => {
  const { app, api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  const [ada, grace, eve, bob] = [await register(api), await register(api), await register(api), await register(api)];
  const open = await createRoom(api, ada, { name: 'open' });
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  const dm = await openDm(api, ada, grace);
  const general = await generalId(api, ada);
  const recorder = recordEvents(app.events);
  const member = (channelId: string, user: { user: { id: string } }) => `${CHANNELS}/${channelId}/members/${user.user.id}`;

  // Join a public room yourself.
  const joined = await api('PUT', member(open.id, grace), { token: grace.token });
  t.equal(joined.status, 200);
  t.match(joined.body, { user: { id: grace.user.id }, last_read_message_id: null });
  // seq: the change's place in the room's chain (src/bus/ orders by it); the room has no earlier commit.
  t.same(recorder.events, [{ type: 'member.joined', channel_id: open.id, user: joined.body.user, seq: { id: seqId(recorder.events[0]), prev_id: null } }]);
  const rejoined = await api('PUT', member(open.id, grace), { token: grace.token });
  t.equal(rejoined.status, 200, 'adding an existing member is idempotent');
  t.same(rejoined.body, joined.body, 'the existing membership is returned');
  t.equal(recorder.events.length, 1, 'and nothing is announced');

  // Adding others: members may, non-members may not.
  t.equal((await api('PUT', member(open.id, bob), { token: eve.token })).status, 403, 'a non-member adds someone else');
  t.equal((await api('PUT', member(closed.id, eve), { token: eve.token })).status, 404, 'an outsider joins a private room');
  t.equal((await api('PUT', member(closed.id, bob), { token: ada.token })).status, 200, 'a member adds someone to a private room');
  t.equal((await api('GET', `${CHANNELS}/${closed.id}`, { token: bob.token })).status, 200, 'who now sees it');
  t.equal((await api('PUT', member(closed.id, eve), { token: bob.token })).status, 200, 'any member may add others');
  t.equal((await api('PUT', `${CHANNELS}/${open.id}/members/77777`, { token: ada.token })).status, 404, 'unknown user');
  t.equal((await api('PUT', member(dm.id, eve), { token: ada.token })).status, 403, 'DM membership is fixed');
  t.equal((await api('DELETE', member(dm.id, ada), { token: ada.token })).status, 403, 'nobody leaves a DM');

  // Removing others: owner or admin only.
  recorder.events.length = 0;
  t.equal((await api('DELETE', member(closed.id, eve), { token: bob.token })).status, 403, 'a member removes someone else');
  t.equal((await api('DELETE', member(closed.id, eve), { token: ada.token })).status, 204, 'the owner removes a member');
  const lastLeft = seqId(recorder.events[0]);
  t.match(recorder.events, [{ type: 'member.left', channel_id: closed.id, user_id: eve.user.id, seq: { id: String } }]);
  t.equal(recorder.events.length, 1);
  t.equal((await api('GET', `${CHANNELS}/${closed.id}`, { token: eve.token })).status, 404, 'a removed member no longer sees it');
  t.equal((await api('DELETE', member(closed.id, eve), { token: ada.token })).status, 404, 'removing a non-member is 404');
  t.equal((await api('DELETE', member(open.id, grace), { token: admin.token })).status, 204, 'an admin removes a member');

  // Leaving: anyone, any room, including general.
  t.equal((await api('DELETE', member(general, bob), { token: bob.token })).status, 204, 'leaving general');
  t.equal((await api('GET', `${CHANNELS}/${general}/messages`, { token: bob.token })).status, 403, 'then general is read-only to see');
  t.equal((await api('PUT', member(general, bob), { token: bob.token })).status, 200, 'and can be joined again');

  // Ownership passes to the longest-standing remaining member when the owner leaves.
  recorder.events.length = 0;
  t.equal((await api('DELETE', member(closed.id, ada), { token: ada.token })).status, 204);
  const handedOver = await api('GET', `${CHANNELS}/${closed.id}`, { token: bob.token });
  t.equal(handedOver.body.owner_id, bob.user.id, 'bob, the longest-standing remaining member, owns it now');
  t.same(recorder.events, [
    { type: 'member.left', channel_id: closed.id, user_id: ada.user.id, seq: { id: seqId(recorder.events[0]), prev_id: lastLeft } },
    // The hand-over's own slot, right after the removal's.
    { type: 'channel.updated', channel: handedOver.body, seq: { id: seqId(recorder.events[1]), prev_id: seqId(recorder.events[0]) } },
  ]);
  t.equal((await api('GET', `${CHANNELS}/${closed.id}`, { token: ada.token })).status, 404, 'the old owner is an outsider now');
  t.equal((await api('DELETE', member(closed.id, bob), { token: bob.token })).status, 204, 'the last member leaves');
  t.equal((await api('GET', `${CHANNELS}/${closed.id}`, { token: bob.token })).status, 404, 'the empty private room is hidden');
});

t.test('list members: join order, keyset pages, visibility', async (t) => {
  const { api } = await build(t);
  const owner = await register(api);
  const room = await createRoom(api, owner, { name: 'crowd', visibility: 'private' });
  const others = [];
  for (let index = 0; index < 6; index += 1) {
    const user = await register(api);
    await join(api, room.id, user, owner);
    others.push(user);
  }
  const expected = [owner, ...others].map((user) => user.user.id);
  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: { items: { user: { id: string } }[]; next_cursor: string | null } } = await api(
      'GET',
      `${CHANNELS}/${room.id}/members?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      { token: others[2]!.token },
    );
    t.equal(page.status, 200);
    walked.push(...page.body.items.map((item) => item.user.id));
    cursor = page.body.next_cursor;
  } while (cursor);
  t.same(walked, expected, 'every member once, oldest first');

  const outsider = await register(api);
  t.equal((await api('GET', `${CHANNELS}/${room.id}/members`, { token: outsider.token })).status, 404);
  await leave(api, room.id, others[0]!, owner);
  t.equal((await api('GET', `${CHANNELS}/${room.id}/members`, { token: others[0]!.token })).status, 404, 'a removed member');
  const open = await createRoom(api, owner, { name: 'open-crowd' });
  t.equal((await api('GET', `${CHANNELS}/${open.id}/members`, { token: outsider.token })).status, 200, 'a public room is visible');
  t.equal((await api('GET', `${CHANNELS}/${room.id}/members?cursor=xyz`, { token: owner.token })).status, 400);
  t.equal((await api('GET', `${CHANNELS}/${room.id}/members?limit=101`, { token: owner.token })).status, 400);
});

t.test('typing: 204, announced at most once per 5 s per user and channel; needs the right to send', async (t) => {
  const { app, api } = await build(t);
  const [ada, grace, eve] = [await register(api), await register(api), await register(api)];
  const room = await createRoom(api, ada, { name: 'chatty' });
  await join(api, room.id, grace);
  const closed = await createRoom(api, ada, { name: 'closed', visibility: 'private' });
  const recorder = recordEvents(app.events);

  const before = Date.now();
  const first = await api('POST', `${CHANNELS}/${room.id}/typing`, { token: grace.token });
  const after = Date.now();
  t.equal(first.status, 204);
  t.equal(first.text, '');
  const second = await api('POST', `${CHANNELS}/${room.id}/typing`, { token: grace.token });
  t.equal(second.status, 204, 'extra calls still succeed');
  t.equal((await api('POST', `${CHANNELS}/${room.id}/typing`, { token: ada.token })).status, 204);
  t.equal(recorder.events.length, 2, 'one event per user');
  t.match(recorder.events[0], { type: 'typing.started', channel_id: room.id, user_id: grace.user.id });
  const at = Date.parse((recorder.events[0] as { at: string }).at);
  t.ok(at >= before && at <= after, '`at` is the time of the request (between its start and its answer)');
  t.match(recorder.events[1], { type: 'typing.started', channel_id: room.id, user_id: ada.user.id });

  t.equal((await api('POST', `${CHANNELS}/${room.id}/typing`, { token: eve.token })).status, 403, 'non-member of a public room');
  t.equal((await api('POST', `${CHANNELS}/${closed.id}/typing`, { token: eve.token })).status, 404, 'outsider of a private room');
  t.equal((await api('POST', `${CHANNELS}/424242/typing`, { token: eve.token })).status, 404, 'unknown channel');
  t.equal(recorder.events.length, 2, 'refused typing announces nothing');
});

t.test('my conversations: most recently active first, last message, unread, type filter, pages', async (t) => {
  const { api } = await build(t);
  const [ada, grace] = [await register(api), await register(api)];
  const general = await generalId(api, ada);
  const quiet = await createRoom(api, ada, { name: 'quiet' });
  const busy = await createRoom(api, ada, { name: 'busy' });
  await join(api, busy.id, grace);
  const dm = await openDm(api, grace, ada);
  await send(api, grace, busy.id, 'first');
  const latest = await send(api, grace, busy.id, 'second');

  const mine = await api('GET', '/api/v1/users/@me/channels', { token: ada.token });
  t.equal(mine.status, 200);
  t.same(
    mine.body.items.map((item: { id: string }) => item.id),
    [busy.id, dm.id, quiet.id, general],
    'by last message id, or the channel id when it has none',
  );
  const busyItem = mine.body.items[0];
  t.same(busyItem.last_message, latest);
  t.equal(busyItem.last_message_id, latest.id);
  t.equal(busyItem.unread_count, 2);
  t.equal(mine.body.items[1].last_message, null);
  t.equal(mine.body.items[1].unread_count, 0);

  const dms = await api('GET', '/api/v1/users/@me/channels?type=dm', { token: ada.token });
  t.same(dms.body.items.map((item: { id: string }) => item.id), [dm.id]);

  const walked: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await api(
      'GET',
      `/api/v1/users/@me/channels?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      { token: ada.token },
    );
    walked.push(...page.body.items.map((item) => item.id));
    cursor = page.body.next_cursor;
  } while (cursor);
  t.same(walked, [busy.id, dm.id, quiet.id, general], 'pages of one return every conversation once');

  await send(api, ada, quiet.id, 'now I am the latest');
  const reordered = await api('GET', '/api/v1/users/@me/channels', { token: ada.token });
  t.equal(reordered.body.items[0].id, quiet.id, 'new activity moves a conversation to the top');
  t.equal(reordered.body.items[0].unread_count, 0, 'my own messages are never unread');

  const grace2 = await api('GET', '/api/v1/users/@me/channels', { token: grace.token });
  t.notOk(grace2.body.items.some((item: { id: string }) => item.id === quiet.id), 'rooms I am not in are not mine');
  t.equal((await api('GET', '/api/v1/users/@me/channels?cursor=bad', { token: ada.token })).status, 400);
  t.equal((await api('GET', '/api/v1/users/@me/channels?type=group', { token: ada.token })).status, 400);
});

t.test('typing: the 5 s window resets on the app clock (no waiting)', async (t) => {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const { app, api } = await build(t, {}, { clock: () => now });
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const recorder = recordEvents(app.events);
  const typing = async () => (await api('POST', `${CHANNELS}/${room.id}/typing`, { token: ada.token })).status;
  t.equal(await typing(), 204);
  now += 4_999;
  t.equal(await typing(), 204, 'within the window: accepted');
  t.equal(recorder.events.length, 1, 'and not announced again');
  now += 1;
  t.equal(await typing(), 204);
  t.equal(recorder.events.length, 2, 'a new window: announced again');
  t.same(
    recorder.events.map((event) => event.type),
    ['typing.started', 'typing.started'],
  );
});
