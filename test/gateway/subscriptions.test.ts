// Subscriptions follow membership at once: joining (REST or the join frame) starts a channel's
// stream, leaving, removal, deletion, a kick, a ban or losing VIEW_CHANNEL stops it before the next event.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { createRoom, join, leave, openDm, send } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { assignRole, createGuild, createRole, joinGuild } from '../helpers/guilds.ts';

const contentsOf = (frames: { type: string }[]) =>
  frames.filter((frame) => frame.type === 'message_created').map((frame) => (frame as unknown as { message: { content: string } }).message.content);

t.test('ready lists every channel the user can read; events of other channels never arrive', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const mine = await createRoom(api, ada, { name: 'mine' });
  const theirs = await createRoom(api, bob, { name: 'theirs' });
  const secret = await createRoom(api, bob, { name: 'secret', visibility: 'private' });
  const dm = await openDm(api, ada, bob);
  const { client, ready } = await connectReady(t, baseUrl, ada.token);
  t.ok(ready.channel_ids.includes(mine.id), 'own room');
  t.ok(ready.channel_ids.includes(dm.id), 'DM');
  t.notOk(ready.channel_ids.includes(theirs.id), 'not a public room of which ada is no member');
  t.notOk(ready.channel_ids.includes(secret.id), 'not a private room');
  await send(api, bob, theirs.id, 'public but not joined');
  await send(api, bob, secret.id, 'private');
  await send(api, bob, dm.id, 'dm');
  t.match(await client.next('message_created'), { message: { content: 'dm' } });
  await client.request({ type: 'ping', ref: 'sync' });
  t.same(contentsOf(client.frames), ['dm'], 'only the DM message arrived');
});

t.test('join and leave over the socket and over REST start and stop the stream at once', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  await send(api, ada, room.id, 'before join');
  const joinAck = await bobWs.request({ type: 'join', ref: 'j', channel_id: room.id });
  t.same(joinAck, { type: 'ack', ref: 'j' });
  const joined = await bobWs.next('member_joined');
  t.match(joined, { channel_id: room.id, user: { id: bob.user.id } }, 'the joining user gets member_joined');
  t.notOk('email' in joined.user, 'the public user object');
  t.match(await adaWs.next('member_joined'), { channel_id: room.id, user: { id: bob.user.id } }, 'members see the join');
  t.ok(bobWs.frames.indexOf(joined) < bobWs.frames.indexOf(joinAck), 'subscribed before the ack');
  await send(api, ada, room.id, 'after join');
  t.match(await bobWs.next('message_created'), { message: { content: 'after join' } });

  t.same(await bobWs.request({ type: 'leave', ref: 'l', channel_id: room.id }), { type: 'ack', ref: 'l' });
  t.match(await bobWs.next('member_left'), { channel_id: room.id, user_id: bob.user.id }, 'the leaver gets member_left last');
  t.match(await adaWs.next('member_left'), { user_id: bob.user.id });
  await send(api, ada, room.id, 'after leave');
  await adaWs.next('message_created');
  await adaWs.next('message_created');
  await bobWs.request({ type: 'ping', ref: 'sync' });
  t.same(contentsOf(bobWs.frames), ['after join'], 'bob saw exactly what was sent while he was a member');

  // Over REST: the owner adds bob, then removes him.
  await join(api, room.id, bob, ada);
  t.match(await bobWs.next('member_joined'), { channel_id: room.id });
  await send(api, ada, room.id, 'added by the owner');
  t.match(await bobWs.next('message_created'), { message: { content: 'added by the owner' } });
  await leave(api, room.id, bob, ada);
  t.match(await bobWs.next('member_left'), { channel_id: room.id, user_id: bob.user.id });
  await send(api, ada, room.id, 'after removal');
  // Once a member has it, bob's copy (if any) was written before his pong.
  await adaWs.next((frame) => frame.type === 'message_created' && frame.message.content === 'after removal');
  await bobWs.expectNone((frame) => frame.type === 'message_created' && frame.message.content === 'after removal', 'nothing after removal');
});

