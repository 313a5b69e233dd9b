import t, { type Test } from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import { build, register, type ApiClient, type Registered } from '../helpers/build.ts';
import { createRoom, join, leave, openDm, send } from '../helpers/chat.ts';
import { assignRole, createGuild, createRole, joinGuild } from '../helpers/guilds.ts';

/** Every channel and message route, as one caller would hit it for one channel and one of its messages. */
function routes(channelId: string, messageId: string, caller: Registered) {
  const channel = `/api/v1/channels/${channelId}`;
  const message = `${channel}/messages/${messageId}`;
  return [
    { name: 'getChannel', method: 'GET', url: channel },
    { name: 'updateChannel', method: 'PATCH', url: channel, body: { name: 'taken over' } },
    { name: 'listChannelMembers', method: 'GET', url: `${channel}/members` },
    { name: 'removeChannelMember (self)', method: 'DELETE', url: `${channel}/members/${caller.user.id}` },
    { name: 'triggerTyping', method: 'POST', url: `${channel}/typing` },
    { name: 'markChannelRead', method: 'POST', url: `${channel}/read`, body: { message_id: messageId } },
    { name: 'createMessage', method: 'POST', url: `${channel}/messages`, body: { content: 'intrusion' } },
    { name: 'listMessages', method: 'GET', url: `${channel}/messages` },
    { name: 'listMessages around', method: 'GET', url: `${channel}/messages?around=${messageId}` },
    // before/after take the history page's one-round-trip path, each with its own statement.
    { name: 'listMessages before', method: 'GET', url: `${channel}/messages?before=${messageId}` },
    { name: 'listMessages after', method: 'GET', url: `${channel}/messages?after=0` },
    { name: 'getMessage', method: 'GET', url: message },
    { name: 'updateMessage', method: 'PATCH', url: message, body: { content: 'rewritten' } },
    { name: 'deleteMessage', method: 'DELETE', url: message },
    { name: 'searchMessages in channel', method: 'GET', url: `/api/v1/messages/search?q=secret&channel_id=${channelId}` },
    { name: 'addChannelMember (self)', method: 'PUT', url: `${channel}/members/${caller.user.id}` },
    { name: 'deleteChannel', method: 'DELETE', url: channel },
  ];
}

/** Hits every route as `caller` and expects `expected` (a status, or a status per route name). */
async function expectEverywhere(
  t: Test,
  api: ApiClient,
  caller: Registered,
  channelId: string,
  messageId: string,
  expected: number | Record<string, number>,
  label: string,
) {
  for (const route of routes(channelId, messageId, caller)) {
    const status = typeof expected === 'number' ? expected : expected[route.name];
    if (status === undefined) continue;
    const response = await api(route.method, route.url, { token: caller.token, ...(route.body ? { body: route.body } : {}) });
    t.equal(response.status, status, `${label}: ${route.name} -> ${status}`);
    if (status === 404) t.equal(response.body.code, 'not_found', `${label}: ${route.name} is a not_found problem`);
  }
}

/** The caller cannot find the channel in any list either. */
async function expectUnlisted(t: Test, api: ApiClient, caller: Registered, channelId: string, label: string) {
  const mine = await api('GET', '/api/v1/users/@me/channels?limit=100', { token: caller.token });
  t.notOk(mine.body.items.some((item: { id: string }) => item.id === channelId), `${label}: not in my conversations`);
  const found = await api('GET', '/api/v1/messages/search?q=secret', { token: caller.token });
  t.notOk(found.body.items.some((item: { channel_id: string }) => item.channel_id === channelId), `${label}: not in search`);
  const stats = await api('GET', '/api/v1/users/@me/stats', { token: caller.token });
  t.notOk(stats.body.channels.some((item: { channel_id: string }) => item.channel_id === channelId), `${label}: not in stats`);
}

