import type { FastifyBaseLogger } from 'fastify';
import { takeAfterAuthorDelivery } from '../events/author-delivery.ts';
import type { DomainEvent } from '../events/domain-events.ts';
import type { ChannelAudience, GatewayUsers } from './gateway-ports.ts';
import { outboundEvent, type OutboundEvent } from './outbound-event.ts';
import type { FirstRecipient, SessionRegistry, UserSubscriptions } from './session-registry.ts';

/** Where routed events go out (the gateway: it delivers through the registry and counts metrics). */
export interface EventDelivery {
  deliverToChannel(channelId: string, event: OutboundEvent, exceptUserId?: string, first?: FirstRecipient): void;
  deliverToUsers(users: Iterable<UserSubscriptions>, event: OutboundEvent): void;
}

/** What the router needs: the subscriptions it keeps current, who may read what, and the way out. */
export interface EventRouterDeps {
  registry: SessionRegistry;
  audience: ChannelAudience;
  users: Pick<GatewayUsers, 'publicUser'>;
  delivery: EventDelivery;
  log: Pick<FastifyBaseLogger, 'error'>;
}

/**
 * Domain events (published after commit) -> subscription changes and server event frames.
 *
 * Everything here is synchronous, in the bus's publish order, so per channel every session sees
 * events in commit order, and a membership change applies before the channel's next event.
 *
 * A few changes need the database to know who can see a guild channel (a new guild channel, a
 * changed overwrite, a new guild member, a role change). While such a lookup runs, the affected
 * channels are *gated*: their later events wait in order and are routed once the new audience is
 * in place, so nobody sees an event after losing access and nobody misses one after gaining it.
 */
export class EventRouter {
  readonly #registry: SessionRegistry;
  readonly #audience: ChannelAudience;
  readonly #users: EventRouterDeps['users'];
  readonly #delivery: EventDelivery;
  readonly #log: EventRouterDeps['log'];
  readonly #gates = new Map<string, { closed: number; queue: DomainEvent[] }>();
  #lookups: Promise<void> = Promise.resolve();

  constructor(deps: EventRouterDeps) {
    this.#registry = deps.registry;
    this.#audience = deps.audience;
    this.#users = deps.users;
    this.#delivery = deps.delivery;
    this.#log = deps.log;
  }

  route(event: DomainEvent): void {
    const channelId = channelOf(event);
    const gate = channelId === undefined ? undefined : this.#gates.get(channelId);
    if (gate) {
      gate.queue.push(event);
      return;
    }
    this.#dispatch(event);
  }

  /** Channels with a lookup in progress (tests, diagnostics). */
  get gatedChannels(): number {
    return this.#gates.size;
  }

