import type { User } from '../../generated/asyncapi-types.ts';
import type { ChannelRef } from './session-registry.ts';

/**
 * What the gateway needs from the rest of the application, given to it at construction
 * (src/app.ts builds them from the services: src/services/gateway-access.ts). The gateway itself
 * imports no repository: who may read what is decided where the REST API decides it.
 */

/** Who may read which channel, answered from the database at the moment of the call. */
export interface ChannelAudience {
  /** Every channel the user can read now (rooms and DMs they are a member of, viewable guild channels). */
  readableChannels(userId: string): Promise<ChannelRef[]>;
  /** The channels of one guild the user can view now. */
  viewableChannelsOfGuild(userId: string, guildId: string): Promise<string[]>;
  /** Which of the given users are members of the guild. */
  guildMembersAmong(guildId: string, userIds: readonly string[]): Promise<string[]>;
}

/** Users as the gateway shows them, and presence's last_seen_at. */
export interface GatewayUsers {
  /** The user as they see themself (the `ready` frame), or null when gone or deactivated. */
  self(userId: string): Promise<User | null>;
  /** The user as others see them (`member_joined`), or null when gone. */
  publicUser(userId: string): Promise<User | null>;
  setLastSeen(userId: string, at: string): Promise<unknown>;
  setLastSeenMany(userIds: readonly string[], at: string): Promise<unknown>;
}
