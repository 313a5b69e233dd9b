import type { CommonQueryMethods } from 'slonik';
import {
  effectivePermissions,
  hasPermission,
  MANAGE_CHANNELS,
  MANAGE_MESSAGES,
  rankOf,
  SEND_MESSAGES,
  VIEW_CHANNEL,
  type ChannelOverwrite,
} from '../domain/permissions.ts';
import * as guilds from '../repositories/guilds-repository.ts';

/**
 * Who may do what in guilds and their text channels. Every answer comes from the database at the
 * moment of the call (no caching), so a kick, ban or role change takes effect on the next request.
 */
export interface GuildChannelAccess {
  canView: boolean;
  canSend: boolean;
  canManageMessages: boolean;
  canManageChannel: boolean;
}

const NO_ACCESS: GuildChannelAccess = { canView: false, canSend: false, canManageMessages: false, canManageChannel: false };

export interface GuildRoleRef {
  id: string;
  permissions: bigint;
  position: number;
}

/** A guild member as the permission function sees them. */
export interface GuildMemberContext {
  guildId: string;
  userId: string;
  ownerId: string;
  isOwner: boolean;
  everyone: GuildRoleRef;
  /** The member's roles other than `@everyone`. */
  roles: GuildRoleRef[];
  /** Guild-level effective permissions (no channel overwrites). */
  permissions: bigint;
  /** The highest position among the member's roles (0 with none). */
  rank: number;
  /** Every role of the guild, `@everyone` included. */
  guildRoleIds: ReadonlySet<string>;
}

function toContext(row: guilds.UserGuildContext, userId: string): GuildMemberContext | null {
  const all = row.roles.map((role) => ({
    id: role.id,
    permissions: BigInt(role.permissions),
    position: role.position,
    isDefault: role.is_default,
  }));
  const everyoneRow = all.find((role) => role.isDefault);
  if (!everyoneRow) return null;
  const everyone = { id: everyoneRow.id, permissions: everyoneRow.permissions, position: 0 };
  const roles = all.filter((role) => !role.isDefault).map(({ isDefault: _d, ...role }) => role);
  const isOwner = row.owner_id === userId;
  return {
    guildId: row.guild_id,
    userId,
    ownerId: row.owner_id,
    isOwner,
    everyone,
    roles,
    permissions: effectivePermissions({ isOwner, everyone, memberRoles: roles }),
    rank: rankOf(roles),
    guildRoleIds: new Set(row.guild_role_ids),
  };
}

/** The caller's membership of a guild, or null when they are not a member (or are banned). */
export async function loadGuildMember(db: CommonQueryMethods, guildId: string, userId: string): Promise<GuildMemberContext | null> {
  const rows = await guilds.userGuildContexts(db, userId, guildId);
  return rows[0] ? toContext(rows[0], userId) : null;
}

const toOverwrites = (rows: readonly guilds.OverwriteRow[]): ChannelOverwrite[] =>
  rows.map((row) => ({ role_id: row.role_id, allow: BigInt(row.allow), deny: BigInt(row.deny) }));

/** A member's effective permissions in one channel of their guild. */
export function channelPermissions(member: GuildMemberContext, overwrites: readonly guilds.OverwriteRow[]): bigint {
  return effectivePermissions({
    isOwner: member.isOwner,
    everyone: member.everyone,
    memberRoles: member.roles,
    overwrites: toOverwrites(overwrites),
  });
}

/** Without VIEW_CHANNEL a member can do nothing in a channel. */
export function accessFromPermissions(permissions: bigint): GuildChannelAccess {
  if (!hasPermission(permissions, VIEW_CHANNEL)) return NO_ACCESS;
  return {
    canView: true,
    canSend: hasPermission(permissions, SEND_MESSAGES),
    canManageMessages: hasPermission(permissions, MANAGE_MESSAGES),
    canManageChannel: hasPermission(permissions, MANAGE_CHANNELS),
  };
}

/**
 * What a user may do in a guild text channel: non-members and banned users get nothing; members
 * get what their effective permissions in that channel allow.
 */
export async function guildChannelAccess(
  db: CommonQueryMethods,
  userId: string,
  channel: { id: string; guild_id: string },
): Promise<GuildChannelAccess> {
  const member = await loadGuildMember(db, channel.guild_id, userId);
  if (!member) return NO_ACCESS;
  const overwrites = await guilds.listOverwrites(db, [channel.id]);
  return accessFromPermissions(channelPermissions(member, overwrites));
}

/**
 * Every guild text channel the user can view right now (VIEW_CHANNEL), ordered by id: for
 * conversation lists, search scoping and gateway subscriptions.
 */
export async function viewableGuildChannelIds(db: CommonQueryMethods, userId: string): Promise<string[]> {
  const contexts = await guilds.userGuildContexts(db, userId);
  if (contexts.length === 0) return [];
  const members = new Map<string, GuildMemberContext>();
  for (const row of contexts) {
    const member = toContext(row, userId);
    if (member) members.set(member.guildId, member);
  }
  const channels = await guilds.channelsOfUserGuilds(db, userId);
  const overwrites = await guilds.listOverwrites(
    db,
    channels.map((channel) => channel.id),
  );
  const byChannel = new Map<string, guilds.OverwriteRow[]>();
  for (const row of overwrites) {
    const list = byChannel.get(row.channel_id) ?? [];
    list.push(row);
    byChannel.set(row.channel_id, list);
  }
  return channels
    .filter((channel) => {
      const member = members.get(channel.guild_id);
      return member !== undefined && hasPermission(channelPermissions(member, byChannel.get(channel.id) ?? []), VIEW_CHANNEL);
    })
    .map((channel) => channel.id);
}
