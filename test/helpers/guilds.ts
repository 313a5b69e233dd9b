import { register, type ApiClient, type Registered } from './build.ts';

/** Guild test helpers: every step asserts its own status so a broken setup fails loudly. */
export interface GuildSetup {
  owner: Registered;
  guild: { id: string; name: string; owner_id: string; member_count: number };
  generalId: string;
  everyoneId: string;
}

async function expectStatus(response: Promise<{ status: number; text: string; body: any }>, status: number, what: string) {
  const result = await response;
  if (result.status !== status) throw new Error(`${what}: expected ${status}, got ${result.status} ${result.text}`);
  return result.body;
}

export async function createGuild(api: ApiClient, owner?: Registered, name = 'Lovelace Society'): Promise<GuildSetup> {
  const creator = owner ?? (await register(api));
  const guild = await expectStatus(api('POST', '/api/v1/guilds', { token: creator.token, body: { name } }), 201, 'create guild');
  const channels = await expectStatus(
    api('GET', `/api/v1/guilds/${guild.id}/channels`, { token: creator.token }),
    200,
    'list guild channels',
  );
  const roles = await expectStatus(api('GET', `/api/v1/guilds/${guild.id}/roles`, { token: creator.token }), 200, 'list roles');
  return {
    owner: creator,
    guild,
    generalId: channels.items[0].id,
    everyoneId: roles.items.find((role: { is_default: boolean }) => role.is_default).id,
  };
}

/** A new user (or the given one) who joins the guild through a fresh invite made by `inviter`. */
export async function joinGuild(api: ApiClient, guildId: string, inviter: Registered, user?: Registered): Promise<Registered> {
  const member = user ?? (await register(api));
  const invite = await expectStatus(api('POST', `/api/v1/guilds/${guildId}/invites`, { token: inviter.token }), 201, 'create invite');
  await expectStatus(api('POST', `/api/v1/invites/${invite.code}`, { token: member.token }), 200, 'join by invite');
  return member;
}

/** Creates a role (as `by`, default the owner) and returns its id. */
export async function createRole(
  api: ApiClient,
  guildId: string,
  by: Registered,
  name: string,
  permissions: string,
  position?: number,
): Promise<string> {
  const role = await expectStatus(
    api('POST', `/api/v1/guilds/${guildId}/roles`, { token: by.token, body: { name, permissions } }),
    201,
    `create role ${name}`,
  );
  if (position !== undefined && position !== 1) {
    await expectStatus(
      api('PATCH', `/api/v1/guilds/${guildId}/roles/${role.id}`, { token: by.token, body: { position } }),
      200,
      `move role ${name}`,
    );
  }
  return role.id;
}

export async function assignRole(api: ApiClient, guildId: string, by: Registered, userId: string, roleId: string): Promise<void> {
  await expectStatus(
    api('PUT', `/api/v1/guilds/${guildId}/members/${userId}/roles/${roleId}`, { token: by.token }),
    204,
    'assign role',
  );
}

/** A snowflake-shaped id that names nothing. */
export const MISSING_ID = '999999999999999999';