  #close(channelIds: Iterable<string>): string[] {
    const closed: string[] = [];
    for (const channelId of channelIds) {
      let gate = this.#gates.get(channelId);
      if (!gate) {
        gate = { closed: 0, queue: [] };
        this.#gates.set(channelId, gate);
      }
      gate.closed += 1;
      closed.push(channelId);
    }
    return closed;
  }

  #open(channelIds: readonly string[]): void {
    for (const channelId of channelIds) {
      const gate = this.#gates.get(channelId);
      if (!gate) continue;
      gate.closed -= 1;
      // Replaying may close the gate again (a queued change that needs a lookup): stop there.
      while (gate.closed === 0 && gate.queue.length > 0) this.#dispatch(gate.queue.shift()!);
      if (gate.closed === 0 && this.#gates.get(channelId) === gate) this.#gates.delete(channelId);
    }
  }

  /**
   * Runs a lookup with the channels gated; failures are logged, the gates always reopen. Lookups
   * run one at a time in event order, so an older lookup can never apply after a newer one (a
   * role given right after an overwrite changed is seen in that order).
   */
  #gated(channelIds: Iterable<string>, work: () => Promise<void>): void {
    const closed = this.#close(channelIds);
    this.#lookups = this.#lookups
      .then(work)
      .catch((error: unknown) => this.#log.error({ err: error }, 'gateway subscription lookup failed'))
      .finally(() => this.#open(closed));
  }

  /** Settles when every lookup started so far has been applied. */
  idle(): Promise<void> {
    return this.#lookups;
  }

  #dispatch(event: DomainEvent): void {
    const delivery = this.#delivery;
    const registry = this.#registry;
    switch (event.type) {
      case 'message.created': {
        // The sender's hook (its ack) goes between the author's sessions and everyone else.
        const then = takeAfterAuthorDelivery(event);
        const frame = outboundEvent('message_created', { message: event.message });
        if (then) delivery.deliverToChannel(event.channel_id, frame, undefined, { userId: event.message.author.id, then });
        else delivery.deliverToChannel(event.channel_id, frame);
        return;
      }
      case 'message.updated':
        delivery.deliverToChannel(event.channel_id, outboundEvent('message_updated', { message: event.message }));
        return;
      case 'message.deleted':
        delivery.deliverToChannel(
          event.channel_id,
          outboundEvent('message_deleted', { channel_id: event.channel_id, message_id: event.message_id }),
        );
        return;
      case 'typing.started':
        delivery.deliverToChannel(
          event.channel_id,
          outboundEvent('typing_started', { channel_id: event.channel_id, user_id: event.user_id, at: event.at }),
          event.user_id,
        );
        return;
      case 'read.updated':
        delivery.deliverToChannel(
          event.channel_id,
          outboundEvent('read_receipt', { channel_id: event.channel_id, user_id: event.user_id, message_id: event.message_id }),
          event.user_id,
        );
        return;
      case 'member.joined':
        // The joining user's sessions are subscribed first, so they get member_joined too.
        registry.addMembership(event.user.id, { id: event.channel_id, guild_id: null });
        delivery.deliverToChannel(event.channel_id, outboundEvent('member_joined', { channel_id: event.channel_id, user: event.user }));
        return;
      case 'member.left':
        // Everyone subscribed, the leaving user included, gets member_left; then their stream stops.
        delivery.deliverToChannel(event.channel_id, outboundEvent('member_left', { channel_id: event.channel_id, user_id: event.user_id }));
        registry.removeMembership(event.user_id, event.channel_id);
        return;
      case 'channel.created':
        this.#channelCreated(event);
        return;
      case 'channel.updated':
        this.#channelUpdated(event);
        return;
      case 'channel.deleted': {
        const payload: Record<string, unknown> = { channel_id: event.channel_id };
        if (event.guild_id !== null) payload.guild_id = event.guild_id;
        delivery.deliverToChannel(event.channel_id, outboundEvent('channel_deleted', payload));
        registry.dropChannel(event.channel_id);
        return;
      }
      case 'guild.member_joined':
        this.#guildMemberJoined(event);
        return;
      case 'guild.member_left': {
        // Through the lookup queue (with no lookup pending it runs at once, in a microtask): a
        // lookup started before the kick (say, for the user's join) cannot re-subscribe them after
        // it, and the guild's channels hold their events until the kick has applied.
        const channelIds = [...new Set([...event.channel_ids, ...registry.guildChannelsOf(event.user_id, event.guild_id)])];
        this.#gated(channelIds, async () => {
          for (const channelId of channelIds) {
            delivery.deliverToChannel(channelId, outboundEvent('member_left', { channel_id: channelId, user_id: event.user_id }));
            registry.removeMembership(event.user_id, channelId);
          }
        });
        return;
      }
      case 'guild.deleted':
        for (const channelId of event.channel_ids) registry.dropChannel(channelId);
        return;
      case 'guild.roles_changed':
        this.#rolesChanged(event);
        return;
      case 'guild.created':
      case 'guild.updated':
      case 'user.updated':
      case 'sessions.revoked':
        return;
    }
  }

  #channelCreated(event: Extract<DomainEvent, { type: 'channel.created' }>): void {
    const delivery = this.#delivery;
    const registry = this.#registry;
    const { channel } = event;
    const frame = () => outboundEvent('channel_created', { channel });
    if (channel.guild_id === null) {
      const members = (event.member_ids ?? []).filter((userId) => registry.subscriptionsOf(userId));
      for (const userId of members) registry.addMembership(userId, { id: channel.id, guild_id: null });
      delivery.deliverToUsers(members.map((userId) => registry.subscriptionsOf(userId)!), frame());
      return;
    }
    const guildId = channel.guild_id;
    this.#gated([channel.id], async () => {
      const viewers = await this.#localViewers(guildId, [channel.id]);
      const users = [];
      for (const [userId, visible] of viewers) {
        if (!visible.has(channel.id)) continue;
        registry.addMembership(userId, { id: channel.id, guild_id: guildId });
        const subscriptions = registry.subscriptionsOf(userId);
        if (subscriptions) users.push(subscriptions);
      }
      delivery.deliverToUsers(users, frame());
    });
  }

  #channelUpdated(event: Extract<DomainEvent, { type: 'channel.updated' }>): void {
    const delivery = this.#delivery;
    const { channel } = event;
    const frame = () => outboundEvent('channel_updated', { channel });
    if (channel.guild_id === null) {
      delivery.deliverToChannel(channel.id, frame());
      return;
    }
    // Overwrites may have changed who can see it.
    const guildId = channel.guild_id;
    this.#gated([channel.id], async () => {
      const viewers = await this.#localViewers(guildId, [channel.id]);
      await this.#applyVisibility(guildId, viewers, [channel.id]);
      delivery.deliverToChannel(channel.id, frame());
    });
  }

  #guildMemberJoined(event: Extract<DomainEvent, { type: 'guild.member_joined' }>): void {
    const delivery = this.#delivery;
    const registry = this.#registry;
    this.#gated(event.channel_ids, async () => {
      const visible = new Set(await this.#audience.viewableChannelsOfGuild(event.user.id, event.guild_id));
      for (const channelId of event.channel_ids) {
        if (!visible.has(channelId)) continue;
        registry.addMembership(event.user.id, { id: channelId, guild_id: event.guild_id });
        delivery.deliverToChannel(channelId, outboundEvent('member_joined', { channel_id: channelId, user: event.user }));
      }
    });
  }

  #rolesChanged(event: Extract<DomainEvent, { type: 'guild.roles_changed' }>): void {
    const registry = this.#registry;
    const known = [...registry.knownChannelsOfGuild(event.guild_id)];
    this.#gated(known, async () => {
      const viewers = await this.#localViewers(event.guild_id, null, event.user_id);
      await this.#applyVisibility(event.guild_id, viewers, null);
    });
  }

  /**
   * For users with sessions here who are members of the guild (or just `onlyUserId`): the guild
   * channels each can view now (restricted to `channelIds` when given).
   */
  async #localViewers(guildId: string, channelIds: string[] | null, onlyUserId: string | null = null): Promise<Map<string, Set<string>>> {
    const registry = this.#registry;
    const local = onlyUserId !== null ? (registry.subscriptionsOf(onlyUserId) ? [onlyUserId] : []) : registry.userIds();
    const members = await this.#audience.guildMembersAmong(guildId, local);
    const result = new Map<string, Set<string>>();
    // Users of this guild who are here but no longer members: they see nothing of it.
    for (const userId of local) if (!members.includes(userId)) result.set(userId, new Set());
    await Promise.all(
      members.map(async (userId) => {
        const visible = await this.#audience.viewableChannelsOfGuild(userId, guildId);
        result.set(userId, new Set(channelIds ? visible.filter((id) => channelIds.includes(id)) : visible));
      }),
    );
    return result;
  }

  /**
   * Brings subscriptions in line with what each user can view. A user who lost a channel gets
   * `member_left` for it (their stream stops), one who gained one gets `member_joined` (it starts);
   * only their own sessions are told, since the channel's audience as others see it is unchanged.
   * The user objects are loaded first; the changes then apply synchronously.
   */
  async #applyVisibility(guildId: string, viewers: Map<string, Set<string>>, scope: string[] | null): Promise<void> {
    const delivery = this.#delivery;
    const registry = this.#registry;
    const gainers = [...viewers]
      .filter(([userId, visible]) => registry.subscriptionsOf(userId) && [...visible].some((id) => !registry.isSubscribed(userId, id)))
      .map(([userId]) => userId);
    const found = await Promise.all(gainers.map((userId) => this.#users.publicUser(userId)));
    const users = new Map(found.filter((user) => user !== null).map((user) => [user.id, user]));
    for (const [userId, visible] of viewers) {
      const subscriptions = registry.subscriptionsOf(userId);
      if (!subscriptions) continue;
      const current = registry.guildChannelsOf(userId, guildId).filter((id) => scope === null || scope.includes(id));
      for (const channelId of current) {
        if (visible.has(channelId)) continue;
        delivery.deliverToUsers([subscriptions], outboundEvent('member_left', { channel_id: channelId, user_id: userId }));
        registry.removeMembership(userId, channelId);
      }
      const user = users.get(userId);
      if (!user) continue;
      for (const channelId of visible) {
        if (registry.isSubscribed(userId, channelId)) continue;
        registry.addMembership(userId, { id: channelId, guild_id: guildId });
        delivery.deliverToUsers([subscriptions], outboundEvent('member_joined', { channel_id: channelId, user }));
      }
    }
  }
}

/** The channel an event belongs to (for gating), if any. */
function channelOf(event: DomainEvent): string | undefined {
  switch (event.type) {
    case 'message.created':
    case 'message.updated':
    case 'message.deleted':
    case 'typing.started':
    case 'read.updated':
    case 'member.joined':
    case 'member.left':
    case 'channel.deleted':
      return event.channel_id;
    case 'channel.created':
    case 'channel.updated':
      return event.channel.id;
    default:
      return undefined;
  }
}
