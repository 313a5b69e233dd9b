import { GatewaySession } from './gateway-session.ts';
import type { OutboundEvent } from './outbound-event.ts';

/** A channel the user can read, as loaded at ready: its id and, for guild text channels, its guild. */
export interface ChannelRef {
  id: string;
  guild_id: string | null;
}

/**
 * The channels one user is subscribed to, shared by all their sessions (live or detached).
 * Kept current from domain events while the user has at least one session.
 */
export class UserSubscriptions {
  readonly userId: string;
  readonly channels = new Set<string>();
  readonly sessions = new Set<GatewaySession>();
  /** Sessions plus connections still authenticating for this user. */
  refs = 0;
  /** Settles when the initial channel list is loaded (and indexed). */
  ready: Promise<void>;
  /** Membership changes that arrived while the initial list was loading, applied after it in order. */
  pending: Array<{ add: boolean; channel: ChannelRef }> | null = [];

  constructor(userId: string) {
    this.userId = userId;
    this.ready = Promise.resolve();
  }

  get loaded(): boolean {
    return this.pending === null;
  }
}

/** A user whose sessions get an event before the rest of the channel, and what runs in between. */
export interface FirstRecipient {
  userId: string;
  then: () => void;
}

export interface RevocationNote {
  at: number;
  sessionIds: Set<string> | 'all';
}

/**
 * Every gateway session of this process and the indexes the fan-out walks:
 * session id -> session (for resume), user -> subscriptions and sessions, channel -> users.
 */
export class SessionRegistry {
  readonly #sessions = new Map<string, GatewaySession>();
  readonly #users = new Map<string, UserSubscriptions>();
  readonly #channelUsers = new Map<string, Set<UserSubscriptions>>();
  readonly #channelGuild = new Map<string, string>();
  /** Recent revocations, so a connection authenticated just before one cannot slip in after it. */
  readonly #revocations = new Map<string, RevocationNote[]>();
  readonly #loadChannels: (userId: string) => Promise<ChannelRef[]>;

  constructor(loadChannels: (userId: string) => Promise<ChannelRef[]>) {
    this.#loadChannels = loadChannels;
  }

  // ───────────────────────────── users and their channels

