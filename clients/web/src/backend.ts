/**
 * What the app needs from Parley, in the app's words. The only implementation (sdk-backend.ts)
 * is a thin layer over the public SDK `@parley/client`: nothing here talks HTTP or WebSocket itself.
 */
import type { TimelineMessage } from './timeline.ts';

export interface User {
  id: string;
  username: string;
  display_name: string;
  role: string;
  last_seen_at: string | null;
}

export interface Channel {
  id: string;
  type: 'room' | 'dm' | 'guild_text';
  name: string | null;
  description: string | null;
  visibility: 'public' | 'private' | null;
  guild_id: string | null;
  member_count: number;
  last_message_id: string | null;
  recipients?: User[];
}

export interface Conversation extends Channel {
  last_message: TimelineMessage | null;
  unread_count: number;
}

export interface Member {
  user: User;
  last_read_message_id: string | null;
}

export interface Guild {
  id: string;
  name: string;
  owner_id: string;
  member_count: number;
}

export type Presence = 'online' | 'idle' | 'dnd' | 'offline';
export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'offline';

export interface HistoryPage {
  items: TimelineMessage[];
  has_more: boolean;
}

/** The gateway events the app listens to (a subset of asyncapi.yaml's server frames). */
export interface GatewayEvents {
  message_created: { message: TimelineMessage };
  message_updated: { message: TimelineMessage };
  message_deleted: { channel_id: string; message_id: string };
  typing_started: { channel_id: string; user_id: string };
  presence_updated: { user_id: string; status: Presence };
  read_receipt: { channel_id: string; user_id: string; message_id: string };
  member_joined: { channel_id: string; user: User };
  member_left: { channel_id: string; user_id: string };
  channel_created: { channel: Channel };
  channel_updated: { channel: Channel };
  channel_deleted: { channel_id: string };
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  display_name?: string;
}

/** A configured OAuth2 provider: `authorize_url` starts its login (a top-level navigation). */
export interface OAuthProvider {
  name: string;
  authorize_url: string;
}

/** A failed call, with the server's problem `code` and the fields it named. */
export interface BackendError extends Error {
  status?: number;
  code?: string;
  fieldErrors?: Array<{ field: string; message: string }>;
}

export interface Backend {
  /**
   * The signed-in user when stored tokens are still good, else null. Coming back from an OAuth
   * provider (see leavingForOAuth) it trades the HttpOnly refresh cookie the callback set for tokens,
   * unless the login failed (`oauthFailed`: the callback redirected with `?error=`).
   */
  restore(options?: { oauthFailed?: boolean }): Promise<User | null>;
  /** The providers to offer as sign-in buttons (none configured: empty). */
  oauthProviders(): Promise<OAuthProvider[]>;
  /** Called as the tab navigates to a provider: the next restore() expects the session cookie. */
  leavingForOAuth(): void;
  register(input: RegisterInput): Promise<User>;
  login(login: string, password: string): Promise<User>;
  logout(): Promise<void>;

  conversations(): Promise<Conversation[]>;
  publicRooms(q?: string): Promise<Channel[]>;
  createRoom(name: string, visibility: 'public' | 'private'): Promise<Channel>;
  addMember(channelId: string, userId: string): Promise<void>;
  leave(channelId: string, userId: string): Promise<void>;
  findUsers(q: string): Promise<User[]>;
  openDm(userId: string): Promise<Channel>;
  members(channelId: string): Promise<Member[]>;
  history(channelId: string, cursor: { before?: string; around?: string; after?: string }, limit?: number): Promise<HistoryPage>;
  editMessage(channelId: string, messageId: string, content: string): Promise<TimelineMessage>;
  deleteMessage(channelId: string, messageId: string): Promise<void>;
  search(q: string): Promise<TimelineMessage[]>;
  onlineUserIds(): Promise<string[]>;

  guilds(): Promise<Guild[]>;
  createGuild(name: string): Promise<Guild>;
  guildChannels(guildId: string): Promise<Channel[]>;
  createGuildChannel(guildId: string, name: string): Promise<Channel>;
  createInvite(guildId: string): Promise<string>;
  joinInvite(code: string): Promise<Guild>;

  /** Opens the gateway; events and state changes arrive through on/onState. */
  connect(): Promise<void>;
  disconnect(): void;
  on<K extends keyof GatewayEvents>(type: K, listener: (event: GatewayEvents[K]) => void): void;
  onState(listener: (state: ConnectionState) => void): void;
  /** Sends with this nonce (retried by the SDK after a reconnect); resolves with the stored message. */
  sendMessage(channelId: string, content: string, nonce: string, replyToId?: string): Promise<TimelineMessage>;
  typing(channelId: string): void;
  markRead(channelId: string, messageId: string): void;
}