t.test('a private room: adding starts, removing stops; a new DM is announced to both', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token, { name: 'bob' });
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  const secret = await createRoom(api, ada, { name: 'secret', visibility: 'private' });
  t.match(await adaWs.next('channel_created'), { channel: { id: secret.id, visibility: 'private' } }, 'the creator is told');
  await send(api, ada, secret.id, 'alone');
  await join(api, secret.id, bob, ada);
  t.match(await bobWs.next('member_joined'), { channel_id: secret.id, user: { id: bob.user.id } });
  await send(api, ada, secret.id, 'with bob');
  t.match(await bobWs.next('message_created'), { message: { content: 'with bob' } });

  const dm = await openDm(api, bob, ada);
  t.match(await adaWs.next('channel_created'), { channel: { id: dm.id, type: 'dm' } });
  t.match(await bobWs.next('channel_created'), { channel: { id: dm.id, type: 'dm' } });
  await send(api, ada, dm.id, 'psst');
  t.match(await bobWs.next('message_created'), { message: { content: 'psst', channel_id: dm.id } });
});

t.test('channel updates and deletion reach members; nothing of a deleted channel follows', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  await join(api, room.id, bob);
  const { client: bobWs } = await connectReady(t, baseUrl, bob.token);
  const renamed = await api('PATCH', `/api/v1/channels/${room.id}`, { token: ada.token, body: { name: 'renamed' } });
  t.equal(renamed.status, 200);
  t.same((await bobWs.next('channel_updated')).channel, renamed.body, 'channel_updated carries the REST channel');
  t.equal((await api('DELETE', `/api/v1/channels/${room.id}`, { token: ada.token })).status, 204);
  const deleted = await bobWs.next('channel_deleted');
  t.same({ ...deleted, seq: 0 }, { type: 'channel_deleted', seq: 0, channel_id: room.id }, 'no guild_id for a room');
});

t.test('guilds: a kicked or banned member sees nothing after it; members see them leave', async (t) => {
  const { api, baseUrl } = await build(t);
  const setup = await createGuild(api);
  const { owner, guild, generalId } = setup;
  const kate = await joinGuild(api, guild.id, owner);
  const { client: ownerWs } = await connectReady(t, baseUrl, owner.token, { name: 'owner' });
  const { client: kateWs, ready } = await connectReady(t, baseUrl, kate.token, { name: 'kate' });
  t.ok(ready.channel_ids.includes(generalId), "ready lists the guild's general");

  await send(api, owner, generalId, 'welcome');
  t.match(await kateWs.next('message_created'), { message: { content: 'welcome' } });

  const kicked = await api('DELETE', `/api/v1/guilds/${guild.id}/members/${kate.user.id}`, { token: owner.token });
  t.equal(kicked.status, 204);
  t.match(await kateWs.next('member_left'), { channel_id: generalId, user_id: kate.user.id }, 'the kicked member is told');
  t.match(await ownerWs.next('member_left'), { channel_id: generalId, user_id: kate.user.id }, 'members see it');
  // Right after the kick (no pause): nothing of the guild reaches her any more.
  await send(api, owner, generalId, 'after the kick');
  await ownerWs.next((frame) => frame.type === 'message_created' && frame.message.content === 'after the kick');
  await kateWs.request({ type: 'ping', ref: 'sync' });
  t.same(contentsOf(kateWs.frames), ['welcome'], 'the kicked member saw nothing after the kick');

  // She comes back with an invite: the stream restarts; then a ban stops it again.
  await joinGuild(api, guild.id, owner, kate);
  t.match(await kateWs.next('member_joined'), { channel_id: generalId, user: { id: kate.user.id } });
  await send(api, owner, generalId, 'welcome back');
  t.match(await kateWs.next('message_created'), { message: { content: 'welcome back' } });
  const banned = await api('PUT', `/api/v1/guilds/${guild.id}/bans/${kate.user.id}`, { token: owner.token, body: { reason: 'spam' } });
  t.equal(banned.status, 204, 'banned (204, the one documented success)');
  t.match(await kateWs.next('member_left'), { channel_id: generalId, user_id: kate.user.id });
  await send(api, owner, generalId, 'after the ban');
  await ownerWs.next((frame) => frame.type === 'message_created' && frame.message.content === 'after the ban');
  await kateWs.request({ type: 'ping', ref: 'sync2' });
  t.same(contentsOf(kateWs.frames), ['welcome', 'welcome back'], 'nothing after the ban');
});

