import type { DatabasePool, DatabaseTransactionConnection } from 'slonik';
import type { components } from '../../generated/openapi-types.ts';
import { isRolledBackByServer } from '../db/database-errors.ts';
import { cutPage, pageFetchSize } from '../domain/cursor.ts';
import { GroupCommit } from '../domain/group-commit.ts';
import type { KeyedMutex } from '../domain/keyed-mutex.ts';
import { roomReadAccess } from '../domain/room-read-access.ts';
import { forbidden, invalid, notFound, ProblemError } from '../errors.ts';
import { setAfterAuthorDelivery } from '../events/author-delivery.ts';
import type { EventBus } from '../events/event-bus.ts';
import { seqOf } from '../events/domain-events.ts';
import * as channels from '../repositories/channels-repository.ts';
import * as messages from '../repositories/messages-repository.ts';
import type { ApiMessage, MessageRow } from '../repositories/messages-repository.ts';
import type { SendTarget } from '../repositories/channels-repository.ts';
import { viewerOf, type AuthContext } from './auth-service.ts';
import { resolveChannelAccess, viewableGuildChannelIds, type ChannelAccess } from './channel-access.ts';
import { guildChannelAccess } from './guild-access.ts';

export type UserStats = components['schemas']['UserStats'];

export const MAX_CONTENT_LENGTH = 4000;
export const MAX_NONCE_LENGTH = 64;

export interface SendMessageInput {
  content: string;
  nonce?: string;
  reply_to_id?: string;
}

export interface HistoryQuery {
  before?: string;
  after?: string;
  around?: string;
  limit?: number;
}

export interface SearchQuery {
  q: string;
  channel_id?: string;
  author_id?: string;
  before?: string;
  limit?: number;
}

/** Trimmed content of 1..4000 characters (Unicode code points). */
export function normalizeContent(content: string, field = '/content'): string {
  const trimmed = content.trim();
  if (trimmed === '') throw invalid(field, 'must not be blank');
  // Code points never outnumber UTF-16 units: count them only when the cheap length is over.
  if (trimmed.length > MAX_CONTENT_LENGTH && [...trimmed].length > MAX_CONTENT_LENGTH) {
    throw invalid(field, `must not have more than ${MAX_CONTENT_LENGTH} characters`);
  }
  return trimmed;
}

const JOIN_FIRST = 'Join the room first.';
const readForbidden = (access: ChannelAccess) => forbidden(access.channel.guild_id !== null ? 'You may not read this channel.' : JOIN_FIRST);

/**
 * Picks the `around` window: up to `limit` messages, about half older than the anchor and half from
 * it onwards, filling from the other side when one side runs short.
 */
export function aroundWindow(olderAvailable: number, newerAvailable: number, limit: number) {
  const older = Math.min(olderAvailable, Math.max(Math.floor(limit / 2), limit - newerAvailable));
  const newer = Math.min(newerAvailable, limit - older);
  return { older, newer };
}

/** Most sends committed in one transaction (bounds the statement: 256 × 4,000 characters ≈ 4 MB). */
const MAX_SEND_BATCH = 256;

interface SendRequest {
  channelId: string;
  authorId: string;
  content: string;
  nonce: string | null;
  replyToId: string | null;
}

type SendResult = { ok: true; row: MessageRow; created: boolean; prevId?: string | null } | { ok: false; error: ProblemError };

const refused = (error: ProblemError): SendResult => ({ ok: false, error });

/**
 * One transaction for a batch of sends (at most one per channel), each decided on its own.
 * Round trips: BEGIN, the channel row locks, the guild checks (guild channels only), one statement
 * for all the inserts together, COMMIT.
 */