t.test('BOLA: outsiders, removed members and leavers get 404 on every route of a private room and a DM', async (t) => {
  const { app, api } = await build(t);
  const [owner, removed, leaver, outsider, friend] = await Promise.all([
    register(api),
    register(api),
    register(api),
    register(api),
    register(api),
  ]);
  const room = await createRoom(api, owner, { name: 'vault', visibility: 'private' });
  await join(api, room.id, removed, owner);
  await join(api, room.id, leaver, owner);
  const secret = await send(api, owner, room.id, 'the secret plans');
  await send(api, removed, room.id, 'my secret too');
  await leave(api, room.id, removed, owner);
  await leave(api, room.id, leaver);
  const dm = await openDm(api, owner, friend);
  const whisper = await send(api, friend, dm.id, 'a secret whisper');
  const recorder = recordEvents(app.events);

  for (const [label, caller] of [
    ['outsider', outsider],
    ['removed member', removed],
    ['member who left', leaver],
  ] as const) {
    await expectEverywhere(t, api, caller, room.id, secret.id, 404, `private room, ${label}`);
    await expectEverywhere(t, api, caller, dm.id, whisper.id, 404, `DM, ${label}`);
    await expectUnlisted(t, api, caller, room.id, `private room, ${label}`);
    await expectUnlisted(t, api, caller, dm.id, `DM, ${label}`);
  }
  // The same ids that do not exist at all look the same.
  await expectEverywhere(t, api, outsider, '999999999999', '999999999998', 404, 'nonexistent channel');

  t.same(recorder.events, [], 'nothing was announced');
  const intact = await api('GET', `/api/v1/channels/${room.id}/messages/${secret.id}`, { token: owner.token });
  t.equal(intact.body.content, 'the secret plans', 'nothing was changed');
  t.equal((await api('GET', `/api/v1/channels/${room.id}`, { token: owner.token })).body.name, 'vault');
  const history = await api('GET', `/api/v1/channels/${room.id}/messages`, { token: owner.token });
  t.equal(history.body.items.length, 2, 'nothing was sent');
});

t.test('a visible public room: non-members may look but not read, write or manage (403)', async (t) => {
  const { api } = await build(t);
  const [owner, visitor] = [await register(api), await register(api)];
  const room = await createRoom(api, owner, { name: 'plaza' });
  const message = await send(api, owner, room.id, 'a public secret');
  await expectEverywhere(
    t,
    api,
    visitor,
    room.id,
    message.id,
    {
      getChannel: 200,
      listChannelMembers: 200,
      updateChannel: 403,
      'removeChannelMember (self)': 404,
      triggerTyping: 403,
      markChannelRead: 403,
      createMessage: 403,
      listMessages: 403,
      'listMessages around': 403,
      'listMessages before': 403,
      'listMessages after': 403,
      getMessage: 403,
      updateMessage: 403,
      deleteMessage: 403,
      'searchMessages in channel': 403,
      deleteChannel: 403,
    },
    'public room, non-member',
  );
  await expectUnlisted(t, api, visitor, room.id, 'public room, non-member');
  // Joining opens everything a member may do.
  await expectEverywhere(t, api, visitor, room.id, message.id, { 'addChannelMember (self)': 200 }, 'joining');
  await expectEverywhere(
    t,
    api,
    visitor,
    room.id,
    message.id,
    { listMessages: 200, 'listMessages before': 200, 'listMessages after': 200, getMessage: 200, markChannelRead: 200, triggerTyping: 204, createMessage: 201, updateMessage: 403, deleteMessage: 403 },
    'public room, member',
  );
});

