import { sql } from 'slonik';
import t from 'tap';
import { z } from 'zod';
import type { DomainEvent } from '../../src/events/domain-events.ts';
import { recordEvents } from '../../src/events/event-bus.ts';
import { guildChannelAccess } from '../../src/services/guild-access.ts';
import { build, register } from '../helpers/build.ts';
import { assignRole, createGuild, createRole, joinGuild, MISSING_ID } from '../helpers/guilds.ts';

/** A guild-wide event's slot in one channel (takeGuildEventSlots), or undefined. */
const slotIn = (event: DomainEvent | undefined, channelId: string) => (event && 'seqs' in event ? event.seqs?.[channelId] : undefined);

const noRows = z.object({});
const usesSchema = z.object({ uses: z.number() });

// ───────────────────────────── invites ─────────────────────────────

t.test('invites: any member creates one; joining counts a use; a member joining again counts none', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, generalId } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);

  const invite = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: member.token });
  t.equal(invite.status, 201, 'any member may invite, without a body');
  t.match(invite.body.code, /^[A-Za-z0-9]{10}$/, 'a random url-safe code of 10 characters');
  t.match(invite.body, { guild_id: guild.id, inviter_id: member.user.id, max_uses: null, uses: 0, expires_at: null });
  const limited = await api('POST', `/api/v1/guilds/${guild.id}/invites`, {
    token: owner.token,
    body: { max_uses: 5, expires_in: 3600 },
  });
  t.equal(limited.status, 201);
  t.equal(limited.body.max_uses, 5);
  const expiresIn = Date.parse(limited.body.expires_at) - Date.parse(limited.body.created_at);
  t.ok(Math.abs(expiresIn - 3_600_000) < 5_000, 'expires_at is created_at + expires_in');
  t.not(limited.body.code, invite.body.code);

  t.equal((await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: outsider.token })).status, 404);
  t.equal((await api('POST', `/api/v1/guilds/${MISSING_ID}/invites`, { token: owner.token })).status, 404);
  for (const body of [{ max_uses: 0 }, { max_uses: 1001 }, { expires_in: 59 }, { expires_in: 2_592_001 }, { uses: 3 }]) {
    t.equal((await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token, body })).status, 400, JSON.stringify(body));
  }

  const recorded = recordEvents(app.events);
  const joined = await api('POST', `/api/v1/invites/${invite.body.code}`, { token: outsider.token });
  t.equal(joined.status, 200);
  t.equal(joined.body.id, guild.id);
  t.equal(joined.body.member_count, 3);
  recorded.stop();
  t.equal(recorded.events.length, 1);
  const event = recorded.events[0];
  if (event?.type === 'guild.member_joined') {
    t.equal(event.user.id, outsider.user.id);
    t.equal(event.user.email, undefined, 'the event carries the public user');
    t.same(event.channel_ids, [generalId]);
  } else {
    t.fail('guild.member_joined was not published');
  }
  const usesOf = (code: string) => app.db.oneFirst(sql.type(usesSchema)`SELECT uses FROM guild_invites WHERE code = ${code}`);
  t.equal(await usesOf(invite.body.code), 1);

  const again = await api('POST', `/api/v1/invites/${invite.body.code}`, { token: outsider.token });
  t.equal(again.status, 200, 'a member joining again gets the guild');
  t.equal(again.body.member_count, 3);
  t.equal(await usesOf(invite.body.code), 1, 'and no use is counted');

  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: outsider.token })).status, 200, 'the new member sees the guild');
  t.equal((await api('POST', '/api/v1/invites/Nope0000000', { token: outsider.token })).status, 404, 'an unknown code');
  t.equal((await api('POST', '/api/v1/invites/a-b', { token: outsider.token })).status, 400, 'a malformed code');
  t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`)).status, 401);
});

t.test('invites: max_uses is enforced atomically, also under concurrent joins', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const single = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token, body: { max_uses: 1 } });
  const first = await register(api);
  const second = await register(api);
  t.equal((await api('POST', `/api/v1/invites/${single.body.code}`, { token: first.token })).status, 200);
  t.equal((await api('POST', `/api/v1/invites/${single.body.code}`, { token: second.token })).status, 404, 'a used-up code is 404');
  t.equal((await api('POST', `/api/v1/invites/${single.body.code}`, { token: first.token })).status, 404, 'for members too');

  const three = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token, body: { max_uses: 3 } });
  const users = await Promise.all(Array.from({ length: 8 }, () => register(api)));
  const results = await Promise.all(users.map((user) => api('POST', `/api/v1/invites/${three.body.code}`, { token: user.token })));
  const statuses = results.map((result) => result.status).sort();
  t.same(statuses, [200, 200, 200, 404, 404, 404, 404, 404], 'exactly max_uses joins succeed');
  t.equal(await app.db.oneFirst(sql.type(usesSchema)`SELECT uses FROM guild_invites WHERE code = ${three.body.code}`), 3);
  const guildNow = await api('GET', `/api/v1/guilds/${guild.id}`, { token: owner.token });
  t.equal(guildNow.body.member_count, 5, 'owner + 1 + 3 members, nobody else');
});

t.test('invites: an expired code is 404', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const invite = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token, body: { expires_in: 60 } });
  t.equal(invite.status, 201);
  t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`, { token: (await register(api)).token })).status, 200, 'valid before it expires');
  await app.db.query(sql.type(noRows)`
    UPDATE guild_invites SET expires_at = now() - interval '1 second' WHERE code = ${invite.body.code}`);
  const late = await register(api);
  const expired = await api('POST', `/api/v1/invites/${invite.body.code}`, { token: late.token });
  t.equal(expired.status, 404);
  t.equal(expired.body.code, 'not_found');
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: late.token })).status, 404, 'nothing was joined');
});

