import type { ChannelsService } from '../services/channels-service.ts';
import { authOf, bodyOf, pathOf, queryOf, type HandlerGroup } from './handler-types.ts';

export function createChannelsHandlers(deps: { channels: ChannelsService }): HandlerGroup<
  | 'createChannel'
  | 'listPublicChannels'
  | 'listMyChannels'
  | 'getChannel'
  | 'updateChannel'
  | 'deleteChannel'
  | 'listChannelMembers'
  | 'addChannelMember'
  | 'removeChannelMember'
  | 'triggerTyping'
  | 'markChannelRead'
> {
  const { channels } = deps;
  return {
    async createChannel(request, reply) {
      const { channel, created } = await channels.createChannel(authOf(request), bodyOf<'createChannel'>(request));
      return reply.code(created ? 201 : 200).send(channel);
    },
    listPublicChannels: async (request) => channels.listPublicChannels(authOf(request), queryOf<'listPublicChannels'>(request)),
    listMyChannels: async (request) => channels.listMyChannels(authOf(request), queryOf<'listMyChannels'>(request)),
    getChannel: async (request) => channels.getChannel(authOf(request), pathOf<'getChannel'>(request).channel_id),
    updateChannel: async (request) =>
      channels.updateChannel(authOf(request), pathOf<'updateChannel'>(request).channel_id, bodyOf<'updateChannel'>(request)),
    async deleteChannel(request, reply) {
      await channels.deleteChannel(authOf(request), pathOf<'deleteChannel'>(request).channel_id);
      return reply.code(204).send();
    },
    listChannelMembers: async (request) =>
      channels.listChannelMembers(
        authOf(request),
        pathOf<'listChannelMembers'>(request).channel_id,
        queryOf<'listChannelMembers'>(request),
      ),
    async addChannelMember(request) {
      const { channel_id: channelId, user_id: userId } = pathOf<'addChannelMember'>(request);
      return channels.addChannelMember(authOf(request), channelId, userId);
    },
    async removeChannelMember(request, reply) {
      const { channel_id: channelId, user_id: userId } = pathOf<'removeChannelMember'>(request);
      await channels.removeChannelMember(authOf(request), channelId, userId);
      return reply.code(204).send();
    },
    async triggerTyping(request, reply) {
      await channels.triggerTyping(authOf(request), pathOf<'triggerTyping'>(request).channel_id);
      return reply.code(204).send();
    },
    markChannelRead: async (request) =>
      channels.markChannelRead(
        authOf(request),
        pathOf<'markChannelRead'>(request).channel_id,
        bodyOf<'markChannelRead'>(request).message_id,
      ),
  };
}