t.test('guild text channels: access comes from the guild (kicked, banned, no VIEW_CHANNEL -> 404)', async (t) => {
  const { app, api } = await build(t);
  const setup = await createGuild(api);
  const { owner, guild, generalId: channelId, everyoneId } = setup;
  const [member, kicked, banned, moderator, outsider] = [
    await joinGuild(api, guild.id, owner),
    await joinGuild(api, guild.id, owner),
    await joinGuild(api, guild.id, owner),
    await joinGuild(api, guild.id, owner),
    await register(api),
  ];
  const modRole = await createRole(api, guild.id, owner, 'moderator', '7');
  await assignRole(api, guild.id, owner, moderator.user.id, modRole);

  // Members with the default @everyone permissions (VIEW_CHANNEL | SEND_MESSAGES) read and write.
  const hello = await send(api, member, channelId, 'hello guild, a secret');
  const byKicked = await send(api, kicked, channelId, 'I was here, secret');
  await send(api, banned, channelId, 'me too, secret');
  const history = await api('GET', `/api/v1/channels/${channelId}/messages`, { token: owner.token });
  t.equal(history.body.items.length, 3);
  const channel = await api('GET', `/api/v1/channels/${channelId}`, { token: member.token });
  t.match(channel.body, { type: 'guild_text', guild_id: guild.id, owner_id: null, visibility: null, member_count: 5, permission_overwrites: [] });
  const mine = await api('GET', '/api/v1/users/@me/channels?type=guild_text', { token: member.token });
  t.same(mine.body.items.map((item: { id: string }) => item.id), [channelId], 'guild channels are conversations');
  const found = await api('GET', '/api/v1/messages/search?q=secret', { token: member.token });
  t.equal(found.body.items.length, 3, 'search covers guild channels');
  const members = await api('GET', `/api/v1/channels/${channelId}/members?limit=100`, { token: member.token });
  t.equal(members.body.items.length, 5, 'the guild members who can view it');

  // Deleting others' messages needs MANAGE_MESSAGES.
  t.equal((await api('DELETE', `/api/v1/channels/${channelId}/messages/${hello.id}`, { token: kicked.token })).status, 403);
  t.equal((await api('PUT', `/api/v1/channels/${channelId}/members/${member.user.id}`, { token: owner.token })).status, 403);

  // Kick and ban: every route is 404, the channel is unlisted.
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${kicked.user.id}`, { token: owner.token })).status, 204);
  t.equal((await api('PUT', `/api/v1/guilds/${guild.id}/bans/${banned.user.id}`, { token: owner.token, body: {} })).status, 204);
  for (const [label, caller] of [
    ['outsider', outsider],
    ['kicked member', kicked],
    ['banned member', banned],
  ] as const) {
    await expectEverywhere(t, api, caller, channelId, byKicked.id, 404, `guild channel, ${label}`);
    await expectUnlisted(t, api, caller, channelId, `guild channel, ${label}`);
  }

  // A moderator (MANAGE_MESSAGES) deletes someone else's message.
  const recorder = recordEvents(app.events);
  t.equal((await api('DELETE', `/api/v1/channels/${channelId}/messages/${byKicked.id}`, { token: moderator.token })).status, 204);
  t.match(recorder.events, [{ type: 'message.deleted', channel_id: channelId, message_id: byKicked.id, seq: { id: String } }]);
  t.equal(recorder.events.length, 1);

  // Overwrites through PATCH /channels/{id}: the owner hides the channel from @everyone but moderators.
  t.equal(
    (await api('PATCH', `/api/v1/channels/${channelId}`, { token: member.token, body: { name: 'mine' } })).status,
    403,
    'MANAGE_CHANNELS is needed to change it',
  );
  const hidden = await api('PATCH', `/api/v1/channels/${channelId}`, {
    token: owner.token,
    body: {
      name: 'mods-only',
      permission_overwrites: [
        { role_id: everyoneId, allow: '0', deny: '1' },
        { role_id: modRole, allow: '1', deny: '0' },
      ],
    },
  });
  t.equal(hidden.status, 200);
  t.equal(hidden.body.name, 'mods-only');
  t.same(
    [...hidden.body.permission_overwrites].sort((a: { role_id: string }, b: { role_id: string }) => (BigInt(a.role_id) < BigInt(b.role_id) ? -1 : 1)),
    [
      { role_id: everyoneId, allow: '0', deny: '1' },
      { role_id: modRole, allow: '1', deny: '0' },
    ],
  );
  t.equal(
    (await api('PATCH', `/api/v1/channels/${channelId}`, {
      token: owner.token,
      body: { permission_overwrites: [{ role_id: everyoneId, allow: '8', deny: '0' }] },
    })).status,
    400,
    'overwrites carry only VIEW_CHANNEL, SEND_MESSAGES and MANAGE_MESSAGES',
  );
  await expectEverywhere(t, api, member, channelId, hello.id, 404, 'guild channel, member without VIEW_CHANNEL');
  await expectUnlisted(t, api, member, channelId, 'guild channel, member without VIEW_CHANNEL');
  t.equal((await api('GET', `/api/v1/channels/${channelId}/messages`, { token: moderator.token })).status, 200, 'moderators still read');
  const visibleTo = await api('GET', `/api/v1/channels/${channelId}/members?limit=100`, { token: moderator.token });
  t.same(
    visibleTo.body.items.map((item: { user: { id: string } }) => item.user.id).sort(),
    [owner.user.id, moderator.user.id].sort(),
    'the member list shows who can view it',
  );

  // VIEW_CHANNEL without SEND_MESSAGES: read yes, send and typing no.
  const readOnly = await api('PATCH', `/api/v1/channels/${channelId}`, {
    token: owner.token,
    body: { permission_overwrites: [{ role_id: everyoneId, allow: '0', deny: '2' }] },
  });
  t.equal(readOnly.status, 200);
  t.equal((await api('GET', `/api/v1/channels/${channelId}/messages`, { token: member.token })).status, 200);
  t.equal((await api('POST', `/api/v1/channels/${channelId}/messages`, { token: member.token, body: { content: 'x' } })).status, 403);
  t.equal((await api('POST', `/api/v1/channels/${channelId}/typing`, { token: member.token })).status, 403);
  t.equal((await api('POST', `/api/v1/channels/${channelId}/read`, { token: member.token, body: { message_id: hello.id } })).status, 200);
  t.equal((await api('PATCH', `/api/v1/channels/${channelId}/messages/${hello.id}`, { token: member.token, body: { content: 'edit' } })).status, 200, 'the author still edits');
});