  /**
   * Takes a reference on the user's subscriptions, loading their channels when they have no
   * session yet. Await `subscriptions.ready` before registering a session; `release` when done.
   */
  acquire(userId: string): UserSubscriptions {
    let subscriptions = this.#users.get(userId);
    if (!subscriptions) {
      const created = new UserSubscriptions(userId);
      subscriptions = created;
      this.#users.set(userId, created);
      created.ready = this.#loadChannels(userId).then(
        (channels) => {
          if (this.#users.get(userId) !== created) return;
          for (const channel of channels) this.#subscribe(created, channel);
          for (const change of created.pending ?? []) {
            if (change.add) this.#subscribe(created, change.channel);
            else this.#unsubscribe(created, change.channel.id);
          }
          created.pending = null;
        },
        (error: unknown) => {
          if (this.#users.get(userId) === created) this.#users.delete(userId);
          throw error;
        },
      );
      // Callers await `ready`; a failure nobody awaits must not crash the process.
      created.ready.catch(() => {});
    }
    subscriptions.refs += 1;
    return subscriptions;
  }

  release(subscriptions: UserSubscriptions): void {
    subscriptions.refs -= 1;
    if (subscriptions.refs > 0 || this.#users.get(subscriptions.userId) !== subscriptions) return;
    this.#users.delete(subscriptions.userId);
    for (const channelId of subscriptions.channels) this.#unindex(subscriptions, channelId);
    subscriptions.channels.clear();
  }

  subscriptionsOf(userId: string): UserSubscriptions | undefined {
    return this.#users.get(userId);
  }

  /** The user's channel ids (empty when they have no session here). */
  channelIdsOf(userId: string): string[] {
    const subscriptions = this.#users.get(userId);
    return subscriptions ? [...subscriptions.channels] : [];
  }

  isSubscribed(userId: string, channelId: string): boolean {
    return this.#users.get(userId)?.channels.has(channelId) ?? false;
  }

  /** The user can now read the channel: its events reach their sessions from the next one on. */
  addMembership(userId: string, channel: ChannelRef): void {
    const subscriptions = this.#users.get(userId);
    if (!subscriptions) return;
    if (subscriptions.pending) subscriptions.pending.push({ add: true, channel });
    else this.#subscribe(subscriptions, channel);
  }

  /** The user can no longer read the channel: nothing of it reaches their sessions any more. */
  removeMembership(userId: string, channelId: string): void {
    const subscriptions = this.#users.get(userId);
    if (!subscriptions) return;
    if (subscriptions.pending) subscriptions.pending.push({ add: false, channel: { id: channelId, guild_id: null } });
    else this.#unsubscribe(subscriptions, channelId);
  }

  /** Every user subscribed to the channel stops (channel deleted). */
  dropChannel(channelId: string): void {
    for (const subscriptions of [...(this.#channelUsers.get(channelId) ?? [])]) this.#unsubscribe(subscriptions, channelId);
    for (const subscriptions of this.#users.values()) {
      subscriptions.pending?.push({ add: false, channel: { id: channelId, guild_id: null } });
    }
    this.#channelGuild.delete(channelId);
  }

  /** The guild's channels the user is subscribed to (for kicks, bans and leaving a guild). */
  guildChannelsOf(userId: string, guildId: string): string[] {
    const subscriptions = this.#users.get(userId);
    if (!subscriptions) return [];
    return [...subscriptions.channels].filter((channelId) => this.#channelGuild.get(channelId) === guildId);
  }

  /** Channels of the guild that some session here is subscribed to. */
  knownChannelsOfGuild(guildId: string): string[] {
    const found: string[] = [];
    for (const [channelId, guild] of this.#channelGuild) if (guild === guildId) found.push(channelId);
    return found;
  }

  /** Users with at least one session here (or authenticating). */
  userIds(): string[] {
    return [...this.#users.keys()];
  }

  usersInChannel(channelId: string): ReadonlySet<UserSubscriptions> | undefined {
    return this.#channelUsers.get(channelId);
  }

  /** Users sharing at least one channel with the user (themself excluded). */
  usersSharingChannelsWith(userId: string): Set<UserSubscriptions> {
    const found = new Set<UserSubscriptions>();
    const subscriptions = this.#users.get(userId);
    if (!subscriptions) return found;
    for (const channelId of subscriptions.channels) {
      for (const other of this.#channelUsers.get(channelId) ?? []) if (other !== subscriptions) found.add(other);
    }
    return found;
  }

  #subscribe(subscriptions: UserSubscriptions, channel: ChannelRef): void {
    if (channel.guild_id) this.#channelGuild.set(channel.id, channel.guild_id);
    if (subscriptions.channels.has(channel.id)) return;
    subscriptions.channels.add(channel.id);
    let users = this.#channelUsers.get(channel.id);
    if (!users) {
      users = new Set();
      this.#channelUsers.set(channel.id, users);
    }
    users.add(subscriptions);
  }

  #unsubscribe(subscriptions: UserSubscriptions, channelId: string): void {
    if (!subscriptions.channels.delete(channelId)) return;
    this.#unindex(subscriptions, channelId);
  }

  #unindex(subscriptions: UserSubscriptions, channelId: string): void {
    const users = this.#channelUsers.get(channelId);
    if (!users) return;
    users.delete(subscriptions);
    if (users.size === 0) {
      this.#channelUsers.delete(channelId);
      this.#channelGuild.delete(channelId);
    }
  }

  // ───────────────────────────── sessions

  /** Registers a new session for a user whose subscriptions are loaded (holds one reference). */
  createSession(
    subscriptions: UserSubscriptions,
    id: string,
    authSessionId: string,
    limits: { maxEvents: number; windowMs: number },
  ): GatewaySession {
    const session = new GatewaySession(id, subscriptions.userId, authSessionId, limits.maxEvents, limits.windowMs);
    this.#sessions.set(id, session);
    subscriptions.sessions.add(session);
    return session;
  }

  session(id: string): GatewaySession | undefined {
    return this.#sessions.get(id);
  }

  /** Forgets a session for good (expired, revoked or unresumable). */
  removeSession(session: GatewaySession): void {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    const subscriptions = this.#users.get(session.userId);
    if (subscriptions?.sessions.delete(session)) this.release(subscriptions);
  }

  sessions(): IterableIterator<GatewaySession> {
    return this.#sessions.values();
  }

  sessionsOf(userId: string): ReadonlySet<GatewaySession> {
    return this.#users.get(userId)?.sessions ?? new Set();
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  // ───────────────────────────── delivery

  /**
   * Delivers the event to every session of every user subscribed to the channel. With `first`:
   * that user's sessions (if subscribed) get it first, then `first.then()` runs, then the others,
   * all in this one synchronous call (nothing else can be delivered in between).
   */
  deliverToChannel(channelId: string, event: OutboundEvent, exceptUserId?: string, first?: FirstRecipient): number {
    const users = this.#channelUsers.get(channelId);
    let sent = 0;
    let skip: UserSubscriptions | undefined;
    if (first) {
      const author = this.#users.get(first.userId);
      if (author && author.userId !== exceptUserId && users?.has(author)) {
        skip = author;
        for (const session of author.sessions) if (session.deliver(event)) sent += 1;
      }
      try {
        first.then();
      } finally {
        // A throwing hook must not cost the others their event.
        if (users) sent += this.#deliverEach(users, event, exceptUserId, skip);
      }
      return sent;
    }
    return users ? this.#deliverEach(users, event, exceptUserId, skip) : 0;
  }

  #deliverEach(users: Set<UserSubscriptions>, event: OutboundEvent, exceptUserId: string | undefined, skip: UserSubscriptions | undefined): number {
    let sent = 0;
    for (const subscriptions of users) {
      if (subscriptions === skip || subscriptions.userId === exceptUserId) continue;
      for (const session of subscriptions.sessions) if (session.deliver(event)) sent += 1;
    }
    return sent;
  }

  deliverToUsers(users: Iterable<UserSubscriptions>, event: OutboundEvent): number {
    let sent = 0;
    for (const subscriptions of users) {
      for (const session of subscriptions.sessions) if (session.deliver(event)) sent += 1;
    }
    return sent;
  }

  // ───────────────────────────── revocations

  noteRevocation(userId: string, sessionIds: string[] | 'all', now: number, keepMs: number): void {
    const notes = (this.#revocations.get(userId) ?? []).filter((note) => now - note.at < keepMs);
    notes.push({ at: now, sessionIds: sessionIds === 'all' ? 'all' : new Set(sessionIds) });
    this.#revocations.set(userId, notes);
  }

  /** Was the auth session revoked at or after `since`? */
  revokedSince(userId: string, authSessionId: string, since: number): boolean {
    for (const note of this.#revocations.get(userId) ?? []) {
      if (note.at >= since && (note.sessionIds === 'all' || note.sessionIds.has(authSessionId))) return true;
    }
    return false;
  }

  pruneRevocations(now: number, keepMs: number): void {
    for (const [userId, notes] of this.#revocations) {
      const kept = notes.filter((note) => now - note.at < keepMs);
      if (kept.length === 0) this.#revocations.delete(userId);
      else this.#revocations.set(userId, kept);
    }
  }
}