// ───────────────────────────── kick and leave ─────────────────────────────

t.test('kick: needs KICK_MEMBERS and a higher rank; the kicked member loses access at once', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, generalId } = await createGuild(api);
  const moderator = await joinGuild(api, guild.id, owner);
  const otherModerator = await joinGuild(api, guild.id, owner);
  const member = await joinGuild(api, guild.id, owner);
  const bystander = await joinGuild(api, guild.id, owner);
  const modRole = await createRole(api, guild.id, owner, 'moderator', '16');
  await assignRole(api, guild.id, owner, moderator.user.id, modRole);
  await assignRole(api, guild.id, owner, otherModerator.user.id, modRole);
  const outsider = await register(api);
  const kick = (by: { token: string }, userId: string) => api('DELETE', `/api/v1/guilds/${guild.id}/members/${userId}`, { token: by.token });

  const sent = await api('POST', `/api/v1/channels/${generalId}/messages`, { token: member.token, body: { content: 'hello' } });
  t.equal(sent.status, 201, 'a member can post in general');
  t.equal((await api('GET', `/api/v1/channels/${generalId}/messages`, { token: member.token })).status, 200);

  t.equal((await kick(bystander, member.user.id)).status, 403, 'KICK_MEMBERS is needed');
  t.equal((await kick(outsider, member.user.id)).status, 404, 'an outsider sees no guild');
  t.equal((await kick(moderator, otherModerator.user.id)).status, 403, 'an equal rank cannot be kicked');
  t.equal((await kick(moderator, owner.user.id)).status, 403, 'the owner cannot be kicked');
  t.equal((await kick(moderator, outsider.user.id)).status, 404, 'a non-member is 404');
  t.equal((await kick(moderator, MISSING_ID)).status, 404);

  const recorded = recordEvents(app.events);
  t.equal((await kick(moderator, member.user.id)).status, 204);
  recorded.stop();
  const event = recorded.events[0];
  // seqs: the kick's slot in every channel of the guild (a shared bus delivers it before anything committed after it).
  t.same(event, {
    type: 'guild.member_left',
    guild_id: guild.id,
    user_id: member.user.id,
    reason: 'kicked',
    channel_ids: [generalId],
    seqs: { [generalId]: slotIn(event, generalId) },
  });
  t.match(slotIn(event, generalId), { id: /^\d+$/ });

  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: member.token })).status, 404, 'guild routes are 404 at once');
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: member.token })).status, 404);
  t.equal((await api('GET', `/api/v1/channels/${generalId}/messages`, { token: member.token })).status, 404, 'so is the channel history');
  t.equal((await api('GET', `/api/v1/channels/${generalId}`, { token: member.token })).status, 404);
  t.equal(
    (await api('POST', `/api/v1/channels/${generalId}/messages`, { token: member.token, body: { content: 'still here?' } })).status,
    404,
  );
  t.same(await guildChannelAccess(app.db, member.user.id, { id: generalId, guild_id: guild.id }), {
    canView: false,
    canSend: false,
    canManageMessages: false,
    canManageChannel: false,
  });
  t.equal((await kick(moderator, member.user.id)).status, 404, 'kicking twice is 404');

  await joinGuild(api, guild.id, owner, member);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: member.token })).status, 200, 'a kicked user may rejoin');

  t.equal((await kick(owner, otherModerator.user.id)).status, 204, 'the owner outranks everyone');
});

