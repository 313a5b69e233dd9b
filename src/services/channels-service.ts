import type { DatabasePool } from 'slonik';
import type { components } from '../../generated/openapi-types.ts';
import { cursorPage } from '../domain/cursor.ts';
import { decodePageCursor } from './pagination.ts';
import { FixedWindowLimiter } from '../domain/fixed-window-limiter.ts';
import type { KeyedMutex } from '../domain/keyed-mutex.ts';
import { forbidden, invalid, notFound, ProblemError } from '../errors.ts';
import { seqOf, type DomainEvent } from '../events/domain-events.ts';
import type { EventBus } from '../events/event-bus.ts';
import * as channels from '../repositories/channels-repository.ts';
import type { ApiChannel, ApiChannelMember, ChannelType, ChannelVisibility } from '../repositories/channels-repository.ts';
import { findMessage, findMessagesByIds, toApiMessage } from '../repositories/messages-repository.ts';
import { replaceOverwrites } from '../repositories/guilds-repository.ts';
import { findUserById } from '../repositories/users-repository.ts';
import { viewerOf, type AuthContext } from './auth-service.ts';
import { resolveChannelAccess, viewableGuildChannelIds } from './channel-access.ts';
import { guildChannelAccess } from './guild-access.ts';
import type { GuildsService } from './guilds-service.ts';

export type ConversationChannel = components['schemas']['ConversationChannel'];
export type ReadState = components['schemas']['ReadState'];
export type PermissionOverwriteInput = components['schemas']['PermissionOverwrite'];

export type CreateChannelInput =
  | { type: 'room'; name: string; description?: string; visibility: ChannelVisibility }
  | { type: 'dm'; recipient_id: string };

