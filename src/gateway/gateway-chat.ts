import type { Message } from '../../generated/asyncapi-types.ts';
import type { AuthContext } from '../services/auth-service.ts';
import type { ChannelsService } from '../services/channels-service.ts';
import type { MessagesService } from '../services/messages-service.ts';

/**
 * What the gateway's frames do, as calls into the same service functions the REST handlers use
 * (same validation, authorization, nonce idempotency, events after commit).
 */
export interface GatewayChat {
  /**
   * Resolves after commit with the stored message (the earlier one for a repeated nonce).
   * `onAuthorDelivered` may be called before that, once the author's own sessions have the new
   * message and before the rest of the channel gets it (messages-service `send`).
   */
  sendMessage(
    auth: AuthContext,
    channelId: string,
    input: { content: string; nonce?: string; reply_to_id?: string },
    onAuthorDelivered?: (message: Message) => void,
  ): Promise<Message>;
  join(auth: AuthContext, channelId: string): Promise<void>;
  leave(auth: AuthContext, channelId: string): Promise<void>;
  typing(auth: AuthContext, channelId: string): Promise<void>;
  markRead(auth: AuthContext, channelId: string, messageId: string): Promise<void>;
}

export function createGatewayChat(services: { messages: MessagesService; channels: ChannelsService }): GatewayChat {
  const { messages, channels } = services;
  return {
    sendMessage: async (auth, channelId, input, onAuthorDelivered) => (await messages.send(auth, channelId, input, onAuthorDelivered)).message,
    join: async (auth, channelId) => {
      await channels.addChannelMember(auth, channelId, auth.userId);
    },
    leave: (auth, channelId) => channels.removeChannelMember(auth, channelId, auth.userId),
    typing: (auth, channelId) => channels.triggerTyping(auth, channelId),
    markRead: async (auth, channelId, messageId) => {
      await channels.markChannelRead(auth, channelId, messageId);
    },
  };
}
