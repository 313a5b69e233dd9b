/**
 * The app's state and what changes it: one object, changed only here, observed by the views
 * through subscribe(). Gateway events and REST answers both land here, so the views never call
 * the backend for data they show.
 */
import type { Backend, Channel, ConnectionState, Conversation, Guild, Member, Presence, User } from './backend.ts';
import {
  addPending,
  compareIds,
  markFailed,
  mergeMessages,
  newestConfirmed,
  removeMessage,
  upsertMessage,
  type TimelineMessage,
} from './timeline.ts';

export interface ChannelView {
  messages: TimelineMessage[];
  /** Older messages exist above the first one shown. */
  hasMoreBefore: boolean;
  /** Newer messages exist below the last one shown (after a jump into the past). */
  hasMoreAfter: boolean;
  loading: boolean;
  loaded: boolean;
}

export interface State {
  me: User | null;
  connection: ConnectionState;
  conversations: Map<string, Conversation>;
  activeId: string | null;
  views: Map<string, ChannelView>;
  members: Map<string, Member[]>;
  users: Map<string, User>;
  presence: Map<string, Presence>;
  /** channel id -> user id -> when the indicator expires (ms). */
  typing: Map<string, Map<string, number>>;
  guilds: Guild[];
  guildChannels: Map<string, Channel[]>;
  /** A message to scroll to and highlight (jump from search). */
  highlightId: string | null;
  notice: string | null;
}

const TYPING_SHOWN_MS = 8000;
const TYPING_SEND_EVERY_MS = 4000;

const emptyView = (): ChannelView => ({ messages: [], hasMoreBefore: false, hasMoreAfter: false, loading: false, loaded: false });

export function channelTitle(channel: Channel, me: User | null): string {
  if (channel.type === 'dm') {
    const other = channel.recipients?.find((user) => user.id !== me?.id) ?? channel.recipients?.[0];
    return other ? other.display_name || other.username : 'Direct message';
  }
  return channel.name ?? 'channel';
}

export function dmPartner(channel: Channel, me: User | null): User | undefined {
  if (channel.type !== 'dm') return undefined;
  return channel.recipients?.find((user) => user.id !== me?.id);
}

let nonceCounter = 0;
function newNonce(): string {
  nonceCounter += 1;
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `web-${Date.now().toString(36)}-${random[0]!.toString(36)}${random[1]!.toString(36)}-${nonceCounter}`;
}

export class Store {
  state: State = {
    me: null,
    connection: 'connecting',
    conversations: new Map(),
    activeId: null,
    views: new Map(),
    members: new Map(),
    users: new Map(),
    presence: new Map(),
    typing: new Map(),
    guilds: [],
    guildChannels: new Map(),
    highlightId: null,
    notice: null,
  };
  private listeners = new Set<() => void>();
  private lastTypingSent = new Map<string, number>();
  private readSent = new Map<string, string>();
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private visible = () => typeof document === 'undefined' || document.visibilityState === 'visible';

