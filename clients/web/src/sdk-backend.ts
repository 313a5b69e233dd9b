/**
 * The app's Backend on the public SDK `@parley/client`, and nothing else: REST through its typed
 * openapi-fetch client (token refresh on 401 is the SDK's), the gateway through ParleyGateway
 * (heartbeat, reconnect with resume, catch-up from history, nonce resends are the SDK's).
 */
import { ParleyApiError, ParleyClient, ParleyGateway, ParleyGatewayError, type TokenStore, type Tokens } from '@parley/client';
import type { Backend, BackendError, OAuthProvider, Channel, ConnectionState, Conversation, GatewayEvents, Guild, Member, User } from './backend.ts';
import type { TimelineMessage } from './timeline.ts';

const TOKENS_KEY = 'parley.tokens';
/** Set while this tab is away at an OAuth provider (sessionStorage survives that round trip). */
const OAUTH_PENDING_KEY = 'parley.oauth-pending';

/**
 * Tokens for this tab, kept across reloads (sessionStorage: gone when the tab closes). The server's
 * HttpOnly cookies would do for REST, but the gateway authenticates with a frame that needs the token.
 */
class SessionTokenStore implements TokenStore {
  get(): Tokens | null {
    try {
      return JSON.parse(sessionStorage.getItem(TOKENS_KEY) ?? 'null') as Tokens | null;
    } catch {
      return null;
    }
  }
  set(tokens: Tokens | null): void {
    if (tokens) sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
    else sessionStorage.removeItem(TOKENS_KEY);
  }
}

/** The SDK's errors in the app's words (problem detail, field errors). */
function appError(error: unknown): BackendError {
  if (error instanceof ParleyApiError) {
    const failure = new Error(error.problem?.detail ?? error.problem?.title ?? error.message) as BackendError;
    failure.status = error.status;
    failure.code = error.code;
    failure.fieldErrors = error.errors;
    return failure;
  }
  if (error instanceof ParleyGatewayError) {
    const failure = new Error(error.message) as BackendError;
    failure.code = error.code;
    failure.fieldErrors = error.errors;
    return failure;
  }
  return error instanceof Error ? error : new Error(String(error));
}

