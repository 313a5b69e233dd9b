import { sql } from 'slonik';
import t from 'tap';
import { z } from 'zod';
import { recordEvents } from '../../src/events/event-bus.ts';
import { guildChannelAccess, viewableGuildChannelIds } from '../../src/services/guild-access.ts';
import { build, register } from '../helpers/build.ts';
import { assignRole, createGuild, createRole, joinGuild, MISSING_ID } from '../helpers/guilds.ts';

const noRows = z.object({});

t.test('creating a guild: the creator owns it, with a general channel and @everyone', async (t) => {
  const { app, api } = await build(t);
  const owner = await register(api);
  const recorded = recordEvents(app.events);

  const created = await api('POST', '/api/v1/guilds', {
    token: owner.token,
    body: { name: '  Lovelace Society  ', description: 'Notes on the Analytical Engine.' },
  });
  t.equal(created.status, 201);
  t.equal(created.body.name, 'Lovelace Society', 'the name is trimmed');
  t.equal(created.body.description, 'Notes on the Analytical Engine.');
  t.equal(created.body.owner_id, owner.user.id);
  t.equal(created.body.member_count, 1);
  const guildId = created.body.id;

  const channels = await api('GET', `/api/v1/guilds/${guildId}/channels`, { token: owner.token });
  t.equal(channels.status, 200);
  t.equal(channels.body.items.length, 1);
  const general = channels.body.items[0];
  t.match(general, {
    name: 'general',
    type: 'guild_text',
    guild_id: guildId,
    visibility: null,
    owner_id: null,
    member_count: 1,
    last_message_id: null,
  });
  t.same(general.permission_overwrites, []);

  const roles = await api('GET', `/api/v1/guilds/${guildId}/roles`, { token: owner.token });
  t.equal(roles.status, 200);
  t.equal(roles.body.items.length, 1);
  t.match(roles.body.items[0], { name: '@everyone', is_default: true, position: 0, permissions: '3', guild_id: guildId });

  const members = await api('GET', `/api/v1/guilds/${guildId}/members`, { token: owner.token });
  t.equal(members.body.items.length, 1);
  t.equal(members.body.items[0].user.id, owner.user.id);
  t.same(members.body.items[0].role_ids, [], '@everyone is implicit');

  recorded.stop();
  const types = recorded.events.map((event) => event.type);
  t.same(types, ['guild.created', 'channel.created'], 'announced after commit');
  const channelEvent = recorded.events[1];
  t.equal(channelEvent?.type === 'channel.created' && channelEvent.channel.id, general.id);
});

t.test('creating a guild: bad input is 400, no token is 401', async (t) => {
  const { api } = await build(t);
  const owner = await register(api);
  const blank = await api('POST', '/api/v1/guilds', { token: owner.token, body: { name: '   ' } });
  t.equal(blank.status, 400);
  t.equal(blank.body.errors[0].field, '/name');
  const extra = await api('POST', '/api/v1/guilds', { token: owner.token, body: { name: 'x', owner_id: '1' } });
  t.equal(extra.status, 400, 'owner_id cannot be set');
  t.equal((await api('POST', '/api/v1/guilds', { token: owner.token, body: { name: 'x'.repeat(101) } })).status, 400);
  t.equal((await api('POST', '/api/v1/guilds', { token: owner.token, body: {} })).status, 400);
  t.equal((await api('POST', '/api/v1/guilds', { body: { name: 'x' } })).status, 401);
  const listed = await api('GET', '/api/v1/users/@me/guilds', { token: owner.token });
  t.same(listed.body.items, [], 'nothing was half-written');
});

t.test('listing my guilds pages by id and shows only my guilds', async (t) => {
  const { api } = await build(t);
  const owner = await register(api);
  const other = await register(api);
  const ids: string[] = [];
  for (const name of ['one', 'two', 'three']) ids.push((await createGuild(api, owner, name)).guild.id);
  await createGuild(api, other, 'not mine');

  const first = await api('GET', '/api/v1/users/@me/guilds?limit=2', { token: owner.token });
  t.equal(first.status, 200);
  t.same(
    first.body.items.map((guild: { id: string }) => guild.id),
    ids.slice(0, 2),
  );
  t.type(first.body.next_cursor, 'string');
  const second = await api('GET', `/api/v1/users/@me/guilds?limit=2&cursor=${first.body.next_cursor}`, { token: owner.token });
  t.same(
    second.body.items.map((guild: { id: string }) => guild.id),
    ids.slice(2),
  );
  t.equal(second.body.next_cursor, null);

  t.equal((await api('GET', '/api/v1/users/@me/guilds?cursor=not-a-cursor', { token: owner.token })).status, 400);
  t.equal((await api('GET', '/api/v1/users/@me/guilds?limit=0', { token: owner.token })).status, 400);
  t.equal((await api('GET', '/api/v1/users/@me/guilds?limit=101', { token: owner.token })).status, 400);
  const theirs = await api('GET', '/api/v1/users/@me/guilds', { token: other.token });
  t.equal(theirs.body.items.length, 1);
  t.equal(theirs.body.items[0].name, 'not mine');
});