t.test('guild channels follow VIEW_CHANNEL: new channels, overwrites and role changes', async (t) => {
  const { api, baseUrl } = await build(t);
  const { owner, guild, everyoneId } = await createGuild(api);
  const mia = await joinGuild(api, guild.id, owner);
  const { client: miaWs } = await connectReady(t, baseUrl, mia.token, { name: 'mia' });

  // A new channel everyone can see is announced and streamed.
  const lounge = await api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: 'lounge' } });
  t.equal(lounge.status, 201);
  t.same((await miaWs.next('channel_created')).channel, lounge.body, 'channel_created with the REST channel');
  await send(api, owner, lounge.body.id, 'in the lounge');
  t.match(await miaWs.next('message_created'), { message: { content: 'in the lounge' } });

  // A hidden channel (deny VIEW_CHANNEL to @everyone) is not announced, and its messages never arrive.
  const staff = await api('POST', `/api/v1/guilds/${guild.id}/channels`, {
    token: owner.token,
    body: { name: 'staff', permission_overwrites: [{ role_id: everyoneId, allow: '0', deny: '1' }] },
  });
  t.equal(staff.status, 201);
  await send(api, owner, staff.body.id, 'staff only');

  // A role with an overwrite allowing VIEW_CHANNEL, given to mia, opens it for her.
  const roleId = await createRole(api, guild.id, owner, 'staff', '3');
  const opened = await api('PATCH', `/api/v1/channels/${staff.body.id}`, {
    token: owner.token,
    body: { permission_overwrites: [{ role_id: everyoneId, allow: '0', deny: '1' }, { role_id: roleId, allow: '1', deny: '0' }] },
  });
  t.equal(opened.status, 200);
  await assignRole(api, guild.id, owner, mia.user.id, roleId);
  t.match(await miaWs.next('member_joined'), { channel_id: staff.body.id, user: { id: mia.user.id } }, 'mia gains the channel');
  await send(api, owner, staff.body.id, 'staff meeting');
  t.match(await miaWs.next('message_created'), { message: { content: 'staff meeting' } });

  // Taking the role away stops it before the next message.
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${mia.user.id}/roles/${roleId}`, { token: owner.token })).status, 204);
  await send(api, owner, staff.body.id, 'after demotion');
  t.match(await miaWs.next('member_left'), { channel_id: staff.body.id, user_id: mia.user.id }, 'mia loses the channel');
  await send(api, owner, lounge.body.id, 'lounge again');
  t.match(await miaWs.next('message_created'), { message: { content: 'lounge again' } });
  t.same(
    contentsOf(miaWs.frames),
    ['in the lounge', 'staff meeting', 'lounge again'],
    'mia never saw a message of the staff channel while she could not view it',
  );

  // Deleting the guild ends every stream of it.
  t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}`, { token: owner.token })).status, 204);
  const deleted = await miaWs.next('channel_deleted');
  t.equal(deleted.guild_id, guild.id, 'channel_deleted names the guild');
});

t.test('a join immediately followed by a kick leaves nothing subscribed', async (t) => {
  const { api, baseUrl } = await build(t);
  const { owner, guild, generalId } = await createGuild(api);
  const kate = await register(api);
  const { client: kateWs } = await connectReady(t, baseUrl, kate.token, { name: 'kate' });
  const { client: ownerWs } = await connectReady(t, baseUrl, owner.token, { name: 'owner' });
  for (let round = 0; round < 3; round += 1) {
    const invite = await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token });
    // Join and kick back to back, without waiting for any frame in between.
    t.equal((await api('POST', `/api/v1/invites/${invite.body.code}`, { token: kate.token })).status, 200);
    t.equal((await api('DELETE', `/api/v1/guilds/${guild.id}/members/${kate.user.id}`, { token: owner.token })).status, 204);
    await send(api, owner, generalId, `after kick ${round}`);
    await ownerWs.next((frame) => frame.type === 'message_created' && frame.message.content === `after kick ${round}`);
  }
  await kateWs.request({ type: 'ping', ref: 'sync' });
  t.same(contentsOf(kateWs.frames), [], 'kate never saw a message after a kick');
  const left = kateWs.events('member_left').length;
  t.equal(left, kateWs.events('member_joined').length, 'every member_joined she got is followed by a member_left');
});