export function createSdkBackend(origin: string): Backend {
  const client = new ParleyClient({ baseUrl: origin, tokenStore: new SessionTokenStore() });
  const { rest } = client;
  let gateway: ParleyGateway | null = null;
  const stateListeners: Array<(state: ConnectionState) => void> = [];
  const listeners: Array<(gateway: ParleyGateway) => void> = [];
  const setState = (state: ConnectionState) => stateListeners.forEach((listener) => listener(state));
  /** Runs an SDK call and turns its failure into the app's error. */
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw appError(error);
    }
  };
  const data = <T>(promise: Promise<{ data?: unknown; error?: unknown; response: Response }>) =>
    call(async () => (await client.unwrap(promise as never)) as T);

  return {
    async restore({ oauthFailed = false } = {}) {
      if (await client.accessToken()) {
        const { data: me } = await rest.GET('/api/v1/users/@me');
        return (me as User | undefined) ?? null;
      }
      // Only right after a provider round trip: a refresh without a cookie would be a 401 on
      // every first visit. The SDK's refresh() needs a stored refresh token, so this asks the typed
      // client directly: no body, the server reads the HttpOnly, SameSite=Strict `parley_refresh`
      // cookie (this request is same-site, from our own page).
      const pending = sessionStorage.getItem(OAUTH_PENDING_KEY) !== null;
      sessionStorage.removeItem(OAUTH_PENDING_KEY);
      if (!pending || oauthFailed) return null;
      const { data: issued } = await rest.POST('/api/v1/auth/refresh', {});
      if (!issued) return null;
      await client.tokens.set({ accessToken: issued.access_token, refreshToken: issued.refresh_token });
      return issued.user as User;
    },
    oauthProviders: async () => (await data<{ providers: OAuthProvider[] }>(rest.GET('/api/v1/auth/oauth'))).providers,
    leavingForOAuth: () => sessionStorage.setItem(OAUTH_PENDING_KEY, '1'),
    register: (input) => call(async () => (await client.register(input)).user as User),
    login: (login, password) => call(async () => (await client.login(login, password)).user as User),
    logout: () => call(() => client.logout()),

    conversations: async () => (await data<{ items: Conversation[] }>(rest.GET('/api/v1/users/@me/channels', { params: { query: { limit: 100 } } }))).items,
    publicRooms: async (q) => (await data<{ items: Channel[] }>(rest.GET('/api/v1/channels', { params: { query: { limit: 100, ...(q ? { q } : {}) } } }))).items,
    createRoom: (name, visibility) => data<Channel>(rest.POST('/api/v1/channels', { body: { type: 'room', name, visibility } })),
    addMember: async (channelId, userId) => {
      await data(rest.PUT('/api/v1/channels/{channel_id}/members/{user_id}', { params: { path: { channel_id: channelId, user_id: userId } } }));
    },
    leave: async (channelId, userId) => {
      await data(rest.DELETE('/api/v1/channels/{channel_id}/members/{user_id}', { params: { path: { channel_id: channelId, user_id: userId } } }));
    },
    findUsers: async (q) => (await data<{ items: User[] }>(rest.GET('/api/v1/users', { params: { query: { q, limit: 20 } } }))).items,
    openDm: (recipientId) => data<Channel>(rest.POST('/api/v1/channels', { body: { type: 'dm', recipient_id: recipientId } })),
    members: async (channelId) =>
      (await data<{ items: Member[] }>(rest.GET('/api/v1/channels/{channel_id}/members', { params: { path: { channel_id: channelId }, query: { limit: 100 } } }))).items,
    history: (channelId, cursor, limit = 50) =>
      data(rest.GET('/api/v1/channels/{channel_id}/messages', { params: { path: { channel_id: channelId }, query: { limit, ...cursor } } })),
    editMessage: (channelId, messageId, content) =>
      data<TimelineMessage>(rest.PATCH('/api/v1/channels/{channel_id}/messages/{message_id}', { params: { path: { channel_id: channelId, message_id: messageId } }, body: { content } })),
    deleteMessage: async (channelId, messageId) => {
      await data(rest.DELETE('/api/v1/channels/{channel_id}/messages/{message_id}', { params: { path: { channel_id: channelId, message_id: messageId } } }));
    },
    search: async (q) => (await data<{ items: TimelineMessage[] }>(rest.GET('/api/v1/messages/search', { params: { query: { q, limit: 25 } } }))).items,
    onlineUserIds: async () => {
      const page = await data<{ items: Array<{ user?: { id: string }; id?: string }> }>(rest.GET('/api/v1/users/online', { params: { query: { limit: 100 } } }));
      return page.items.map((item) => item.user?.id ?? item.id ?? '').filter(Boolean);
    },

    guilds: async () => (await data<{ items: Guild[] }>(rest.GET('/api/v1/users/@me/guilds', {}))).items,
    createGuild: (name) => data<Guild>(rest.POST('/api/v1/guilds', { body: { name } })),
    guildChannels: async (guildId) => (await data<{ items: Channel[] }>(rest.GET('/api/v1/guilds/{guild_id}/channels', { params: { path: { guild_id: guildId } } }))).items,
    createGuildChannel: (guildId, name) => data<Channel>(rest.POST('/api/v1/guilds/{guild_id}/channels', { params: { path: { guild_id: guildId } }, body: { name } })),
    createInvite: async (guildId) => (await data<{ code: string }>(rest.POST('/api/v1/guilds/{guild_id}/invites', { params: { path: { guild_id: guildId } }, body: {} }))).code,
    joinInvite: (code) => data<Guild>(rest.POST('/api/v1/invites/{code}', { params: { path: { code } } })),

    async connect() {
      gateway?.close();
      const current = new ParleyGateway(client);
      gateway = current;
      current.on('connected', () => setState('online'));
      current.on('disconnected', ({ willReconnect }) => setState(willReconnect ? 'reconnecting' : 'offline'));
      current.on('closed', () => setState('offline'));
      for (const attach of listeners) attach(current);
      setState('connecting');
      await call(() => current.connect());
    },
    disconnect() {
      gateway?.close();
      gateway = null;
    },
    on(type, listener) {
      // `message` is the SDK's exactly-once stream: live, replayed by resume, and recovered from
      // history after an unresumable drop. The app takes messages only from there.
      const attach = (target: ParleyGateway) => {
        if (type === 'message_created') target.on('message', ({ message }) => (listener as (event: GatewayEvents['message_created']) => void)({ message }));
        else target.on(type as never, listener as never);
      };
      listeners.push(attach);
      if (gateway) attach(gateway);
    },
    onState: (listener) => void stateListeners.push(listener),
    sendMessage: (channelId, content, nonce, replyToId) =>
      call(async () => (await gateway!.sendMessage(channelId, content, { nonce, ...(replyToId ? { replyToId } : {}) })) as TimelineMessage),
    typing(channelId) {
      // Best effort: a typing hint lost to a reconnect is not worth a retry.
      gateway?.typing(channelId).catch(() => undefined);
    },
    markRead(channelId, messageId) {
      // Over the socket when it is up, else REST: a read marker should not wait for a reconnect.
      const viaRest = () => void rest.POST('/api/v1/channels/{channel_id}/read', { params: { path: { channel_id: channelId } }, body: { message_id: messageId } });
      if (gateway?.state === 'ready') gateway.markRead(channelId, messageId).catch(viaRest);
      else viaRest();
    },
  };
}