async function sendBatch(tx: DatabaseTransactionConnection, requests: readonly SendRequest[]): Promise<SendResult[]> {
  const targets = new Map(
    (await channels.lockChannelsForSend(tx, requests.map((request) => request.channelId))).map((target) => [target.id, target]),
  );
  const results: (SendResult | undefined)[] = new Array(requests.length);
  const inserts: { index: number; target: SendTarget; item: messages.SendItem }[] = [];
  for (const [index, request] of requests.entries()) {
    const target = targets.get(request.channelId);
    if (!target) {
      results[index] = refused(notFound('channel'));
      continue;
    }
    // Guild channels: VIEW_CHANNEL / SEND_MESSAGES from the guild module (404 / 403).
    if (target.guild_id !== null) {
      const guild = await guildChannelAccess(tx, request.authorId, { id: target.id, guild_id: target.guild_id });
      if (!guild.canView) {
        results[index] = refused(notFound('channel'));
        continue;
      }
      if (!guild.canSend) {
        results[index] = refused(forbidden('You may not send messages in this channel.'));
        continue;
      }
    }
    inserts.push({
      index,
      target,
      item: { ...request, checkMembership: target.guild_id === null, lastAllocatedId: target.last_allocated_id },
    });
  }
  // After the locks (a later statement, so a later snapshot): a concurrent send with the same
  // nonce, and any membership change, has committed (and is seen) or not started.
  const outcomes = await messages.insertMessagesChecked(tx, inserts.map((insert) => insert.item));
  outcomes.forEach((outcome, position) => {
    const { index, target } = inserts[position]!;
    results[index] = sendResultOf(outcome, target);
  });
  return results.map((result) => result!);
}

function sendResultOf(outcome: messages.SendOutcome, target: SendTarget): SendResult {
  switch (outcome.kind) {
    case 'not_member':
      // A DM or private room is invisible to non-members; a public room is visible (403).
      if (target.type === 'dm' || target.visibility === 'private') return refused(notFound('channel'));
      return refused(forbidden('Join the room first.'));
    case 'nonce_hit':
      return { ok: true, row: outcome.row, created: false };
    case 'invalid_reply':
      return refused(invalid('/reply_to_id', 'must be a message in this channel'));
    case 'created':
      return { ok: true, row: outcome.row, created: true, prevId: target.last_allocated_id };
  }
}