t.test('leave: a member removes themself; the owner cannot', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const recorded = recordEvents(app.events);
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${member.user.id}`, { token: member.token })).status, 204);
  recorded.stop();
  t.equal(recorded.events[0]?.type === 'guild.member_left' && recorded.events[0].reason, 'left');
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: member.token })).status, 404);
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${owner.user.id}`, { token: owner.token })).status, 403);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: owner.token })).body.member_count, 1);
});

// ───────────────────────────── bans ─────────────────────────────

t.test('bans: ban removes the member and blocks rejoining until unbanned', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, generalId } = await createGuild(api);
  const banner = await joinGuild(api, guild.id, owner);
  const member = await joinGuild(api, guild.id, owner);
  const plain = await joinGuild(api, guild.id, owner);
  const peer = await joinGuild(api, guild.id, owner);
  const banRole = await createRole(api, guild.id, owner, 'banner', '32');
  await assignRole(api, guild.id, owner, banner.user.id, banRole);
  await assignRole(api, guild.id, owner, peer.user.id, banRole);
  const outsider = await register(api);
  const invite = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token });
  const ban = (by: { token: string }, userId: string, body?: unknown) =>
    api('PUT', `/api/v1/guilds/${guild.id}/bans/${userId}`, { token: by.token, ...(body ? { body } : {}) });

  t.equal((await ban(plain, member.user.id)).status, 403, 'BAN_MEMBERS is needed');
  t.equal((await ban(outsider, member.user.id)).status, 404);
  t.equal((await ban(banner, banner.user.id)).status, 403, 'nobody bans themself');
  t.equal((await ban(banner, owner.user.id)).status, 403, 'the owner cannot be banned');
  t.equal((await ban(banner, peer.user.id)).status, 403, 'an equal rank cannot be banned');
  t.equal((await ban(banner, MISSING_ID)).status, 404, 'an unknown user is 404');
  t.equal((await ban(banner, member.user.id, { reason: '' })).status, 400, 'an empty reason is 400');

  const recorded = recordEvents(app.events);
  t.equal((await ban(banner, member.user.id, { reason: 'Spam.' })).status, 204);
  recorded.stop();
  t.same(recorded.events, [
    {
      type: 'guild.member_left',
      guild_id: guild.id,
      user_id: member.user.id,
      reason: 'banned',
      channel_ids: [generalId],
      seqs: { [generalId]: slotIn(recorded.events[0], generalId) },
    },
  ]);
  t.match(slotIn(recorded.events[0], generalId), { id: /^\d+$/ });
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}`, { token: member.token })).status, 404, 'the banned member is out at once');
  t.equal((await api('GET', `/api/v1/channels/${generalId}/messages`, { token: member.token })).status, 404);
  const rejoin = await api('POST', `/api/v1/invites/${invite.body.code}`, { token: member.token });
  t.equal(rejoin.status, 403, 'a banned user cannot rejoin, even with a valid invite');
  t.equal(rejoin.body.code, 'forbidden');

  t.equal((await ban(banner, outsider.user.id)).status, 204, 'a non-member can be banned');
  t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`, { token: outsider.token })).status, 403);
  t.equal((await ban(banner, member.user.id, { reason: 'Spam, again.' })).status, 204, 'banning again is fine');

  const bans = await api('GET', `/api/v1/guilds/${guild.id}/bans`, { token: banner.token });
  t.equal(bans.status, 200);
  t.same(
    bans.body.items.map((item: { user: { id: string }; reason: string | null }) => [item.user.id, item.reason]),
    [
      [member.user.id, 'Spam, again.'],
      [outsider.user.id, null],
    ],
    'ordered by ban time; a re-ban replaces the reason',
  );
  const paged = await api('GET', `/api/v1/guilds/${guild.id}/bans?limit=1`, { token: owner.token });
  t.equal(paged.body.items.length, 1);
  const rest = await api('GET', `/api/v1/guilds/${guild.id}/bans?limit=1&cursor=${paged.body.next_cursor}`, { token: owner.token });
  t.equal(rest.body.items[0].user.id, outsider.user.id);
  t.equal(rest.body.next_cursor, null);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/bans`, { token: plain.token })).status, 403);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/bans`, { token: member.token })).status, 404);

  const unban = (by: { token: string }, userId: string) => api('DELETE', `/api/v1/guilds/${guild.id}/bans/${userId}`, { token: by.token });
  t.equal((await unban(plain, member.user.id)).status, 403);
  t.equal((await unban(banner, member.user.id)).status, 204);
  t.equal((await unban(banner, member.user.id)).status, 404, 'a user who is not banned is 404');
  t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`, { token: member.token })).status, 200, 'unbanned, they may rejoin');
  t.equal((await api('GET', `/api/v1/channels/${generalId}/messages`, { token: member.token })).status, 200);
});

// ───────────────────────────── roles ─────────────────────────────

t.test('roles: create, list, update, delete, with @everyone immutable', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, everyoneId } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);
  const roles = `/api/v1/guilds/${guild.id}/roles`;

  const recorded = recordEvents(app.events);
  const created = await api('POST', roles, { token: owner.token, body: { name: ' moderator ' } });
  t.equal(created.status, 201);
  t.match(created.body, { name: 'moderator', permissions: '0', position: 1, is_default: false, guild_id: guild.id });
  const modId = created.body.id;
  recorded.stop();
  t.same(recorded.events, [{ type: 'guild.roles_changed', guild_id: guild.id, role_id: modId, action: 'created', user_id: null }]);

  t.equal((await api('POST', roles, { token: owner.token, body: { name: 'MODERATOR' } })).status, 409, 'names are unique case-insensitively');
  t.equal((await api('POST', roles, { token: owner.token, body: { name: '@Everyone' } })).status, 409);
  t.equal((await api('POST', roles, { token: owner.token, body: { name: 'x', permissions: '512' } })).status, 400, 'an unknown bit');
  t.equal((await api('POST', roles, { token: owner.token, body: { name: 'x', permissions: 'all' } })).status, 400);
  t.equal((await api('POST', roles, { token: owner.token, body: { name: 'x', position: 3 } })).status, 400, 'position is not settable here');
  t.equal((await api('POST', roles, { token: member.token, body: { name: 'x' } })).status, 403, 'MANAGE_ROLES is needed');
  t.equal((await api('POST', roles, { token: outsider.token, body: { name: 'x' } })).status, 404);

  const updated = await api('PATCH', `${roles}/${modId}`, {
    token: owner.token,
    body: { name: 'mods', permissions: '55', position: 3 },
  });
  t.equal(updated.status, 200);
  t.match(updated.body, { id: modId, name: 'mods', permissions: '55', position: 3 });
  const helper = await api('POST', roles, { token: owner.token, body: { name: 'helper', permissions: '4' } });

  const listed = await api('GET', roles, { token: member.token });
  t.same(
    listed.body.items.map((role: { name: string }) => role.name),
    ['mods', 'helper', '@everyone'],
    'highest position first',
  );
  t.equal((await api('GET', roles, { token: outsider.token })).status, 404);

  const everyone = `${roles}/${everyoneId}`;
  t.equal((await api('PATCH', everyone, { token: owner.token, body: { name: 'all' } })).status, 403, '@everyone cannot be renamed');
  t.equal((await api('PATCH', everyone, { token: owner.token, body: { position: 2 } })).status, 403, '@everyone cannot be moved');
  const everyonePerms = await api('PATCH', everyone, { token: owner.token, body: { permissions: '1' } });
  t.equal(everyonePerms.status, 200, 'its permissions may change');
  t.match(everyonePerms.body, { name: '@everyone', position: 0, permissions: '1' });
  t.equal((await api('DELETE', everyone, { token: owner.token })).status, 403, '@everyone cannot be deleted');

  t.equal((await api('PATCH', `${roles}/${helper.body.id}`, { token: owner.token, body: { name: 'Mods' } })).status, 409);
  t.equal((await api('PATCH', `${roles}/${helper.body.id}`, { token: owner.token, body: {} })).status, 400);
  t.equal((await api('PATCH', `${roles}/${helper.body.id}`, { token: owner.token, body: { position: 0 } })).status, 400);
  t.equal((await api('PATCH', `${roles}/${helper.body.id}`, { token: owner.token, body: { is_default: true } })).status, 400);
  t.equal((await api('PATCH', `${roles}/${MISSING_ID}`, { token: owner.token, body: { name: 'x' } })).status, 404);
  t.equal((await api('PATCH', `${roles}/${helper.body.id}`, { token: member.token, body: { name: 'x' } })).status, 403);

  // A role deleted disappears from its members and from channel overwrites.
  await assignRole(api, guild.id, owner, member.user.id, helper.body.id);
  const channel = await api('POST', `/api/v1/guilds/${guild.id}/channels`, {
    token: owner.token,
    body: { name: 'helpers', permission_overwrites: [{ role_id: helper.body.id, allow: '1', deny: '0' }] },
  });
  t.equal(channel.status, 201);
  t.equal((await api('DELETE', `${roles}/${helper.body.id}`, { token: member.token })).status, 403);
  t.equal((await api('DELETE', `${roles}/${helper.body.id}`, { token: owner.token })).status, 204);
  t.equal((await api('DELETE', `${roles}/${helper.body.id}`, { token: owner.token })).status, 404);
  const members = await api('GET', `/api/v1/guilds/${guild.id}/members`, { token: owner.token });
  t.same(members.body.items.find((item: { user: { id: string } }) => item.user.id === member.user.id).role_ids, []);
  const after = await api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token });
  t.same(after.body.items.find((item: { id: string }) => item.id === channel.body.id).permission_overwrites, []);
});

t.test('roles: a role of another guild is 404 here', async (t) => {
  const { api } = await build(t);
  const { owner, guild } = await createGuild(api);
  const other = await createGuild(api, owner, 'second');
  const foreign = await createRole(api, other.guild.id, owner, 'foreign', '0');
  t.equal((await api('PATCH', `/api/v1/guilds/${guild.id}/roles/${foreign}`, { token: owner.token, body: { name: 'x' } })).status, 404);
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/roles/${foreign}`, { token: owner.token })).status, 404);
  t.equal((await api('PUT', `/api/v1/guilds/${guild.id}/members/${owner.user.id}/roles/${foreign}`, { token: owner.token })).status, 404);
});

