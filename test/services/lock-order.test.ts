// The LOCK ORDER of src/repositories/channels-repository.ts, exercised: sends (group-committed, so
// one transaction locks several channels of the guild), kicks, bans, joins, role changes, member
// roles and channel overwrites run at the same time in a loop, on a real PostgreSQL. A cycle of
// waits would be a deadlock (40P01): Slonik retries the transaction, so the answer may still be
// fine, but PostgreSQL counts every deadlock it broke in pg_stat_database, read at the end (after
// the app's connections have ended, which flushes their statistics).
import pg from 'pg';
import t from 'tap';
import { build, register, type ApiResponse, type Registered } from '../helpers/build.ts';
import { assignRole, createGuild, createRole, joinGuild } from '../helpers/guilds.ts';

const ROUNDS = 12;
const CHANNELS = 4;
const VIEW_CHANNEL = 1;

t.test('concurrent sends, kicks, bans, joins and role changes in one guild: no deadlock, no 500', async (t) => {
  const { api, app, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 6 });
  const setup = await createGuild(api);
  const { owner, guild } = setup;
  const channelIds = [setup.generalId];
  for (let index = 1; index < CHANNELS; index += 1) {
    const created = await api('POST', `/api/v1/guilds/${guild.id}/channels`, { token: owner.token, body: { name: `c${index}` } });
    t.equal(created.status, 201);
    channelIds.push(created.body.id);
  }
  const senders: Registered[] = [];
  for (let index = 0; index < 4; index += 1) senders.push(await joinGuild(api, guild.id, owner));
  const [kicked, banned, promoted] = [await joinGuild(api, guild.id, owner), await joinGuild(api, guild.id, owner), await joinGuild(api, guild.id, owner)];
  const roleId = await createRole(api, guild.id, owner, 'watchers', String(VIEW_CHANNEL));
  await assignRole(api, guild.id, owner, promoted.user.id, roleId);

  const statuses: number[] = [];
  const call = async (method: string, url: string, token: string, body?: unknown): Promise<ApiResponse> => {
    const response = await api(method, url, { token, ...(body === undefined ? {} : { body }) });
    statuses.push(response.status);
    return response;
  };
  const members = `/api/v1/guilds/${guild.id}/members`;
  const rejoin = async (user: Registered) => {
    const invite = await call('POST', `/api/v1/guilds/${guild.id}/invites`, owner.token);
    await call('POST', `/api/v1/invites/${invite.body.code}`, user.token);
  };

  for (let round = 0; round < ROUNDS; round += 1) {
    await Promise.all([
      // Sends in every channel at once: the group commit puts several of them in one transaction.
      ...senders.flatMap((sender, index) =>
        channelIds.map((channelId, offset) =>
          call('POST', `/api/v1/channels/${channelId}/messages`, sender.token, { content: `r${round} s${index} c${offset}` }),
        ),
      ),
      (async () => {
        await call('DELETE', `${members}/${kicked.user.id}`, owner.token);
        await rejoin(kicked);
      })(),
      (async () => {
        await call('PUT', `/api/v1/guilds/${guild.id}/bans/${banned.user.id}`, owner.token, { reason: 'loop' });
        await call('DELETE', `/api/v1/guilds/${guild.id}/bans/${banned.user.id}`, owner.token);
        await rejoin(banned);
      })(),
      (async () => {
        await call('DELETE', `${members}/${promoted.user.id}/roles/${roleId}`, owner.token);
        await call('PUT', `${members}/${promoted.user.id}/roles/${roleId}`, owner.token);
      })(),
      call('PATCH', `/api/v1/guilds/${guild.id}/roles/${roleId}`, owner.token, { permissions: String(round % 2 === 0 ? 0 : VIEW_CHANNEL) }),
      call('PATCH', `/api/v1/channels/${channelIds[round % CHANNELS]}`, owner.token, {
        permission_overwrites: round % 2 === 0 ? [{ role_id: roleId, allow: String(VIEW_CHANNEL), deny: '0' }] : [],
      }),
      (async () => {
        // Deleting a channel's last message moves last_message_id, then takes the slot: two updates
        // of the channel row, which makes PostgreSQL check its guild_id foreign key (KEY SHARE).
        const channelId = channelIds[(round + 1) % CHANNELS]!;
        const own = await call('POST', `/api/v1/channels/${channelId}/messages`, senders[0]!.token, { content: `edit me ${round}` });
        if (own.status !== 201) return;
        await call('PATCH', `/api/v1/channels/${channelId}/messages/${own.body.id}`, senders[0]!.token, { content: `edited ${round}` });
        await call('DELETE', `/api/v1/channels/${channelId}/messages/${own.body.id}`, senders[0]!.token);
      })(),
      (async () => {
        const temporary = await createRole(api, guild.id, owner, `temporary-${round}`, '0');
        await call('DELETE', `/api/v1/guilds/${guild.id}/roles/${temporary}`, owner.token);
      })(),
    ]);
  }

  // Last, the guild is deleted while its channels take sends (the cascade deletes them).
  await Promise.all([
    ...senders.flatMap((sender) => channelIds.map((channelId) => call('POST', `/api/v1/channels/${channelId}/messages`, sender.token, { content: 'at the end' }))),
    call('PATCH', `/api/v1/channels/${channelIds[1]}`, owner.token, { name: 'renamed at the end' }),
    call('DELETE', `/api/v1/guilds/${guild.id}`, owner.token),
  ]);

  t.same(
    statuses.filter((status) => status >= 500),
    [],
    'no request failed with a server error',
  );
  t.ok(statuses.filter((status) => status === 201).length >= ROUNDS * senders.length * CHANNELS, 'the sends were stored');

  // The app's connections end (their statistics are flushed as they exit), then the count is read.
  await app.close();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  t.teardown(() => client.end());
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const others = await client.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    if (others.rows[0]!.count === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const stats = await client.query<{ deadlocks: string }>(
    'SELECT deadlocks::text FROM pg_stat_database WHERE datname = current_database()',
  );
  t.equal(stats.rows[0]!.deadlocks, '0', 'PostgreSQL broke no deadlock');
});