export function createMessagesService(deps: {
  db: DatabasePool;
  events: EventBus;
  channelLock: KeyedMutex;
  /** Send transactions running at once (each holds a pooled connection). */
  sendConcurrency: number;
}) {
  const { db, events, channelLock, sendConcurrency } = deps;

  async function readable(auth: AuthContext, channelId: string): Promise<ChannelAccess> {
    const access = await resolveChannelAccess(db, viewerOf(auth), channelId);
    if (!access.canRead) throw readForbidden(access);
    return access;
  }

  /**
   * The read check of a history page from the facts its query returned: rooms and DMs by the
   * room rule (404 when hidden, 403 for a public room the caller has not joined), guild channels
   * by the guild module (VIEW_CHANNEL, 404 without it), as resolveChannelAccess decides them.
   */
  async function mayRead(auth: AuthContext, channelId: string, facts: messages.ReadFacts): Promise<void> {
    if (facts.guildId !== null) {
      const guild = await guildChannelAccess(db, auth.userId, { id: channelId, guild_id: facts.guildId });
      if (!guild.canView) throw notFound('channel');
      return;
    }
    const access = roomReadAccess(facts);
    if (access === 'hidden') throw notFound('channel');
    if (access === 'forbidden') throw forbidden(JOIN_FIRST);
  }

  /**
   * Concurrent sends (to different channels: one per channel per batch) are committed together:
   * one transaction, four round trips and one WAL flush for the whole batch instead of per
   * message. Each send is still acked only after the commit that stored it, and a lone send
   * starts at once.
   */
  const sendBatches = new GroupCommit<SendRequest, SendResult>({
    maxBatch: MAX_SEND_BATCH,
    maxInFlight: sendConcurrency,
    keyOf: (request) => request.channelId,
    run: (requests) => db.transaction((tx) => sendBatch(tx, requests)),
    // A statement error rolled the batch back: retry each send alone so only the bad one fails.
    // A lost connection may have lost the reply to a COMMIT that happened: never store twice.
    retryAlone: isRolledBackByServer,
  });

  return {
    /** Sends waiting for a batch, and batches running (diagnostics; tests wait for a queue to form). */
    sendQueue(): { queued: number; inFlight: number } {
      return { queued: sendBatches.queued, inFlight: sendBatches.inFlight };
    },

    /**
     * Stores a message, or returns the earlier one for a nonce seen in the last 24 hours
     * (`created: false`; nothing stored or announced). Runs under the channel lock, so
     * message.created is published after commit and in commit order; concurrent sends to other
     * channels share the transaction (group commit, see sendBatches).
     *
     * `onAuthorDelivered`: called at most once, after commit, when this process's gateway has
     * given the new message to the author's own sessions and before the rest of the channel
     * (src/events/author-delivery.ts); the gateway writes the sender's ack there. Not called for a
     * nonce hit or when the event is held back: the caller acks when `send` returns.
     */
    async send(
      auth: AuthContext,
      channelId: string,
      input: SendMessageInput,
      onAuthorDelivered?: (message: ApiMessage) => void,
    ): Promise<{ message: ApiMessage; created: boolean }> {
      const content = normalizeContent(input.content);
      const nonce = input.nonce ?? null;
      if (nonce !== null && (nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH)) {
        throw invalid('/nonce', `must have 1 to ${MAX_NONCE_LENGTH} characters`);
      }
      const request: SendRequest = { channelId, authorId: auth.userId, content, nonce, replyToId: input.reply_to_id ?? null };
      return channelLock.run(channelId, async () => {
        const outcome = await sendBatches.submit(request);
        if (!outcome.ok) throw outcome.error;
        const message = messages.toApiMessage(outcome.row);
        if (outcome.created) {
          const event = { type: 'message.created' as const, channel_id: channelId, message, prev_id: outcome.prevId ?? null };
          if (onAuthorDelivered) setAfterAuthorDelivery(event, () => onAuthorDelivered(message));
          events.publish(event);
        }
        return { message, created: outcome.created };
      });
    },

    /** History, newest first, with exactly one of before/after/around (or none: the newest). */
    async list(auth: AuthContext, channelId: string, query: HistoryQuery): Promise<{ items: ApiMessage[]; has_more: boolean }> {
      const given = (['before', 'after', 'around'] as const).filter((name) => query[name] !== undefined);
      if (given.length > 1) {
        throw new ProblemError(
          'validation_failed',
          `Give at most one of before, after and around (got ${given.join(', ')}).`,
          given.map((name) => ({ in: 'query', field: `/${name}`, message: 'cannot be combined with another cursor' })),
        );
      }
      const limit = query.limit ?? 50;
      if (query.around !== undefined) {
        await readable(auth, channelId);
        const [older, newer] = await Promise.all([
          messages.historySlice(db, { channelId, direction: 'older', bound: query.around, limit: pageFetchSize(limit) }),
          messages.historySlice(db, { channelId, direction: 'newer', bound: query.around, inclusive: true, limit: pageFetchSize(limit) }),
        ]);
        const take = aroundWindow(older.length, newer.length, limit);
        const window = [...newer.slice(0, take.newer).reverse(), ...older.slice(0, take.older)];
        return {
          items: window.map(messages.toApiMessage),
          has_more: older.length > take.older || newer.length > take.newer,
        };
      }
      // The hot path: the access facts and the page in one round trip; the page is only returned
      // once the facts say the caller may read it (the same rule as resolveChannelAccess).
      const found = await messages.historySliceWithAccess(db, {
        channelId,
        userId: auth.userId,
        ...(query.after !== undefined
          ? { direction: 'newer' as const, bound: query.after }
          : { direction: 'older' as const, ...(query.before !== undefined ? { bound: query.before } : {}) }),
        limit: pageFetchSize(limit),
      });
      if (!found) throw notFound('channel');
      await mayRead(auth, channelId, found.facts);
      const page = cutPage(found.rows, limit);
      if (query.after !== undefined) page.rows.reverse();
      return { items: page.rows.map(messages.toApiMessage), has_more: page.hasMore };
    },

    async get(auth: AuthContext, channelId: string, messageId: string): Promise<ApiMessage> {
      await readable(auth, channelId);
      const row = await messages.findMessage(db, channelId, messageId);
      if (!row) throw notFound('message');
      return messages.toApiMessage(row);
    },

    /** Author only; sets edited_at. */
    async edit(auth: AuthContext, channelId: string, messageId: string, input: { content: string }): Promise<ApiMessage> {
      const content = normalizeContent(input.content);
      return channelLock.run(channelId, async () => {
        const row = await db.transaction(async (tx) => {
          const access = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          if (!access.canRead) throw readForbidden(access);
          const existing = await messages.findMessage(tx, channelId, messageId);
          if (!existing) throw notFound('message');
          if (existing.u_id !== auth.userId) throw forbidden('Only the author may edit a message.');
          const updated = await messages.updateMessageContent(tx, channelId, messageId, content);
          if (!updated) throw notFound('message');
          return { updated, slot: await channels.takeEventSlot(tx, channelId) };
        });
        const message = messages.toApiMessage(row.updated);
        events.publish({ type: 'message.updated', channel_id: channelId, message, ...seqOf(row.slot) });
        return message;
      });
    },

    /** The author, the room owner, MANAGE_MESSAGES in a guild channel, or an admin. */
    async remove(auth: AuthContext, channelId: string, messageId: string): Promise<void> {
      return channelLock.run(channelId, async () => {
        const slot = await db.transaction(async (tx) => {
          const access = await resolveChannelAccess(tx, viewerOf(auth), channelId, { lock: true });
          if (!access.canRead && !access.isAdmin) throw readForbidden(access);
          const existing = await messages.findMessage(tx, channelId, messageId);
          if (!existing) throw notFound('message');
          if (existing.u_id !== auth.userId && !access.canManageMessages) {
            throw forbidden('Only the author, the room owner, a moderator or an admin may delete this message.');
          }
          if (!(await messages.softDeleteMessage(tx, channelId, messageId))) throw notFound('message');
          return channels.takeEventSlot(tx, channelId);
        });
        events.publish({ type: 'message.deleted', channel_id: channelId, message_id: messageId, ...seqOf(slot) });
      });
    },

    /** Ranked full-text search over the channels the caller can read right now. */
    async search(auth: AuthContext, query: SearchQuery): Promise<{ items: ApiMessage[]; has_more: boolean }> {
      const limit = query.limit ?? 50;
      let guildChannelIds: string[];
      if (query.channel_id !== undefined) {
        const access = await readable(auth, query.channel_id);
        guildChannelIds = access.channel.guild_id !== null ? [access.channel.id] : [];
      } else {
        guildChannelIds = await viewableGuildChannelIds(db, auth.userId);
      }
      const rows = await messages.searchMessages(db, {
        userId: auth.userId,
        guildChannelIds,
        q: query.q,
        ...(query.channel_id !== undefined ? { channelId: query.channel_id } : {}),
        ...(query.author_id !== undefined ? { authorId: query.author_id } : {}),
        ...(query.before !== undefined ? { before: query.before } : {}),
        limit,
      });
      const page = cutPage(rows, limit);
      return { items: page.rows.map(messages.toApiMessage), has_more: page.hasMore };
    },

    async stats(auth: AuthContext): Promise<UserStats> {
      const guildChannelIds = await viewableGuildChannelIds(db, auth.userId);
      const [counts, memberChannelIds] = await Promise.all([
        messages.messageCounts(db, auth.userId, guildChannelIds),
        channels.memberChannelIds(db, auth.userId),
      ]);
      const states = await channels.readStates(db, auth.userId, [...new Set([...memberChannelIds, ...guildChannelIds])]);
      const unread = states
        .filter((state) => state.unread_count > 0)
        .map((state) => ({ channel_id: state.channel_id, unread_count: state.unread_count }))
        .sort((a, b) => b.unread_count - a.unread_count || (BigInt(a.channel_id) < BigInt(b.channel_id) ? -1 : 1));
      return {
        messages_sent: counts.messages_sent,
        messages_received: counts.messages_received,
        unread_total: unread.reduce((sum, channel) => sum + channel.unread_count, 0),
        channels: unread,
      };
    },
  };
}

export type MessagesService = ReturnType<typeof createMessagesService>;
