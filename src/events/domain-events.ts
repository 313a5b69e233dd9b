import type { components } from '../../generated/openapi-types.ts';
import type { ApiChannel } from '../repositories/channels-repository.ts';
import type { EmbeddedUser } from '../repositories/embedded-user.ts';
import type { ApiMessage } from '../repositories/messages-repository.ts';
import type { PublicUser } from '../repositories/users-repository.ts';

/**
 * Every domain event Parley announces, keyed by type. Published only after commit.
 * `recipients` style routing (which sessions get what) is the gateway's job, not the publisher's.
 */
export interface DomainEventMap {
  /** Sessions ended (logout, revocation, password change, deactivation, deletion). */
  'sessions.revoked': { user_id: string; session_ids: string[] | 'all'; reason: string };
  'user.updated': { user: PublicUser };

  // Channels and messages. Payload objects are exactly the REST API's objects (`Message`,
  // `Channel`, public `User`), so the gateway forwards them unchanged. Per channel, these are
  // published in commit order (see src/domain/keyed-mutex.ts and the channel row lock).
  /**
   * `prev_id`: the id of the message committed just before it in the channel (null for the first),
   * read under the channel row lock: a shared bus orders by it across instances (src/bus/).
   */
  'message.created': { channel_id: string; message: ApiMessage; prev_id?: string | null };
  'message.updated': { channel_id: string; message: ApiMessage; seq?: EventSeq };
  'message.deleted': { channel_id: string; message_id: string; seq?: EventSeq };
  /** A user joined a room or was added to it (a room's creator gets `channel.created` instead). */
  'member.joined': { channel_id: string; user: EmbeddedUser; seq?: EventSeq };
  /** A user left or was removed from a room; their own sessions stop receiving the channel. */
  'member.left': { channel_id: string; user_id: string; seq?: EventSeq };
  /** A room or DM was created; `member_ids` are its first members (absent for guild channels). */
  'channel.created': { channel: ApiChannel; member_ids?: string[] };
  /** `seq`: its slot in the channel's chain (overwrites and visibility change who reads the channel). */
  'channel.updated': { channel: ApiChannel; seq?: EventSeq };
  /** `member_ids`: everyone who could see the channel and lost it. */
  'channel.deleted': { channel_id: string; guild_id: string | null; member_ids: string[] };
  'typing.started': { channel_id: string; user_id: string; at: string };
  /** A read marker moved forwards. */
  'read.updated': { channel_id: string; user_id: string; message_id: string };

  // Guilds (src/services/guilds-service.ts). Their text channels use the channel events above
  // (`channel.created` without member_ids; `channel.deleted` with guild_id when a guild is deleted).
  'guild.created': { guild: components['schemas']['Guild'] };
  'guild.updated': { guild: components['schemas']['Guild'] };
  /** The guild, its channels, roles, bans and invites are gone; `member_ids` were its members. */
  'guild.deleted': { guild_id: string; member_ids: string[]; channel_ids: string[] };
  //
  // `seqs` (guild-wide changes of who reads which channel): the event's slot in the chain of every
  // text channel of the guild, by channel id (channels-repository takeGuildEventSlots). A shared bus
  // delivers the event once every one of those chains has reached it, and holds each channel's
  // later events behind it, so a kick applies on every instance before the next message.
  /** A user joined a guild by invite; `channel_ids` are all the guild's text channels (visibility still applies). */
  'guild.member_joined': { guild_id: string; user: EmbeddedUser; channel_ids: string[]; seqs?: GuildEventSeqs };
  /** A member left, was kicked or banned: they lose every channel of the guild (`channel_ids`) at once. */
  'guild.member_left': {
    guild_id: string;
    user_id: string;
    reason: 'left' | 'kicked' | 'banned';
    channel_ids: string[];
    seqs?: GuildEventSeqs;
  };
  /** Roles changed, so channel visibility may change: for `user_id` only, or for every member when null. */
  'guild.roles_changed': {
    guild_id: string;
    role_id: string;
    action: 'created' | 'updated' | 'deleted' | 'assigned' | 'removed';
    user_id: string | null;
    seqs?: GuildEventSeqs;
  };
}

/**
 * The place of a non-message channel event in the channel's chain (channels-repository
 * takeEventSlot): `id` taken from the same allocator as message ids under the channel row lock,
 * `prev_id` the message or event committed just before it. Internal: never sent to clients.
 */
export interface EventSeq {
  id: string;
  prev_id: string | null;
}

/** A guild-wide event's slot in each text channel of its guild, by channel id. */
export type GuildEventSeqs = Record<string, EventSeq>;

export type DomainEventType = keyof DomainEventMap;
export type DomainEvent = { [K in DomainEventType]: { type: K } & DomainEventMap[K] }[DomainEventType];

/** The `seq` part of an event from the slot its transaction took (none: the channel was gone). */
export function seqOf(slot: EventSeq | null): { seq?: EventSeq } {
  return slot ? { seq: { id: slot.id, prev_id: slot.prev_id } } : {};
}

/** The `seqs` part of a guild-wide event from the slots its transaction took (takeGuildEventSlots). */
export function seqsOf(slots: readonly (EventSeq & { channel_id: string })[] | null): { seqs?: GuildEventSeqs } {
  if (!slots) return {};
  const seqs: GuildEventSeqs = {};
  for (const slot of slots) seqs[slot.channel_id] = { id: slot.id, prev_id: slot.prev_id };
  return { seqs };
}