export interface UpdateChannelInput {
  name?: string;
  description?: string | null;
  permission_overwrites?: PermissionOverwriteInput[];
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** Typing is announced at most once per user per channel in this window (extra calls are dropped). */
export const TYPING_INTERVAL_MS = 5000;

/** Trimmed name; blank after trimming is 400. */
export function normalizeName(name: string, field = '/name'): string {
  const trimmed = name.trim();
  if (trimmed === '') throw invalid(field, 'must not be blank');
  return trimmed;
}

const normalizeDescription = (description: string | null | undefined): string | null | undefined => {
  if (description === undefined || description === null) return description;
  const trimmed = description.trim();
  return trimmed === '' ? null : trimmed;
};

/** The unique key of the DM between two users: "<smaller id>:<larger id>". */
export function dmKey(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `${a}:${b}` : `${b}:${a}`;
}

/** What channel updates need from the guild module: the caller's membership and overwrite validation. */
export type GuildOverwriteRules = Pick<GuildsService, 'requireMember' | 'parseOverwrites'>;

export function createChannelsService(deps: {
  db: DatabasePool;
  events: EventBus;
  channelLock: KeyedMutex;
  guilds: GuildOverwriteRules;
  /** Epoch ms for the typing throttle's windows (tests step the clock instead of waiting 5 s). */
  now?: () => number;
}) {
  const { db, events, channelLock, guilds } = deps;
  const now = deps.now ?? Date.now;
  const typingLimiter = new FixedWindowLimiter(1, TYPING_INTERVAL_MS);

  /**
   * Runs a per-channel mutation under the channel's in-process lock and publishes its events after
   * the transaction has committed, before the next mutation of that channel starts: in one process
   * publish order is commit order (the channel row lock orders commits across processes).
   */
  function mutate<T>(channelId: string, work: () => Promise<{ result: T; events: DomainEvent[] }>): Promise<T> {
    return channelLock.run(channelId, async () => {
      const outcome = await work();
      for (const event of outcome.events) events.publish(event);
      return outcome.result;
    });
  }

  async function requireView(channelId: string): Promise<ApiChannel> {
    const view = await channels.channelView(db, channelId);
    if (!view) throw notFound('channel');
    return view;
  }

  async function requireActiveUser(userId: string) {
    const user = await findUserById(db, userId);
    if (!user || !user.active) throw notFound('user');
    return user;
  }

  async function createRoom(auth: AuthContext, input: Extract<CreateChannelInput, { type: 'room' }>) {
    const name = normalizeName(input.name);
    const description = normalizeDescription(input.description) ?? null;
    const id = await channels.allocateChannelId(db);
    return mutate(id, async () => {
      await db.transaction(async (tx) => {
        await channels.insertRoom(tx, { id, name, description, visibility: input.visibility, ownerId: auth.userId });
        await channels.insertMember(tx, id, auth.userId);
      });
      const channel = await requireView(id);
      return {
        result: { channel, created: true },
        events: [{ type: 'channel.created', channel, member_ids: [auth.userId] }],
      };
    });
  }

  /**
   * Opens the DM of a pair: the unique dm_key makes a second one impossible. Of two concurrent
   * opens, one inserts (201) and the other waits on the key, inserts nothing and reads it (200).
   */
  async function openDm(auth: AuthContext, recipientId: string) {
    if (recipientId === auth.userId) throw invalid('/recipient_id', 'must not be yourself');
    await requireActiveUser(recipientId);
    const key = dmKey(auth.userId, recipientId);
    const existing = await channels.findDmByKey(db, key);
    if (existing) return { channel: await requireView(existing.id), created: false };
    const id = await channels.allocateChannelId(db);
    return mutate(id, async () => {
      const outcome = await db.transaction(async (tx) => {
        const inserted = await channels.insertDm(tx, id, key);
        if (!inserted) {
          const found = await channels.findDmByKey(tx, key);
          if (!found) throw new Error('DM insert conflicted but no DM was found');
          return { id: found.id, created: false };
        }
        await channels.insertMember(tx, id, auth.userId);
        await channels.insertMember(tx, id, recipientId);
        return { id, created: true };
      });
      const channel = await requireView(outcome.id);
      const published: DomainEvent[] = outcome.created
        ? [{ type: 'channel.created', channel, member_ids: [auth.userId, recipientId] }]
        : [];
      return { result: { channel, created: outcome.created }, events: published };
    });
  }

  async function conversations(auth: AuthContext, channelIds: readonly string[]): Promise<ConversationChannel[]> {
    const views = await channels.channelViews(db, channelIds);
    const lastIds = views.map((view) => view.last_message_id).filter((id): id is string => id !== null);
    const [lastMessages, states] = await Promise.all([
      findMessagesByIds(db, lastIds),
      channels.readStates(db, auth.userId, channelIds),
    ]);
    const messageById = new Map(lastMessages.map((row) => [row.id, toApiMessage(row)]));
    const unreadById = new Map(states.map((state) => [state.channel_id, state.unread_count]));
    return views.map((view) => ({
      ...view,
      last_message: view.last_message_id ? (messageById.get(view.last_message_id) ?? null) : null,
      unread_count: unreadById.get(view.id) ?? 0,
    }));
  }

  /** The guild members who can view a guild channel, in guild join order, one page. */
  async function guildChannelMembersPage(channel: channels.ChannelRow & { guild_id: string }, afterJoinId: string | undefined, limit: number) {
    const found: Awaited<ReturnType<typeof channels.listGuildMembersBatch>>[number][] = [];
    let cursor = afterJoinId;
    for (;;) {
      const batch = await channels.listGuildMembersBatch(db, {
        channelId: channel.id,
        guildId: channel.guild_id,
        ...(cursor ? { afterJoinId: cursor } : {}),
        limit: 200,
      });
      const visible = await Promise.all(
        batch.map(async (row) => ((await guildChannelAccess(db, row.u_id, channel)).canView ? row : null)),
      );
      for (const row of visible) {
        if (row) found.push(row);
        if (found.length > limit) return found;
      }
      if (batch.length < 200) return found;
      cursor = batch.at(-1)!.join_id;
    }
  }

  /** Everyone who can see a channel now (before it is deleted). */
  async function audienceOf(channel: channels.ChannelRow): Promise<string[]> {
    if (channel.guild_id === null) return [...(await channels.memberIds(db, channel.id))];
    const guildChannel = { id: channel.id, guild_id: channel.guild_id };
    const members = await channels.guildMemberIds(db, channel.guild_id);
    const decisions = await Promise.all(
      members.map(async (userId) => ((await guildChannelAccess(db, userId, guildChannel)).canView ? userId : null)),
    );
    return decisions.filter((id): id is string => id !== null);
  }

  return {
    /** `{type: room}` creates a room (201); `{type: dm}` opens the DM of the pair (201 new, 200 existing). */
    async createChannel(auth: AuthContext, input: CreateChannelInput): Promise<{ channel: ApiChannel; created: boolean }> {
      if (input.type === 'room') return createRoom(auth, input);
      if (input.type === 'dm') return openDm(auth, input.recipient_id);
      throw invalid('/type', 'must be room or dm');
    },

    async listPublicChannels(_auth: AuthContext, query: PageQuery & { q?: string }) {
      const limit = query.limit ?? 50;
      const after = decodePageCursor(query.cursor, ['id'] as const);
      const ids = await channels.listPublicRooms(db, {
        ...(query.q ? { q: query.q } : {}),
        ...(after ? { afterId: after.id } : {}),
        limit,
      });
      const page = cursorPage(ids, limit, (id) => ({ id }));
      return { items: await channels.channelViews(db, page.rows), next_cursor: page.next_cursor };
    },

    async listMyChannels(auth: AuthContext, query: PageQuery & { type?: ChannelType }) {
      const limit = query.limit ?? 50;
      const after = decodePageCursor(query.cursor, ['a', 'id'] as const);
      const guildChannelIds = query.type === undefined || query.type === 'guild_text'
        ? await viewableGuildChannelIds(db, auth.userId)
        : [];
      const keys = await channels.listConversationKeys(db, {
        userId: auth.userId,
        guildChannelIds,
        ...(query.type ? { type: query.type } : {}),
        ...(after ? { after: { activity: after.a, id: after.id } } : {}),
        limit,
      });
      const page = cursorPage(keys, limit, (key) => ({ a: key.activity, id: key.id }));
      return {
        items: await conversations(
          auth,
          page.rows.map((key) => key.id),
        ),
        next_cursor: page.next_cursor,
      };
    },

    async getChannel(auth: AuthContext, channelId: string): Promise<ApiChannel> {
      await resolveChannelAccess(db, viewerOf(auth), channelId);
      return requireView(channelId);
    },

    async updateChannel(auth: AuthContext, channelId: string, input: UpdateChannelInput): Promise<ApiChannel> {
      const name = input.name === undefined ? undefined : normalizeName(input.name);
      const description = normalizeDescription(input.description);
      return mutate(channelId, async () => {
        const slot = await db.transaction(async (tx) => {
          const access = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          const { channel } = access;
          if (input.permission_overwrites !== undefined && channel.type !== 'guild_text') {
            throw invalid('/permission_overwrites', 'is only accepted on guild text channels');
          }
          if (channel.type === 'dm') throw forbidden('Direct messages cannot be changed.');
          if (!access.canManageChannel) throw forbidden('You may not change this channel.');
          if (input.permission_overwrites !== undefined && channel.guild_id !== null) {
            // Validation (bits, roles of this guild, one per role) and "grant only what you have".
            const member = await guilds.requireMember(auth, channel.guild_id, tx);
            const overwrites = await guilds.parseOverwrites(member, input.permission_overwrites);
            await replaceOverwrites(tx, channelId, channel.guild_id, overwrites);
          }
          await channels.updateChannelRow(tx, channelId, {
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
          });
          // Its place in the channel's order: new overwrites apply before the next message.
          return channels.takeEventSlot(tx, channelId);
        });
        const channel = await requireView(channelId);
        return { result: channel, events: [{ type: 'channel.updated', channel, ...seqOf(slot) }] };
      });
    },

    async deleteChannel(auth: AuthContext, channelId: string): Promise<void> {
      return mutate(channelId, async () => {
        const access = await resolveChannelAccess(db, viewerOf(auth), channelId);
        const { channel } = access;
        if (channel.type === 'dm') throw forbidden('Direct messages cannot be deleted.');
        if (channel.is_default) throw forbidden(`The default room ${channel.name ?? ''} cannot be deleted.`);
        if (!access.canManageChannel) throw forbidden('You may not delete this channel.');
        const audience = await audienceOf(channel);
        const deleted = await db.transaction(async (tx) => {
          // Re-check under the row lock: a concurrent delete or ownership change wins.
          const locked = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          if (!locked.canManageChannel) throw forbidden('You may not delete this channel.');
          return channels.deleteChannelRow(tx, channelId);
        });
        if (!deleted) throw notFound('channel');
        return {
          result: undefined,
          events: [{ type: 'channel.deleted', channel_id: channelId, guild_id: channel.guild_id, member_ids: audience }],
        };
      });
    },

    async listChannelMembers(auth: AuthContext, channelId: string, query: PageQuery) {
      const limit = query.limit ?? 50;
      const after = decodePageCursor(query.cursor, ['id'] as const);
      const { channel } = await resolveChannelAccess(db, viewerOf(auth), channelId);
      const rows =
        channel.guild_id !== null
          ? await guildChannelMembersPage({ ...channel, guild_id: channel.guild_id }, after?.id, limit)
          : await channels.listMembersPage(db, { channelId, ...(after ? { afterJoinId: after.id } : {}), limit });
      const page = cursorPage(rows, limit, (row) => ({ id: row.join_id }));
      return { items: page.rows.map(channels.toApiMember), next_cursor: page.next_cursor };
    },

    /**
     * Rooms only: a member may add anyone, a non-member only themself to a public room. Adding an
     * existing member returns the membership unchanged (and announces nothing).
     */
    async addChannelMember(auth: AuthContext, channelId: string, userId: string): Promise<ApiChannelMember> {
      return mutate(channelId, async () => {
        const outcome = await db.transaction(async (tx) => {
          const access = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          if (access.channel.type !== 'room') throw forbidden('Only room membership can be changed here.');
          if (userId !== auth.userId && !access.isMember) throw forbidden('Only members may add others to a room.');
          const user = await findUserById(tx, userId);
          if (!user || !user.active) throw notFound('user');
          const added = await channels.insertMember(tx, channelId, userId);
          const member = await channels.findMember(tx, channelId, userId);
          if (!member) throw notFound('user');
          const slot = added ? await channels.takeEventSlot(tx, channelId) : null;
          return { added, member: channels.toApiMember(member), slot };
        });
        const published: DomainEvent[] = outcome.added
          ? [{ type: 'member.joined', channel_id: channelId, user: outcome.member.user, ...seqOf(outcome.slot) }]
          : [];
        return { result: outcome.member, events: published };
      });
    },

    /**
     * Rooms only: anyone may leave; removing someone else needs the owner or an admin. When the owner
     * leaves, the longest-standing remaining member becomes the owner.
     */
    async removeChannelMember(auth: AuthContext, channelId: string, userId: string): Promise<void> {
      return mutate(channelId, async () => {
        const outcome = await db.transaction(async (tx) => {
          const access = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          if (access.channel.type !== 'room') throw forbidden('Only room membership can be changed here.');
          if (userId !== auth.userId && !access.canManageMembers) {
            throw forbidden('Only the room owner or an admin may remove other members.');
          }
          if (!(await channels.deleteMember(tx, channelId, userId))) {
            throw new ProblemError('not_found', 'That user is not a member of this room.');
          }
          let ownerChanged = false;
          if (access.channel.owner_id === userId) {
            const heir = await channels.longestStandingMember(tx, channelId);
            await channels.updateChannelRow(tx, channelId, { owner_id: heir });
            ownerChanged = true;
          }
          const slot = await channels.takeEventSlot(tx, channelId);
          // The new owner's channel.updated follows the removal in the chain.
          const ownerSlot = ownerChanged ? await channels.takeEventSlot(tx, channelId) : null;
          return { ownerChanged, slot, ownerSlot };
        });
        const published: DomainEvent[] = [{ type: 'member.left', channel_id: channelId, user_id: userId, ...seqOf(outcome.slot) }];
        if (outcome.ownerChanged) {
          published.push({ type: 'channel.updated', channel: await requireView(channelId), ...seqOf(outcome.ownerSlot) });
        }
        return { result: undefined, events: published };
      });
    },

    /** Announces typing (at most once per user per channel per 5 s; extra calls succeed silently). */
    async triggerTyping(auth: AuthContext, channelId: string): Promise<void> {
      const access = await resolveChannelAccess(db, viewerOf(auth), channelId);
      if (!access.canSend) throw forbidden(access.isMember ? 'You may not send messages here.' : 'Join the room first.');
      if (!typingLimiter.hit(`${auth.userId}:${channelId}`, now()).allowed) return;
      events.publish({ type: 'typing.started', channel_id: channelId, user_id: auth.userId, at: new Date().toISOString() });
    },

    /** Moves the caller's read marker forwards (an older id changes nothing). */
    async markChannelRead(auth: AuthContext, channelId: string, messageId: string): Promise<ReadState> {
      const access = await resolveChannelAccess(db, viewerOf(auth), channelId);
      if (!access.canRead) throw forbidden('Join the room first.');
      if (!(await findMessage(db, channelId, messageId))) throw notFound('message');
      const moved = await channels.advanceReadMarker(db, channelId, auth.userId, messageId, access.channel.guild_id !== null);
      const [state] = await channels.readStates(db, auth.userId, [channelId]);
      if (!state || state.last_read_message_id === null) throw notFound('channel');
      if (moved) events.publish({ type: 'read.updated', channel_id: channelId, user_id: auth.userId, message_id: moved });
      return { channel_id: channelId, last_read_message_id: state.last_read_message_id, unread_count: state.unread_count };
    },
  };
}

export type ChannelsService = ReturnType<typeof createChannelsService>;