t.test('the guild-wide events carry a slot in every channel of the guild, after the messages before them', async (t) => {
  const { api, app, databaseUrl } = await build(t);
  const setup = await createGuild(api);
  const second = await api('POST', `/api/v1/guilds/${setup.guild.id}/channels`, { token: setup.owner.token, body: { name: 'second' } });
  const member = await joinGuild(api, setup.guild.id, setup.owner);
  const seen: unknown[] = [];
  app.events.subscribe((event) => seen.push(event));
  const before = await api('POST', `/api/v1/channels/${second.body.id}/messages`, { token: member.token, body: { content: 'before' } });
  t.equal((await api('DELETE', `/api/v1/guilds/${setup.guild.id}/members/${member.user.id}`, { token: setup.owner.token })).status, 204);
  const left = seen.find((event) => (event as { type: string }).type === 'guild.member_left') as
    | { seqs: Record<string, { id: string; prev_id: string | null }> }
    | undefined;
  t.ok(left, 'guild.member_left published');
  t.same(Object.keys(left!.seqs).sort(), [setup.generalId, second.body.id].sort(), 'a slot in each channel');
  t.equal(left!.seqs[second.body.id]!.prev_id, before.body.id, 'right after the last message of that channel');
  const after = await register(api);
  t.ok(after.user.id, 'the app still serves');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  t.teardown(() => client.end());
  const row = await client.query<{ last: string }>('SELECT last_allocated_id::text AS last FROM channels WHERE id = $1', [second.body.id]);
  t.equal(row.rows[0]!.last, left!.seqs[second.body.id]!.id, "the slot is the channel's newest allocated id");
});
