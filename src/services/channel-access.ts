import type { CommonQueryMethods } from 'slonik';
import { notFound } from '../errors.ts';
import * as channels from '../repositories/channels-repository.ts';
import type { ChannelRow } from '../repositories/channels-repository.ts';
import type { Viewer } from '../repositories/users-repository.ts';
import { roomVisible } from '../domain/room-read-access.ts';
import { guildChannelAccess } from './guild-access.ts';

/**
 * What one user may do in one channel. Every channel and message route resolves this first.
 *
 * Who sees a channel: a public room, every user; a private room or DM, its members; a guild text
 * channel, guild members with VIEW_CHANNEL (decided by the guild module). Anyone else gets 404.
 * Reading, sending, typing and marking read need membership (VIEW_CHANNEL / SEND_MESSAGES in a
 * guild channel): a non-member who sees a public room gets 403 for those.
 */
export interface ChannelAccess {
  channel: ChannelRow;
  /** A member of the room or DM (for a guild channel: can view it). */
  isMember: boolean;
  canRead: boolean;
  canSend: boolean;
  /** Rename or delete: a room's owner or an admin; MANAGE_CHANNELS in a guild. Never for DMs. */
  canManageChannel: boolean;
  /** Delete other people's messages: a room's owner, an admin, MANAGE_MESSAGES in a guild. */
  canManageMessages: boolean;
  /** Remove other members of a room: its owner or an admin. */
  canManageMembers: boolean;
  isAdmin: boolean;
}

/**
 * Resolves the caller's access to a channel, or throws 404 when they cannot see it (whether or not
 * it exists). With `lock`, the channel row is locked for the rest of the caller's transaction.
 */
export async function resolveChannelAccess(
  db: CommonQueryMethods,
  viewer: Viewer,
  channelId: string,
  options: { lock?: boolean } = {},
): Promise<ChannelAccess> {
  let access: ChannelAccess | null;
  if (options.lock) {
    const channel = await channels.lockChannel(db, channelId);
    if (!channel) throw notFound('channel');
    access = await accessTo(db, viewer, channel);
  } else {
    // One round trip for the channel and the caller's membership; guild channels still ask the guild module.
    const found = await channels.findChannelWithMembership(db, channelId, viewer.userId);
    if (!found) throw notFound('channel');
    access =
      found.channel.guild_id !== null
        ? await accessTo(db, viewer, found.channel)
        : roomOrDmAccess(viewer, found.channel, found.isMember);
  }
  if (!access) throw notFound('channel');
  return access;
}

/** Access to a loaded channel row; null when the viewer cannot see it. */
export async function accessTo(db: CommonQueryMethods, viewer: Viewer, channel: ChannelRow): Promise<ChannelAccess | null> {
  const isAdmin = viewer.role === 'admin';
  if (channel.guild_id !== null) {
    const guild = await guildChannelAccess(db, viewer.userId, { id: channel.id, guild_id: channel.guild_id });
    if (!guild.canView) return null;
    return {
      channel,
      isMember: true,
      canRead: true,
      canSend: guild.canSend,
      canManageChannel: guild.canManageChannel,
      canManageMessages: guild.canManageMessages || isAdmin,
      canManageMembers: false,
      isAdmin,
    };
  }
  const isMember = (await channels.findMembership(db, channel.id, viewer.userId)) !== null;
  return roomOrDmAccess(viewer, channel, isMember);
}

/** Access to a room or DM (not a guild channel) given whether the viewer is a member; null when they cannot see it. */
function roomOrDmAccess(viewer: Viewer, channel: ChannelRow, isMember: boolean): ChannelAccess | null {
  if (!roomVisible({ type: channel.type, visibility: channel.visibility, isMember })) return null;
  const isAdmin = viewer.role === 'admin';
  if (channel.type === 'dm') {
    return {
      channel,
      isMember,
      canRead: true,
      canSend: true,
      canManageChannel: false,
      canManageMessages: isAdmin,
      canManageMembers: false,
      isAdmin,
    };
  }
  const isOwner = channel.owner_id === viewer.userId;
  return {
    channel,
    isMember,
    canRead: isMember,
    canSend: isMember,
    canManageChannel: isOwner || isAdmin,
    canManageMessages: isOwner || isAdmin,
    canManageMembers: isOwner || isAdmin,
    isAdmin,
  };
}

/** The guild text channels the user can view right now (VIEW_CHANNEL), from the guild module. */
export { viewableGuildChannelIds } from './guild-access.ts';
