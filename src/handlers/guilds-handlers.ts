import type { GuildsService } from '../services/guilds-service.ts';
import { authOf, bodyOf, pathOf, queryOf, type HandlerGroup } from './handler-types.ts';

/** The `guilds` tag: guilds, their channels, members, bans, invites and roles. */
export function createGuildsHandlers(deps: { guilds: GuildsService }): HandlerGroup<
  | 'createGuild'
  | 'listMyGuilds'
  | 'getGuild'
  | 'updateGuild'
  | 'deleteGuild'
  | 'listGuildChannels'
  | 'createGuildChannel'
  | 'listGuildMembers'
  | 'removeGuildMember'
  | 'listGuildBans'
  | 'banGuildMember'
  | 'unbanGuildMember'
  | 'createGuildInvite'
  | 'listGuildRoles'
  | 'createGuildRole'
  | 'updateGuildRole'
  | 'deleteGuildRole'
  | 'addGuildMemberRole'
  | 'removeGuildMemberRole'
> {
  const { guilds } = deps;
  return {
    async createGuild(request, reply) {
      return reply.code(201).send(await guilds.createGuild(authOf(request), bodyOf<'createGuild'>(request)));
    },
    listMyGuilds: async (request) => guilds.listMyGuilds(authOf(request), queryOf<'listMyGuilds'>(request)),
    getGuild: async (request) => guilds.getGuild(authOf(request), pathOf<'getGuild'>(request).guild_id),
    updateGuild: async (request) =>
      guilds.updateGuild(authOf(request), pathOf<'updateGuild'>(request).guild_id, bodyOf<'updateGuild'>(request)),
    async deleteGuild(request, reply) {
      await guilds.deleteGuild(authOf(request), pathOf<'deleteGuild'>(request).guild_id);
      return reply.code(204).send();
    },

    listGuildChannels: async (request) =>
      guilds.listGuildChannels(authOf(request), pathOf<'listGuildChannels'>(request).guild_id),
    async createGuildChannel(request, reply) {
      const channel = await guilds.createGuildChannel(
        authOf(request),
        pathOf<'createGuildChannel'>(request).guild_id,
        bodyOf<'createGuildChannel'>(request),
      );
      return reply.code(201).send(channel);
    },

    listGuildMembers: async (request) =>
      guilds.listGuildMembers(authOf(request), pathOf<'listGuildMembers'>(request).guild_id, queryOf<'listGuildMembers'>(request)),
    async removeGuildMember(request, reply) {
      const { guild_id: guildId, user_id: userId } = pathOf<'removeGuildMember'>(request);
      await guilds.removeGuildMember(authOf(request), guildId, userId);
      return reply.code(204).send();
    },

    listGuildBans: async (request) =>
      guilds.listGuildBans(authOf(request), pathOf<'listGuildBans'>(request).guild_id, queryOf<'listGuildBans'>(request)),
    async banGuildMember(request, reply) {
      const { guild_id: guildId, user_id: userId } = pathOf<'banGuildMember'>(request);
      await guilds.banGuildMember(authOf(request), guildId, userId, bodyOf<'banGuildMember'>(request) ?? undefined);
      return reply.code(204).send();
    },
    async unbanGuildMember(request, reply) {
      const { guild_id: guildId, user_id: userId } = pathOf<'unbanGuildMember'>(request);
      await guilds.unbanGuildMember(authOf(request), guildId, userId);
      return reply.code(204).send();
    },

    async createGuildInvite(request, reply) {
      const invite = await guilds.createGuildInvite(
        authOf(request),
        pathOf<'createGuildInvite'>(request).guild_id,
        bodyOf<'createGuildInvite'>(request) ?? undefined,
      );
      return reply.code(201).send(invite);
    },

    listGuildRoles: async (request) => guilds.listGuildRoles(authOf(request), pathOf<'listGuildRoles'>(request).guild_id),
    async createGuildRole(request, reply) {
      const role = await guilds.createGuildRole(
        authOf(request),
        pathOf<'createGuildRole'>(request).guild_id,
        bodyOf<'createGuildRole'>(request),
      );
      return reply.code(201).send(role);
    },
    async updateGuildRole(request) {
      const { guild_id: guildId, role_id: roleId } = pathOf<'updateGuildRole'>(request);
      return guilds.updateGuildRole(authOf(request), guildId, roleId, bodyOf<'updateGuildRole'>(request));
    },
    async deleteGuildRole(request, reply) {
      const { guild_id: guildId, role_id: roleId } = pathOf<'deleteGuildRole'>(request);
      await guilds.deleteGuildRole(authOf(request), guildId, roleId);
      return reply.code(204).send();
    },
    async addGuildMemberRole(request, reply) {
      const { guild_id: guildId, user_id: userId, role_id: roleId } = pathOf<'addGuildMemberRole'>(request);
      await guilds.addGuildMemberRole(authOf(request), guildId, userId, roleId);
      return reply.code(204).send();
    },
    async removeGuildMemberRole(request, reply) {
      const { guild_id: guildId, user_id: userId, role_id: roleId } = pathOf<'removeGuildMemberRole'>(request);
      await guilds.removeGuildMemberRole(authOf(request), guildId, userId, roleId);
      return reply.code(204).send();
    },
  };
}
