import type { CommonQueryMethods } from 'slonik';
import { memberChannelIds } from '../repositories/channels-repository.ts';
import * as gatewayRepository from '../repositories/gateway-repository.ts';
import { findUserById, toApiUser } from '../repositories/users-repository.ts';
import { viewableGuildChannelIds } from './guild-access.ts';

/**
 * What the gateway asks the database, built here so the gateway imports no repository and the
 * access rules stay those of the REST API (rooms and DMs: membership rows; guild channels:
 * VIEW_CHANNEL from guild-access.ts). The shapes are the gateway's ChannelAudience and
 * GatewayUsers (src/gateway/gateway-ports.ts); app.ts passes these to it.
 */
export function createGatewayAccess(db: CommonQueryMethods) {
  const audience = {
    async readableChannels(userId: string) {
      const [memberIds, guildChannelIds] = await Promise.all([memberChannelIds(db, userId), viewableGuildChannelIds(db, userId)]);
      return gatewayRepository.readableChannelRefs(db, memberIds, guildChannelIds);
    },
    async viewableChannelsOfGuild(userId: string, guildId: string) {
      return gatewayRepository.channelsOfGuildAmong(db, guildId, await viewableGuildChannelIds(db, userId));
    },
    guildMembersAmong: (guildId: string, userIds: readonly string[]) => gatewayRepository.guildMembersAmong(db, guildId, userIds),
  };
  const users = {
    async self(userId: string) {
      const row = await findUserById(db, userId);
      return row && row.active ? toApiUser(row, 'full') : null;
    },
    async publicUser(userId: string) {
      const row = await findUserById(db, userId);
      return row ? toApiUser(row, 'public') : null;
    },
    setLastSeen: (userId: string, at: string) => gatewayRepository.setLastSeen(db, userId, at),
    setLastSeenMany: (userIds: readonly string[], at: string) => gatewayRepository.setLastSeenMany(db, userIds, at),
  };
  return { audience, users };
}