t.test('role assignment and the rank rule: nobody promotes themself', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild, everyoneId, generalId } = await createGuild(api);
  const manager = await joinGuild(api, guild.id, owner);
  const member = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);
  // manager: MANAGE_ROLES | KICK_MEMBERS at position 3; senior at 5; junior at 1.
  const managerRole = await createRole(api, guild.id, owner, 'manager', '80', 3);
  const seniorRole = await createRole(api, guild.id, owner, 'senior', '0', 5);
  const juniorRole = await createRole(api, guild.id, owner, 'junior', '0', 1);
  await assignRole(api, guild.id, owner, manager.user.id, managerRole);
  const path = (userId: string, roleId: string) => `/api/v1/guilds/${guild.id}/members/${userId}/roles/${roleId}`;

  const recorded = recordEvents(app.events);
  t.equal((await api('PUT', path(member.user.id, juniorRole), { token: manager.token })).status, 204, 'a role below my rank');
  recorded.stop();
  t.same(recorded.events, [
    {
      type: 'guild.roles_changed',
      guild_id: guild.id,
      role_id: juniorRole,
      action: 'assigned',
      user_id: member.user.id,
      seqs: { [generalId]: slotIn(recorded.events[0], generalId) },
    },
  ]);
  t.match(slotIn(recorded.events[0], generalId), { id: /^\d+$/ });
  t.equal((await api('PUT', path(member.user.id, juniorRole), { token: manager.token })).status, 204, 'idempotent');
  const listed = await api('GET', `/api/v1/guilds/${guild.id}/members`, { token: member.token });
  t.same(listed.body.items.find((item: { user: { id: string } }) => item.user.id === member.user.id).role_ids, [juniorRole]);

  t.equal((await api('PUT', path(manager.user.id, seniorRole), { token: manager.token })).status, 403, 'no self-promotion above my rank');
  t.equal((await api('PUT', path(manager.user.id, managerRole), { token: manager.token })).status, 403, 'nor to my own rank');
  t.equal((await api('PUT', path(member.user.id, managerRole), { token: manager.token })).status, 403);
  t.equal((await api('PUT', path(member.user.id, everyoneId), { token: owner.token })).status, 403, '@everyone is implicit');
  t.equal((await api('DELETE', path(member.user.id, everyoneId), { token: owner.token })).status, 403);
  t.equal((await api('PUT', path(outsider.user.id, juniorRole), { token: owner.token })).status, 404, 'a non-member is 404');
  t.equal((await api('PUT', path(member.user.id, MISSING_ID), { token: owner.token })).status, 404, 'an unknown role is 404');
  t.equal((await api('PUT', path(member.user.id, juniorRole), { token: member.token })).status, 403, 'MANAGE_ROLES is needed');
  t.equal((await api('PUT', path(member.user.id, juniorRole), { token: outsider.token })).status, 404);

  const roles = `/api/v1/guilds/${guild.id}/roles`;
  t.equal((await api('PATCH', `${roles}/${managerRole}`, { token: manager.token, body: { permissions: '511' } })).status, 403, 'not my own role');
  t.equal((await api('PATCH', `${roles}/${seniorRole}`, { token: manager.token, body: { name: 'x' } })).status, 403, 'not a higher role');
  t.equal((await api('PATCH', `${roles}/${juniorRole}`, { token: manager.token, body: { position: 3 } })).status, 403, 'not up to my rank');
  t.equal((await api('PATCH', `${roles}/${juniorRole}`, { token: manager.token, body: { position: 2 } })).status, 200, 'below it is fine');
  t.equal(
    (await api('PATCH', `${roles}/${juniorRole}`, { token: manager.token, body: { permissions: '256' } })).status,
    403,
    'no granting ADMINISTRATOR I lack',
  );
  t.equal(
    (await api('PATCH', `${roles}/${juniorRole}`, { token: manager.token, body: { permissions: '16' } })).status,
    200,
    'granting what I have is fine',
  );
  t.equal((await api('POST', roles, { token: manager.token, body: { name: 'sneaky', permissions: '128' } })).status, 403, 'create: only my permissions');
  const mine = await api('POST', roles, { token: manager.token, body: { name: 'kickers', permissions: '16' } });
  t.equal(mine.status, 201);
  t.equal((await api('DELETE', `${roles}/${seniorRole}`, { token: manager.token })).status, 403, 'not a higher role');
  t.equal((await api('DELETE', `${roles}/${mine.body.id}`, { token: manager.token })).status, 204);

  // With a role now, the member outranks nobody the manager cannot kick — and the rank protects them from equals.
  t.equal((await api('DELETE', path(member.user.id, juniorRole), { token: manager.token })).status, 204);
  t.equal((await api('DELETE', path(member.user.id, juniorRole), { token: manager.token })).status, 404, 'a role the member lacks is 404');
  await assignRole(api, guild.id, owner, member.user.id, seniorRole);
  t.equal((await api('DELETE', path(member.user.id, seniorRole), { token: manager.token })).status, 403, 'cannot take a higher role');
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${member.user.id}`, { token: manager.token })).status, 403, 'cannot kick a higher rank');
  t.equal((await api('DELETE', path(member.user.id, seniorRole), { token: owner.token })).status, 204, 'the owner can');
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${member.user.id}`, { token: manager.token })).status, 204, 'now the rank is lower');
});

