import type { MessagesService } from '../services/messages-service.ts';
import { authOf, bodyOf, pathOf, queryOf, type HandlerGroup } from './handler-types.ts';

export function createMessagesHandlers(deps: { messages: MessagesService }): HandlerGroup<
  'createMessage' | 'listMessages' | 'getMessage' | 'updateMessage' | 'deleteMessage' | 'searchMessages' | 'getMyStats'
> {
  const { messages } = deps;
  return {
    async createMessage(request, reply) {
      const { message, created } = await messages.send(
        authOf(request),
        pathOf<'createMessage'>(request).channel_id,
        bodyOf<'createMessage'>(request),
      );
      return reply.code(created ? 201 : 200).send(message);
    },
    listMessages: async (request) =>
      messages.list(authOf(request), pathOf<'listMessages'>(request).channel_id, queryOf<'listMessages'>(request)),
    async getMessage(request) {
      const { channel_id: channelId, message_id: messageId } = pathOf<'getMessage'>(request);
      return messages.get(authOf(request), channelId, messageId);
    },
    async updateMessage(request) {
      const { channel_id: channelId, message_id: messageId } = pathOf<'updateMessage'>(request);
      return messages.edit(authOf(request), channelId, messageId, bodyOf<'updateMessage'>(request));
    },
    async deleteMessage(request, reply) {
      const { channel_id: channelId, message_id: messageId } = pathOf<'deleteMessage'>(request);
      await messages.remove(authOf(request), channelId, messageId);
      return reply.code(204).send();
    },
    searchMessages: async (request) => messages.search(authOf(request), queryOf<'searchMessages'>(request)),
    getMyStats: async (request) => messages.stats(authOf(request)),
  };
}