t.test('getting a guild: members only; anyone else gets the same 404 as for a missing guild', async (t) => {
  const { api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);

  const seen = await api('GET', `/api/v1/guilds/${guild.id}`, { token: member.token });
  t.equal(seen.status, 200);
  t.equal(seen.body.member_count, 2);
  const hidden = await api('GET', `/api/v1/guilds/${guild.id}`, { token: outsider.token });
  const missing = await api('GET', `/api/v1/guilds/${MISSING_ID}`, { token: outsider.token });
  t.equal(hidden.status, 404);
  t.equal(missing.status, 404);
  t.equal(hidden.body.detail, missing.body.detail, 'nothing tells an existing guild from a missing one');
  t.equal((await api('GET', '/api/v1/guilds/not-a-number', { token: member.token })).status, 400);
});

t.test('updating a guild needs MANAGE_GUILD', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const manager = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);
  await assignRole(api, guild.id, owner, manager.user.id, await createRole(api, guild.id, owner, 'manager', '128'));
  const recorded = recordEvents(app.events);

  const renamed = await api('PATCH', `/api/v1/guilds/${guild.id}`, {
    token: owner.token,
    body: { name: ' Renamed ', description: 'About us.' },
  });
  t.equal(renamed.status, 200);
  t.equal(renamed.body.name, 'Renamed');
  t.equal(renamed.body.description, 'About us.');
  t.equal(renamed.body.member_count, 3);

  const cleared = await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: manager.token, body: { description: null } });
  t.equal(cleared.status, 200, 'a member with MANAGE_GUILD may update');
  t.equal(cleared.body.description, null);
  t.equal(cleared.body.name, 'Renamed');

  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: member.token, body: { name: 'x' } })).status, 403);
  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: outsider.token, body: { name: 'x' } })).status, 404);
  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: owner.token, body: { owner_id: member.user.id } })).status, 400);
  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: owner.token, body: {} })).status, 400);
  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}`, { token: owner.token, body: { name: '  ' } })).status, 400);

  recorded.stop();
  t.same(
    recorded.events.map((event) => event.type),
    ['guild.updated', 'guild.updated'],
    'only the successful updates were announced',
  );
  const after = await api('GET', `/api/v1/guilds/${guild.id}`, { token: owner.token });
  t.equal(after.body.owner_id, owner.user.id, 'the owner never changed');
});

t.test('deleting a guild: owner only; its channels, roles and invites go with it', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, generalId } = await createGuild(api);
  const admin = await joinGuild(api, guild.id, owner);
  await assignRole(api, guild.id, owner, admin.user.id, await createRole(api, guild.id, owner, 'admin', '256'));
  const outsider = await register(api);
  const invite = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token });

  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}`, { token: admin.token })).status, 403, 'even ADMINISTRATOR is not the owner');
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}`, { token: outsider.token })).status, 404);

  const recorded = recordEvents(app.events);
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}`, { token: owner.token })).status, 204);
  recorded.stop();
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: owner.token })).status, 404);
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}`, { token: owner.token })).status, 404);
  t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`, { token: outsider.token })).status, 404, 'its invites are gone');
  const left = await app.db.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT ((SELECT count(*) FROM channels WHERE guild_id = ${guild.id})
         + (SELECT count(*) FROM guild_roles WHERE guild_id = ${guild.id})
         + (SELECT count(*) FROM guild_members WHERE guild_id = ${guild.id}))::int AS count`);
  t.equal(left, 0, 'channels, roles and memberships are deleted');

  const types = recorded.events.map((event) => event.type);
  t.same(types, ['channel.deleted', 'guild.deleted']);
  const deleted = recorded.events[1];
  if (deleted?.type === 'guild.deleted') {
    t.same(deleted.channel_ids, [generalId]);
    t.same([...deleted.member_ids].sort(), [owner.user.id, admin.user.id].sort());
  } else {
    t.fail('guild.deleted was not published last');
  }
});

t.test('guild channels: create with overwrites, MANAGE_CHANNELS, validation and visibility', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, generalId, everyoneId } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const moderator = await joinGuild(api, guild.id, owner);
  const channelManager = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);
  const modRole = await createRole(api, guild.id, owner, 'moderator', '4');
  await assignRole(api, guild.id, owner, moderator.user.id, modRole);
  await assignRole(api, guild.id, owner, channelManager.user.id, await createRole(api, guild.id, owner, 'channels', '8'));
  const otherGuild = await createGuild(api, outsider, 'elsewhere');
  const recorded = recordEvents(app.events);

  const created = await api('POST', `/api/v1/guilds/${guild.id}/channels`, {
    token: owner.token,
    body: {
      name: ' moderators-only ',
      description: 'Staff room.',
      permission_overwrites: [
        { role_id: everyoneId, allow: '0', deny: '1' },
        { role_id: modRole, allow: '1', deny: '0' },
      ],
    },
  });
  t.equal(created.status, 201);
  t.match(created.body, { name: 'moderators-only', type: 'guild_text', guild_id: guild.id, description: 'Staff room.', member_count: 4 });
  t.same(
    [...created.body.permission_overwrites].sort((a: { role_id: string }, b: { role_id: string }) => (a.role_id < b.role_id ? -1 : 1)),
    [
      { role_id: everyoneId, allow: '0', deny: '1' },
      { role_id: modRole, allow: '1', deny: '0' },
    ].sort((a, b) => (a.role_id < b.role_id ? -1 : 1)),
  );
  const staffId = created.body.id;
  recorded.stop();
  t.same(
    recorded.events.map((event) => event.type),
    ['channel.created'],
  );

  const ids = async (token: string) =>
    (await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token })).body.items.map((channel: { id: string }) => channel.id);
  t.same(await ids(owner.token), [generalId, staffId], 'the owner sees every channel');
  t.same(await ids(member.token), [generalId], 'VIEW_CHANNEL denied to @everyone hides the channel');
  t.same(await ids(moderator.token), [generalId, staffId], 'a role overwrite allowing VIEW_CHANNEL shows it again');
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: outsider.token })).status, 404);

  // The access function the channel routes use agrees.
  const staff = { id: staffId, guild_id: guild.id };
  t.same(await guildChannelAccess(app.db, member.user.id, staff), {
    canView: false,
    canSend: false,
    canManageMessages: false,
    canManageChannel: false,
  });
  t.same(await guildChannelAccess(app.db, moderator.user.id, staff), {
    canView: true,
    canSend: true,
    canManageMessages: true,
    canManageChannel: false,
  });
  t.same(await guildChannelAccess(app.db, owner.user.id, staff), {
    canView: true,
    canSend: true,
    canManageMessages: true,
    canManageChannel: true,
  });
  t.same(await guildChannelAccess(app.db, outsider.user.id, { id: generalId, guild_id: guild.id }), {
    canView: false,
    canSend: false,
    canManageMessages: false,
    canManageChannel: false,
  });
  t.same(await viewableGuildChannelIds(app.db, member.user.id), [generalId]);
  t.same(await viewableGuildChannelIds(app.db, moderator.user.id), [generalId, staffId]);
  t.same(await viewableGuildChannelIds(app.db, outsider.user.id), [otherGuild.generalId]);

  const post = (token: string, body: unknown) => api('POST', `/api/v1/guilds/${guild.id}/channels`, { token, body });
  t.equal((await post(member.token, { name: 'nope' })).status, 403, 'MANAGE_CHANNELS is needed');
  t.equal((await post(outsider.token, { name: 'nope' })).status, 404);
  const managed = await post(channelManager.token, { name: 'managed' });
  t.equal(managed.status, 201, 'a member with MANAGE_CHANNELS may create');
  const foreignRole = await post(owner.token, {
    name: 'x',
    permission_overwrites: [{ role_id: otherGuild.everyoneId, allow: '0', deny: '1' }],
  });
  t.equal(foreignRole.status, 400, 'overwrites may only name roles of this guild');
  t.equal(foreignRole.body.errors[0].field, '/permission_overwrites/0/role_id');
  const badBits = await post(owner.token, { name: 'x', permission_overwrites: [{ role_id: everyoneId, allow: '8', deny: '0' }] });
  t.equal(badBits.status, 400, 'MANAGE_CHANNELS is not an overwrite bit');
  t.equal(badBits.body.errors[0].field, '/permission_overwrites/0/allow');
  const twice = await post(owner.token, {
    name: 'x',
    permission_overwrites: [
      { role_id: everyoneId, allow: '0', deny: '1' },
      { role_id: everyoneId, allow: '1', deny: '0' },
    ],
  });
  t.equal(twice.status, 400, 'one overwrite per role');
  t.equal((await post(owner.token, { name: '   ' })).status, 400);
  t.equal((await post(owner.token, { name: 'x', type: 'room' })).status, 400, 'no other fields');
  const overreach = await post(channelManager.token, {
    name: 'x',
    permission_overwrites: [{ role_id: everyoneId, allow: '4', deny: '0' }],
  });
  t.equal(overreach.status, 403, 'a non-owner may not allow MANAGE_MESSAGES they lack');
  const denyOnly = await post(channelManager.token, {
    name: 'quiet',
    permission_overwrites: [{ role_id: everyoneId, allow: '0', deny: '2' }],
  });
  t.equal(denyOnly.status, 201, 'denying is not granting');
  t.same(await ids(channelManager.token), [generalId, managed.body.id, denyOnly.body.id]);
});

t.test('a guild holds at most 500 channels (409 beyond)', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  await app.db.query(sql.type(noRows)`
    INSERT INTO channels (type, name, guild_id)
    SELECT 'guild_text', 'filler-' || n, ${guild.id} FROM generate_series(1, 498) AS n`);
  const last = await api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: 'number-500' } });
  t.equal(last.status, 201, 'the 500th channel fits');
  const over = await api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: 'number-501' } });
  t.equal(over.status, 409);
  t.equal(over.body.code, 'conflict');
  const listed = await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token });
  t.equal(listed.body.items.length, 500);
});

t.test('listing members: join order, pages, role ids; email only for oneself', async (t) => {
  const { api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const joined = [];
  for (let index = 0; index < 3; index += 1) joined.push(await joinGuild(api, guild.id, owner));
  const role = await createRole(api, guild.id, owner, 'helper', '0');
  await assignRole(api, guild.id, owner, joined[1]!.user.id, role);

  const first = await api('GET', `/api/v1/guilds/${guild.id}/members?limit=2`, { token: joined[0]!.token });
  t.equal(first.status, 200);
  t.same(
    first.body.items.map((item: { user: { id: string } }) => item.user.id),
    [owner.user.id, joined[0]!.user.id],
  );
  t.equal(first.body.items[0].user.email, undefined, "another member's email is not shown");
  t.equal(first.body.items[1].user.email, joined[0]!.user.email, 'my own email is');
  const second = await api('GET', `/api/v1/guilds/${guild.id}/members?limit=2&cursor=${first.body.next_cursor}`, {
    token: joined[0]!.token,
  });
  t.same(
    second.body.items.map((item: { user: { id: string } }) => item.user.id),
    [joined[1]!.user.id, joined[2]!.user.id],
  );
  t.same(second.body.items[0].role_ids, [role]);
  t.equal(second.body.next_cursor, null);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/members?cursor=%%%`, { token: owner.token })).status, 400);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/members`, { token: (await register(api)).token })).status, 404);
});

t.test('guild channels through the channel routes: MANAGE_CHANNELS to change overwrites or delete', async (t) => {
  const { api } = await build(t);
  const { owner, guild, generalId, everyoneId } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const manager = await joinGuild(api, guild.id, owner);
  await assignRole(api, guild.id, owner, manager.user.id, await createRole(api, guild.id, owner, 'channels', '8'));
  const extra = await api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: 'extra' } });
  const ids = async (token: string) =>
    (await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token })).body.items.map((channel: { id: string }) => channel.id);

  const hide = { permission_overwrites: [{ role_id: everyoneId, allow: '0', deny: '1' }] };
  t.equal((await api('PATCH', `/api/v1/channels/${extra.body.id}`, { token: member.token, body: hide })).status, 403);
  const hidden = await api('PATCH', `/api/v1/channels/${extra.body.id}`, { token: manager.token, body: hide });
  t.equal(hidden.status, 200);
  t.same(hidden.body.permission_overwrites, hide.permission_overwrites);
  t.same(await ids(member.token), [generalId], 'the overwrite hides it from @everyone at once');
  t.equal((await api('GET', `/api/v1/channels/${extra.body.id}`, { token: member.token })).status, 404);
  t.same(await ids(owner.token), [generalId, extra.body.id]);

  t.equal((await api('DELETE', `/api/v1/channels/${generalId}`, { token: member.token })).status, 403);
  t.equal((await api('DELETE', `/api/v1/channels/${generalId}`, { token: owner.token })).status, 204);
  t.same(await ids(owner.token), [extra.body.id]);
});