  constructor(readonly backend: Backend) {
    backend.onState((connection) => this.set({ connection }));
    backend.on('message_created', ({ message }) => this.receive(message));
    backend.on('message_updated', ({ message }) => this.updateView(message.channel_id, (list) => (list.some((m) => m.id === message.id) ? upsertMessage(list, message) : list)));
    backend.on('message_deleted', ({ channel_id, message_id }) => {
      this.updateView(channel_id, (list) => removeMessage(list, message_id));
      const conversation = this.state.conversations.get(channel_id);
      if (conversation?.last_message?.id === message_id) void this.refreshConversations();
    });
    backend.on('typing_started', ({ channel_id, user_id }) => {
      if (user_id === this.state.me?.id) return;
      const typing = new Map(this.state.typing);
      const users = new Map(typing.get(channel_id));
      users.set(user_id, Date.now() + TYPING_SHOWN_MS);
      typing.set(channel_id, users);
      this.set({ typing });
      this.scheduleTypingExpiry();
    });
    backend.on('presence_updated', ({ user_id, status }) => {
      const presence = new Map(this.state.presence);
      presence.set(user_id, status);
      this.set({ presence });
    });
    backend.on('read_receipt', ({ channel_id, user_id, message_id }) => {
      const list = this.state.members.get(channel_id);
      if (user_id === this.state.me?.id) {
        const conversation = this.state.conversations.get(channel_id);
        if (conversation && conversation.unread_count > 0 && conversation.last_message && compareIds(message_id, conversation.last_message.id) >= 0) {
          this.patchConversation(channel_id, { unread_count: 0 });
        }
      }
      if (!list) return;
      const members = new Map(this.state.members);
      members.set(channel_id, list.map((member) => (member.user.id === user_id ? { ...member, last_read_message_id: message_id } : member)));
      this.set({ members });
    });
    backend.on('member_joined', ({ channel_id, user }) => {
      this.remember([user]);
      if (user.id === this.state.me?.id) void this.refreshConversations();
      const list = this.state.members.get(channel_id);
      const conversation = this.state.conversations.get(channel_id);
      if (conversation && user.id !== this.state.me?.id && !list?.some((member) => member.user.id === user.id)) {
        this.patchConversation(channel_id, { member_count: conversation.member_count + 1 });
      }
      if (list && !list.some((member) => member.user.id === user.id)) {
        const members = new Map(this.state.members);
        members.set(channel_id, [...list, { user, last_read_message_id: null }]);
        this.set({ members });
      }
    });
    backend.on('member_left', ({ channel_id, user_id }) => {
      if (user_id === this.state.me?.id) {
        this.dropConversation(channel_id);
        return;
      }
      const conversation = this.state.conversations.get(channel_id);
      if (conversation) this.patchConversation(channel_id, { member_count: Math.max(1, conversation.member_count - 1) });
      const list = this.state.members.get(channel_id);
      if (!list) return;
      const members = new Map(this.state.members);
      members.set(channel_id, list.filter((member) => member.user.id !== user_id));
      this.set({ members });
    });
    backend.on('channel_created', () => void this.refreshConversations());
    backend.on('channel_updated', ({ channel }) => {
      if (this.state.conversations.has(channel.id)) this.patchConversation(channel.id, { ...channel });
    });
    backend.on('channel_deleted', ({ channel_id }) => this.dropConversation(channel_id));
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', () => {
        if (this.visible() && this.state.activeId) this.markActiveRead();
      });
    }
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<State>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  notify(notice: string | null): void {
    this.set({ notice });
  }

  // ── session ────────────────────────────────────────────────────────────
  async start(me: User): Promise<void> {
    this.remember([me]);
    this.set({ me });
    await Promise.all([this.refreshConversations(), this.refreshGuilds(), this.refreshPresence()]);
    await this.backend.connect();
    // A link to a conversation or a message (`#/c/{channel}` or `#/c/{channel}/m/{message}`) opens it.
    addEventListener('hashchange', () => void this.openFromHash());
    if (!(await this.openFromHash())) {
      const first = this.sortedConversations()[0]?.id;
      if (first) await this.open(first);
    }
  }

  private async openFromHash(): Promise<boolean> {
    const link = location.hash.match(/^#\/c\/(\d+)(?:\/m\/(\d+))?$/);
    if (!link?.[1] || !this.state.conversations.has(link[1])) return false;
    await this.open(link[1], link[2]);
    return true;
  }

  async signOut(): Promise<void> {
    this.backend.disconnect();
    await this.backend.logout().catch(() => undefined);
    location.hash = '';
    location.reload();
  }

  // ── conversations ──────────────────────────────────────────────────────
  sortedConversations(): Conversation[] {
    const key = (c: Conversation) => c.last_message?.id ?? c.last_message_id ?? c.id;
    return [...this.state.conversations.values()].sort((a, b) => compareIds(key(b), key(a)));
  }

  async refreshConversations(): Promise<void> {
    const list = await this.backend.conversations();
    const conversations = new Map(list.map((conversation) => [conversation.id, conversation]));
    if (this.state.activeId && conversations.has(this.state.activeId) && this.visible()) {
      conversations.set(this.state.activeId, { ...conversations.get(this.state.activeId)!, unread_count: 0 });
    }
    this.remember(list.flatMap((conversation) => conversation.recipients ?? []));
    this.set({ conversations });
  }

  private patchConversation(id: string, patch: Partial<Conversation>): void {
    const current = this.state.conversations.get(id);
    if (!current) return;
    const conversations = new Map(this.state.conversations);
    conversations.set(id, { ...current, ...patch });
    this.set({ conversations });
  }

  private dropConversation(id: string): void {
    if (!this.state.conversations.has(id)) return;
    const conversations = new Map(this.state.conversations);
    conversations.delete(id);
    this.set({ conversations, activeId: this.state.activeId === id ? null : this.state.activeId });
  }

  async open(channelId: string, aroundId?: string): Promise<void> {
    this.set({ activeId: channelId, highlightId: aroundId ?? null });
    const hash = aroundId ? `#/c/${channelId}/m/${aroundId}` : `#/c/${channelId}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
    const view = this.state.views.get(channelId);
    if (aroundId) {
      await this.loadAround(channelId, aroundId);
    } else if (!view?.loaded || view.hasMoreAfter) {
      await this.loadLatest(channelId);
    }
    void this.loadMembers(channelId);
    this.markActiveRead();
  }

  private async loadLatest(channelId: string): Promise<void> {
    this.patchView(channelId, { loading: true });
    const page = await this.backend.history(channelId, {}, 50);
    this.remember(page.items.map((message) => message.author));
    this.patchView(channelId, {
      messages: mergeMessages(this.view(channelId).messages.filter((message) => message.pending), page.items),
      hasMoreBefore: page.has_more,
      hasMoreAfter: false,
      loading: false,
      loaded: true,
    });
  }

  private async loadAround(channelId: string, messageId: string): Promise<void> {
    this.patchView(channelId, { loading: true });
    const page = await this.backend.history(channelId, { around: messageId }, 50);
    this.remember(page.items.map((message) => message.author));
    const newest = page.items.reduce<string | undefined>((max, m) => (!max || compareIds(m.id, max) > 0 ? m.id : max), undefined);
    const last = this.state.conversations.get(channelId)?.last_message?.id;
    this.patchView(channelId, {
      messages: mergeMessages([], page.items),
      hasMoreBefore: true,
      hasMoreAfter: Boolean(newest && last && compareIds(last, newest) > 0),
      loading: false,
      loaded: true,
    });
  }

  /** Upward infinite scroll: the page before the oldest message shown. */
  async loadOlder(channelId: string): Promise<boolean> {
    const view = this.view(channelId);
    const oldest = view.messages.find((message) => !message.pending);
    if (view.loading || !view.hasMoreBefore || !oldest) return false;
    this.patchView(channelId, { loading: true });
    const page = await this.backend.history(channelId, { before: oldest.id }, 50);
    this.remember(page.items.map((message) => message.author));
    this.patchView(channelId, { messages: mergeMessages(this.view(channelId).messages, page.items), hasMoreBefore: page.has_more, loading: false });
    return page.items.length > 0;
  }

  /** After a jump into the past: the page after the newest message shown. */
  async loadNewer(channelId: string): Promise<void> {
    const view = this.view(channelId);
    const newest = newestConfirmed(view.messages);
    if (view.loading || !view.hasMoreAfter || !newest) return;
    this.patchView(channelId, { loading: true });
    const page = await this.backend.history(channelId, { after: newest.id }, 50);
    this.patchView(channelId, { messages: mergeMessages(this.view(channelId).messages, page.items), hasMoreAfter: page.has_more, loading: false });
  }

  async loadMembers(channelId: string): Promise<void> {
    const list = await this.backend.members(channelId).catch(() => undefined);
    if (!list) return;
    this.remember(list.map((member) => member.user));
    const members = new Map(this.state.members);
    members.set(channelId, list);
    this.set({ members });
  }

  view(channelId: string): ChannelView {
    return this.state.views.get(channelId) ?? emptyView();
  }

  private patchView(channelId: string, patch: Partial<ChannelView>): void {
    const views = new Map(this.state.views);
    views.set(channelId, { ...this.view(channelId), ...patch });
    this.set({ views });
  }

  private updateView(channelId: string, change: (list: TimelineMessage[]) => TimelineMessage[]): void {
    const view = this.state.views.get(channelId);
    if (view) this.patchView(channelId, { messages: change(view.messages) });
  }

  private remember(users: User[]): void {
    if (users.every((user) => this.state.users.get(user.id) === user)) return;
    const map = new Map(this.state.users);
    for (const user of users) map.set(user.id, user);
    this.state = { ...this.state, users: map };
  }

  // ── messages ───────────────────────────────────────────────────────────
  private receive(message: TimelineMessage): void {
    this.remember([message.author]);
    const channelId = message.channel_id;
    const view = this.state.views.get(channelId);
    // After a jump into the past the newest messages are not shown: don't splice one in below a gap.
    if (view?.loaded && !view.hasMoreAfter) this.updateView(channelId, (list) => upsertMessage(list, message));
    // Whoever sent a message has stopped typing.
    const typingUsers = this.state.typing.get(channelId);
    if (typingUsers?.has(message.author.id)) {
      const typing = new Map(this.state.typing);
      const users = new Map(typingUsers);
      users.delete(message.author.id);
      typing.set(channelId, users);
      this.set({ typing });
    }
    const conversation = this.state.conversations.get(channelId);
    if (!conversation) {
      void this.refreshConversations();
      return;
    }
    if (conversation.last_message && compareIds(conversation.last_message.id, message.id) > 0) return;
    const mine = message.author.id === this.state.me?.id;
    const reading = this.state.activeId === channelId && this.visible();
    const seen = conversation.last_message?.id === message.id;
    this.patchConversation(channelId, {
      last_message: message,
      last_message_id: message.id,
      unread_count: mine || reading ? 0 : conversation.unread_count + (seen ? 0 : 1),
    });
    if (reading && !mine) this.markActiveRead();
  }

  async send(channelId: string, content: string, replyToId?: string): Promise<void> {
    const me = this.state.me!;
    const nonce = newNonce();
    const optimistic: TimelineMessage = {
      id: `pending-${nonce}`,
      channel_id: channelId,
      author: me,
      content,
      nonce,
      reply_to_id: replyToId ?? null,
      created_at: new Date().toISOString(),
      edited_at: null,
    };
    if (this.view(channelId).hasMoreAfter) await this.loadLatest(channelId);
    this.updateView(channelId, (list) => addPending(list, optimistic));
    this.lastTypingSent.delete(channelId);
    try {
      const stored = await this.backend.sendMessage(channelId, content, nonce, replyToId);
      this.receive(stored);
    } catch (error) {
      this.updateView(channelId, (list) => markFailed(list, nonce));
      this.notify(`Not sent: ${(error as Error).message}`);
    }
  }

  async retry(message: TimelineMessage): Promise<void> {
    this.updateView(message.channel_id, (list) => list.filter((item) => item !== message));
    await this.send(message.channel_id, message.content, message.reply_to_id ?? undefined);
  }

  async edit(message: TimelineMessage, content: string): Promise<void> {
    const stored = await this.backend.editMessage(message.channel_id, message.id, content);
    this.updateView(message.channel_id, (list) => upsertMessage(list, stored));
  }

  async remove(message: TimelineMessage): Promise<void> {
    await this.backend.deleteMessage(message.channel_id, message.id);
    this.updateView(message.channel_id, (list) => removeMessage(list, message.id));
  }

  /** Called as the user types; sends at most one typing frame per few seconds. */
  typing(channelId: string): void {
    const now = Date.now();
    if (now - (this.lastTypingSent.get(channelId) ?? 0) < TYPING_SEND_EVERY_MS) return;
    this.lastTypingSent.set(channelId, now);
    this.backend.typing(channelId);
  }

  typingUsers(channelId: string): User[] {
    const now = Date.now();
    return [...(this.state.typing.get(channelId) ?? new Map<string, number>()).entries()]
      .filter(([, until]) => until > now)
      .map(([id]) => this.state.users.get(id))
      .filter((user): user is User => user !== undefined);
  }

  private scheduleTypingExpiry(): void {
    if (this.typingTimer) clearTimeout(this.typingTimer);
    const next = Math.min(...[...this.state.typing.values()].flatMap((users) => [...users.values()]).filter((t) => t > Date.now()));
    if (!Number.isFinite(next)) return;
    this.typingTimer = setTimeout(() => {
      const now = Date.now();
      const typing = new Map([...this.state.typing].map(([channel, users]) => [channel, new Map([...users].filter(([, until]) => until > now))]));
      this.set({ typing });
      this.scheduleTypingExpiry();
    }, next - Date.now() + 50);
  }

  /** Moves my read marker to the newest message of the open channel, once per message. */
  markActiveRead(): void {
    const channelId = this.state.activeId;
    if (!channelId || !this.visible()) return;
    const view = this.state.views.get(channelId);
    if (!view || view.hasMoreAfter) return;
    const newest = newestConfirmed(view.messages);
    if (this.state.conversations.get(channelId)?.unread_count) this.patchConversation(channelId, { unread_count: 0 });
    if (!newest || this.readSent.get(channelId) === newest.id) return;
    this.readSent.set(channelId, newest.id);
    this.backend.markRead(channelId, newest.id);
  }

  // ── rooms, DMs, guilds ────────────────────────────────────────────────
  async createRoom(name: string, visibility: 'public' | 'private'): Promise<void> {
    const channel = await this.backend.createRoom(name, visibility);
    await this.refreshConversations();
    await this.open(channel.id);
  }

  async joinRoom(channelId: string): Promise<void> {
    await this.backend.addMember(channelId, this.state.me!.id);
    await this.refreshConversations();
    await this.open(channelId);
  }

  async leaveActive(): Promise<void> {
    const id = this.state.activeId;
    if (!id) return;
    await this.backend.leave(id, this.state.me!.id);
    this.dropConversation(id);
  }

  async invite(channelId: string, username: string): Promise<User> {
    const user = await this.findUser(username);
    await this.backend.addMember(channelId, user.id);
    await this.loadMembers(channelId);
    return user;
  }

  async openDm(username: string): Promise<void> {
    const user = await this.findUser(username);
    const channel = await this.backend.openDm(user.id);
    await this.refreshConversations();
    await this.open(channel.id);
  }

  private async findUser(username: string): Promise<User> {
    const wanted = username.trim().replace(/^@/, '');
    const found = await this.backend.findUsers(wanted);
    const user = found.find((candidate) => candidate.username.toLowerCase() === wanted.toLowerCase()) ?? (found.length === 1 ? found[0] : undefined);
    if (!user) throw new Error(`No user named ${wanted}.`);
    this.remember([user]);
    return user;
  }

  async refreshPresence(): Promise<void> {
    const ids = await this.backend.onlineUserIds().catch(() => []);
    this.set({ presence: new Map(ids.map((id) => [id, 'online' as Presence])) });
  }

  async refreshGuilds(): Promise<void> {
    const guilds = await this.backend.guilds();
    const guildChannels = new Map<string, Channel[]>();
    await Promise.all(guilds.map(async (guild) => guildChannels.set(guild.id, await this.backend.guildChannels(guild.id))));
    this.set({ guilds, guildChannels });
  }

  async createGuild(name: string): Promise<void> {
    await this.backend.createGuild(name);
    await Promise.all([this.refreshGuilds(), this.refreshConversations()]);
  }

  async createGuildChannel(guildId: string, name: string): Promise<void> {
    const channel = await this.backend.createGuildChannel(guildId, name);
    await Promise.all([this.refreshGuilds(), this.refreshConversations()]);
    await this.open(channel.id);
  }

  async joinInvite(code: string): Promise<void> {
    await this.backend.joinInvite(code.trim());
    await Promise.all([this.refreshGuilds(), this.refreshConversations()]);
  }
}