t.test('a guild holds at most 250 roles (409 beyond)', async (t) => {
  const { app, api } = await build(t);
  const { owner, guild } = await createGuild(api);
  await app.db.query(sql.type(noRows)`
    INSERT INTO guild_roles (guild_id, name, position)
    SELECT ${guild.id}, 'filler-' || n, 1 FROM generate_series(1, 248) AS n`);
  t.equal((await api('POST', `/api/v1/guilds/${guild.id}/roles`, { token: owner.token, body: { name: 'number-250' } })).status, 201);
  const over = await api('POST', `/api/v1/guilds/${guild.id}/roles`, { token: owner.token, body: { name: 'number-251' } });
  t.equal(over.status, 409);
  t.equal((await api('GET', `/api/v1/guilds/${guild.id}/roles`, { token: owner.token })).body.items.length, 250);
});

// ───────────────────────────── BOLA ─────────────────────────────

t.test('BOLA: every guild route is 404 for outsiders, kicked and banned users; 403 for members without the permission', async (t) => {
  const { api } = await build(t);
  const { owner, guild, everyoneId } = await createGuild(api);
  const member = await joinGuild(api, guild.id, owner);
  const kicked = await joinGuild(api, guild.id, owner);
  const banned = await joinGuild(api, guild.id, owner);
  const outsider = await register(api);
  const role = await createRole(api, guild.id, owner, 'role', '0');
  const g = `/api/v1/guilds/${guild.id}`;
  t.equal((await api('DELETE', `${g}/members/${kicked.user.id}`, { token: owner.token })).status, 204);
  t.equal((await api('PUT', `${g}/bans/${banned.user.id}`, { token: owner.token })).status, 204);

  const routes: { method: string; url: string; body?: unknown; permission: boolean }[] = [
    { method: 'GET', url: g, permission: false },
    { method: 'PATCH', url: g, body: { name: 'x' }, permission: true },
    { method: 'DELETE', url: g, permission: true },
    { method: 'GET', url: `${g}/channels`, permission: false },
    { method: 'POST', url: `${g}/channels`, body: { name: 'x' }, permission: true },
    { method: 'GET', url: `${g}/members`, permission: false },
    { method: 'DELETE', url: `${g}/members/${owner.user.id}`, permission: true },
    { method: 'GET', url: `${g}/bans`, permission: true },
    { method: 'PUT', url: `${g}/bans/${member.user.id}`, permission: true },
    { method: 'DELETE', url: `${g}/bans/${banned.user.id}`, permission: true },
    { method: 'POST', url: `${g}/invites`, permission: false },
    { method: 'GET', url: `${g}/roles`, permission: false },
    { method: 'POST', url: `${g}/roles`, body: { name: 'x' }, permission: true },
    { method: 'PATCH', url: `${g}/roles/${role}`, body: { name: 'y' }, permission: true },
    { method: 'DELETE', url: `${g}/roles/${role}`, permission: true },
    { method: 'PUT', url: `${g}/members/${member.user.id}/roles/${role}`, permission: true },
    { method: 'DELETE', url: `${g}/members/${member.user.id}/roles/${role}`, permission: true },
  ];
  for (const route of routes) {
    const label = `${route.method} ${route.url.replace(guild.id, '{guild}')}`;
    const options = route.body === undefined ? {} : { body: route.body };
    for (const [who, user] of [
      ['outsider', outsider],
      ['kicked', kicked],
      ['banned', banned],
    ] as const) {
      const response = await api(route.method, route.url, { token: user.token, ...options });
      t.equal(response.status, 404, `${label}: ${who} gets 404`);
    }
    const missing = await api(route.method, route.url.replace(guild.id, '999999999999999999'), { token: owner.token, ...options });
    t.equal(missing.status, 404, `${label}: a missing guild is 404`);
    if (route.permission) {
      const response = await api(route.method, route.url, { token: member.token, ...options });
      t.equal(response.status, 403, `${label}: a member without the permission gets 403`);
    }
  }
  t.equal((await api('GET', g, { token: member.token })).status, 200, 'the member still sees the guild');
  t.ok(everyoneId, 'the guild has its @everyone role');
});
