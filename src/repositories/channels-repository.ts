import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { components } from '../../generated/openapi-types.ts';
import { pageFetchSize } from '../domain/cursor.ts';
import { embeddedUserColumns, embeddedUserShape, toEmbeddedUser } from './embedded-user.ts';

/*
 * LOCK ORDER — every transaction that locks more than one of these takes them in this order:
 *
 *   1. the guild row (guilds-repository lockGuild), if it takes it at all;
 *   2. channel rows, in ascending id order (lockChannel, lockChannelsForSend, takeEventSlot,
 *      takeGuildEventSlots, lockGuildChannels);
 *   3. anything else a channel-level transaction may lock: messages, channel_members, permission
 *      overwrites, roles (an overwrite's foreign key takes KEY SHARE on its role; deleting a role
 *      deletes overwrites), users (a message's author, KEY SHARE).
 *
 * A transaction may skip a level, never go back up. Guild-level transactions (kick, ban, leave,
 * join, role changes, guild deletion) take the guild row first. Channel-level transactions (sends,
 * edits, deletions, room membership, channel updates and deletion) take no guild lock of their own,
 * but PostgreSQL's foreign-key check on channels.guild_id takes KEY SHARE on the guild row when a
 * transaction updates a guild channel's row a second time (an edit of the channel, then its event
 * slot; a deletion that moves last_message_id, then its slot): that is channel, then guild. So
 * guild-level transactions lock the guild row in modes that do not conflict with KEY SHARE
 * (guilds-repository lockGuild: NO KEY UPDATE, SHARE), and the only FOR UPDATE of a guild row, its
 * deletion, comes after that guild's channel rows are locked (lockGuildChannels). Rows that no channel-level transaction ever locks (guild_members, guild_member_roles,
 * guild_bans, guild_invites) may be taken by a guild-level transaction between 1 and 2: it lets a
 * join or a role assignment find out whether it changed anything before taking slots. Two guild-level
 * transactions of one guild meet at the guild row first. So no cycle of waits can form
 * (test/services/lock-order.test.ts runs sends, kicks, bans, joins and role changes at once).
 */

export type ApiChannel = components['schemas']['Channel'];
export type ApiChannelMember = components['schemas']['ChannelMember'];
export type ChannelType = components['schemas']['ChannelType'];
export type ChannelVisibility = components['schemas']['ChannelVisibility'];

export const channelRowSchema = z.object({
  id: z.string(),
  type: z.enum(['room', 'dm', 'guild_text']),
  name: z.string().nullable(),
  description: z.string().nullable(),
  visibility: z.enum(['public', 'private']).nullable(),
  guild_id: z.string().nullable(),
  owner_id: z.string().nullable(),
  is_default: z.boolean(),
  last_message_id: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type ChannelRow = z.infer<typeof channelRowSchema>;

const channelColumns = sql.fragment`
  c.id, c.type, c.name, c.description, c.visibility, c.guild_id, c.owner_id, c.is_default,
  c.last_message_id, c.created_at, c.updated_at`;

const ids = (values: readonly string[]) => sql.array([...values], 'int8');

/** A fresh channel id, taken before the insert so the creation can run under the channel's lock. */
export function allocateChannelId(db: CommonQueryMethods): Promise<string> {
  return db.oneFirst(sql.type(z.object({ id: z.string() }))`SELECT next_id() AS id`);
}

export function findChannel(db: CommonQueryMethods, id: string): Promise<ChannelRow | null> {
  return db.maybeOne(sql.type(channelRowSchema)`SELECT ${channelColumns} FROM channels c WHERE c.id = ${id}`);
}

/**
 * Takes the channel row lock for the rest of the transaction. Every per-channel write (send, edit,
 * delete, membership, channel changes) takes it first, so they commit one at a time per channel.
 * NO KEY UPDATE: inserts referencing the channel (messages, members) are not blocked by it.
 */
export function lockChannel(db: CommonQueryMethods, id: string): Promise<ChannelRow | null> {
  return db.maybeOne(sql.type(channelRowSchema)`
    SELECT ${channelColumns} FROM channels c WHERE c.id = ${id} FOR NO KEY UPDATE`);
}

const eventSlotSchema = z.object({ id: z.string(), prev_id: z.string().nullable() });
export type EventSlot = z.infer<typeof eventSlotSchema>;

/**
 * A place in the channel's event order for a non-message event (edit, deletion, member joined or
 * left), taken in the transaction that makes the change: a fresh id above the channel's
 * last_allocated_id, which becomes the new last_allocated_id. Sends allocate their message ids from
 * the same column under the same row lock, so messages and these events form one dense chain
 * prev_id -> id per channel, in commit order, which a shared bus orders by (src/bus/). The UPDATE
 * holds the row lock until commit. Null when the channel is gone.
 */
export function takeEventSlot(db: CommonQueryMethods, channelId: string): Promise<EventSlot | null> {
  return db.maybeOne(sql.type(eventSlotSchema)`
    WITH old AS (SELECT last_allocated_id FROM channels WHERE id = ${channelId} FOR NO KEY UPDATE)
    UPDATE channels c SET last_allocated_id = GREATEST(next_id(), COALESCE(old.last_allocated_id, 0) + 1)
    FROM old WHERE c.id = ${channelId}
    RETURNING c.last_allocated_id::text AS id, old.last_allocated_id::text AS prev_id`);
}

const guildSlotSchema = eventSlotSchema.extend({ channel_id: z.string() });
export type GuildEventSlot = z.infer<typeof guildSlotSchema>;

/**
 * A guild-wide event's place in the chain of every text channel of the guild (a kick, a role
 * change: each may change who reads any of them), like takeEventSlot for each: the channel rows
 * are locked in id order (LOCK ORDER above) and each gets a fresh last_allocated_id. The caller
 * holds the guild row lock, so the set of channels cannot change before commit. Ordered by channel.
 */
export function takeGuildEventSlots(db: CommonQueryMethods, guildId: string): Promise<readonly GuildEventSlot[]> {
  return db.any(sql.type(guildSlotSchema)`
    WITH old AS MATERIALIZED (
      SELECT id, last_allocated_id FROM channels WHERE guild_id = ${guildId} ORDER BY id FOR NO KEY UPDATE
    )
    UPDATE channels c SET last_allocated_id = GREATEST(next_id(), COALESCE(old.last_allocated_id, 0) + 1)
    FROM old WHERE c.id = old.id
    RETURNING c.id::text AS channel_id, c.last_allocated_id::text AS id, old.last_allocated_id::text AS prev_id`);
}

/** Locks every channel row of a guild in id order (LOCK ORDER), before a change that deletes them. */
export async function lockGuildChannels(db: CommonQueryMethods, guildId: string): Promise<void> {
  await db.any(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM channels WHERE guild_id = ${guildId} ORDER BY id FOR NO KEY UPDATE`);
}

/**
 * An id at or below which no id allocated from now on can be (next_id() is the time in ms above
 * bit 22, and a chain id is never below next_id() at its allocation): the shared bus reads it before
 * it listens, and a channel's chain seen for the first time starts there (src/domain/channel-sequencer.ts).
 */
export function chainFloor(db: CommonQueryMethods): Promise<string> {
  return db.oneFirst(sql.type(z.object({ id: z.string() }))`SELECT (((next_id() >> 22) << 22) - 1)::text AS id`);
}

const sendTargetSchema = z.object({
  id: z.string(),
  type: z.enum(['room', 'dm', 'guild_text']),
  visibility: z.enum(['public', 'private']).nullable(),
  guild_id: z.string().nullable(),
  /** The newest id handed out in the channel: a new message id must be above it. */
  last_allocated_id: z.string().nullable(),
});
export type SendTarget = z.infer<typeof sendTargetSchema>;

/**
 * The send path's lockChannel, for a batch of sends: takes the same channel row locks (NO KEY
 * UPDATE) in id order (so concurrent batches, in any process, cannot deadlock) and returns only
 * what a send needs to decide access and allocate ids. Missing channels are simply absent. A
 * locking read returns the newest committed row version, and the lock keeps it current until
 * commit, so `last_allocated_id` here is the one the insert must stay above. Every check that must
 * see earlier committed writes runs in a later statement (see messages-repository
 * insertMessagesChecked), after these locks are held.
 */
export function lockChannelsForSend(db: CommonQueryMethods, channelIds: readonly string[]): Promise<readonly SendTarget[]> {
  return db.any(sql.prepared('lock_channels_for_send', sendTargetSchema)`
    SELECT c.id, c.type, c.visibility, c.guild_id, c.last_allocated_id FROM channels c
    WHERE c.id = ANY(${ids(channelIds)})
    ORDER BY c.id
    FOR NO KEY UPDATE`);
}

const membershipSchema = z.object({
  joined_at: z.string(),
  last_read_message_id: z.string().nullable(),
});

export function findMembership(db: CommonQueryMethods, channelId: string, userId: string) {
  return db.maybeOne(sql.type(membershipSchema)`
    SELECT joined_at, last_read_message_id FROM channel_members
    WHERE channel_id = ${channelId} AND user_id = ${userId}`);
}

const channelWithMembershipSchema = channelRowSchema.extend({ is_member: z.boolean() });

/**
 * findChannel and findMembership in one round trip (the read path's access check).
 * `is_member`: the user has a channel_members row (for a guild channel that is only a read marker).
 */
export async function findChannelWithMembership(
  db: CommonQueryMethods,
  id: string,
  userId: string,
): Promise<{ channel: ChannelRow; isMember: boolean } | null> {
  // A named prepared statement: it runs on every channel and message route, and PostgreSQL
  // plans it once per connection instead of once per request (≈ 110 → 25 µs of database CPU).
  const row = await db.maybeOne(sql.prepared('channel_with_membership', channelWithMembershipSchema)`
    SELECT ${channelColumns}, (cm.user_id IS NOT NULL) AS is_member
    FROM channels c
    LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ${userId}
    WHERE c.id = ${id}`);
  if (!row) return null;
  const { is_member: isMember, ...channel } = row;
  return { channel, isMember };
}

export function insertRoom(
  db: CommonQueryMethods,
  room: { id: string; name: string; description: string | null; visibility: ChannelVisibility; ownerId: string },
): Promise<ChannelRow> {
  return db.one(sql.type(channelRowSchema)`
    INSERT INTO channels AS c (id, type, name, description, visibility, owner_id)
    VALUES (${room.id}, 'room', ${room.name}, ${room.description}, ${room.visibility}, ${room.ownerId})
    RETURNING ${channelColumns}`);
}

/** Inserts the DM for a pair, or nothing when it exists (also when a concurrent insert just committed). */
export function insertDm(db: CommonQueryMethods, id: string, dmKey: string): Promise<ChannelRow | null> {
  return db.maybeOne(sql.type(channelRowSchema)`
    INSERT INTO channels AS c (id, type, dm_key) VALUES (${id}, 'dm', ${dmKey})
    ON CONFLICT (dm_key) DO NOTHING
    RETURNING ${channelColumns}`);
}

export function findDmByKey(db: CommonQueryMethods, dmKey: string): Promise<ChannelRow | null> {
  return db.maybeOne(sql.type(channelRowSchema)`SELECT ${channelColumns} FROM channels c WHERE c.dm_key = ${dmKey}`);
}

/** Adds a member; false when they already were one. */
export async function insertMember(db: CommonQueryMethods, channelId: string, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ user_id: z.string() }))`
    INSERT INTO channel_members (channel_id, user_id) VALUES (${channelId}, ${userId})
    ON CONFLICT (channel_id, user_id) DO NOTHING
    RETURNING user_id`);
  return row !== null;
}

export async function deleteMember(db: CommonQueryMethods, channelId: string, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ user_id: z.string() }))`
    DELETE FROM channel_members WHERE channel_id = ${channelId} AND user_id = ${userId} RETURNING user_id`);
  return row !== null;
}

/** The longest-standing remaining member of a room (who inherits ownership), if any. */
export function longestStandingMember(db: CommonQueryMethods, channelId: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(z.object({ user_id: z.string() }))`
    SELECT cm.user_id FROM channel_members cm JOIN users u ON u.id = cm.user_id
    WHERE cm.channel_id = ${channelId} AND u.deleted_at IS NULL
    ORDER BY cm.join_id LIMIT 1`);
}

export function memberIds(db: CommonQueryMethods, channelId: string): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ user_id: z.string() }))`
    SELECT user_id FROM channel_members WHERE channel_id = ${channelId} ORDER BY join_id`);
}

export interface ChannelChanges {
  name?: string;
  description?: string | null;
  owner_id?: string | null;
}

export function updateChannelRow(db: CommonQueryMethods, id: string, changes: ChannelChanges): Promise<ChannelRow | null> {
  const assignments = Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql.fragment`${sql.identifier([column])} = ${value as string | null}`);
  return db.maybeOne(sql.type(channelRowSchema)`
    UPDATE channels AS c SET ${sql.join([...assignments, sql.fragment`updated_at = now()`], sql.fragment`, `)}
    WHERE c.id = ${id}
    RETURNING ${channelColumns}`);
}

/** Deletes the channel; its messages, nonces and memberships go with it (ON DELETE CASCADE). */
export async function deleteChannelRow(db: CommonQueryMethods, id: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ id: z.string() }))`DELETE FROM channels WHERE id = ${id} RETURNING id`);
  return row !== null;
}

// ───────────────────────────── API views ─────────────────────────────

const channelViewSchema = channelRowSchema.extend({ member_count: z.number() });
const recipientSchema = z.object({ channel_id: z.string(), ...embeddedUserShape });
const overwriteSchema = z.object({ channel_id: z.string(), role_id: z.string(), allow: z.string(), deny: z.string() });

/**
 * The API's `Channel` objects for the given ids (missing ids are skipped), in the order given.
 * `member_count` is the room's or DM's members, or the guild's member count for a guild channel.
 */
export async function channelViews(db: CommonQueryMethods, channelIds: readonly string[]): Promise<ApiChannel[]> {
  if (channelIds.length === 0) return [];
  const rows = await db.any(sql.type(channelViewSchema)`
    SELECT ${channelColumns},
      (CASE
        WHEN c.type = 'guild_text' THEN (SELECT count(*) FROM guild_members gm WHERE gm.guild_id = c.guild_id)
        WHEN c.type = 'dm' THEN (SELECT count(*) FROM channel_members cm WHERE cm.channel_id = c.id)
        ELSE (SELECT count(*) FROM channel_members cm JOIN users u ON u.id = cm.user_id
              WHERE cm.channel_id = c.id AND u.deleted_at IS NULL)
      END)::int AS member_count
    FROM channels c WHERE c.id = ANY(${ids(channelIds)})`);
  const dmIds = rows.filter((row) => row.type === 'dm').map((row) => row.id);
  const guildChannelIds = rows.filter((row) => row.type === 'guild_text').map((row) => row.id);
  const recipients = new Map<string, ApiChannel['recipients'] & object>();
  if (dmIds.length > 0) {
    const users = await db.any(sql.type(recipientSchema)`
      SELECT cm.channel_id, ${embeddedUserColumns('u')}
      FROM channel_members cm JOIN users u ON u.id = cm.user_id
      WHERE cm.channel_id = ANY(${ids(dmIds)})
      ORDER BY cm.channel_id, cm.user_id`);
    for (const user of users) {
      const list = recipients.get(user.channel_id) ?? [];
      list.push(toEmbeddedUser(user));
      recipients.set(user.channel_id, list);
    }
  }
  const overwrites = new Map<string, NonNullable<ApiChannel['permission_overwrites']>>();
  if (guildChannelIds.length > 0) {
    const found = await db.any(sql.type(overwriteSchema)`
      SELECT channel_id, role_id, allow, deny FROM channel_permission_overwrites
      WHERE channel_id = ANY(${ids(guildChannelIds)})
      ORDER BY channel_id, role_id`);
    for (const overwrite of found) {
      const list = overwrites.get(overwrite.channel_id) ?? [];
      list.push({ role_id: overwrite.role_id, allow: overwrite.allow, deny: overwrite.deny });
      overwrites.set(overwrite.channel_id, list);
    }
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  const views: ApiChannel[] = [];
  for (const id of channelIds) {
    const row = byId.get(id);
    if (!row) continue;
    const view: ApiChannel = {
      id: row.id,
      type: row.type,
      name: row.name,
      description: row.description,
      visibility: row.visibility,
      guild_id: row.guild_id,
      owner_id: row.owner_id,
      member_count: row.member_count,
      created_at: row.created_at,
      updated_at: row.updated_at,
      last_message_id: row.last_message_id,
    };
    if (row.type === 'dm') view.recipients = recipients.get(row.id) ?? [];
    if (row.type === 'guild_text') view.permission_overwrites = overwrites.get(row.id) ?? [];
    views.push(view);
  }
  return views;
}

export async function channelView(db: CommonQueryMethods, channelId: string): Promise<ApiChannel | null> {
  const [view] = await channelViews(db, [channelId]);
  return view ?? null;
}

// ───────────────────────────── lists ─────────────────────────────

export function listPublicRooms(
  db: CommonQueryMethods,
  filters: { q?: string; afterId?: string; limit: number },
): Promise<readonly string[]> {
  const conditions = [sql.fragment`c.type = 'room'`, sql.fragment`c.visibility = 'public'`];
  if (filters.q) {
    const pattern = `%${filters.q.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    conditions.push(sql.fragment`c.name ILIKE ${pattern}`);
  }
  if (filters.afterId) conditions.push(sql.fragment`c.id > ${filters.afterId}`);
  return db.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT c.id FROM channels c
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY c.id
    LIMIT ${pageFetchSize(filters.limit)}`);
}

const conversationKeySchema = z.object({ id: z.string(), activity: z.string() });

/**
 * The caller's conversations: rooms and DMs they are a member of plus the given (viewable) guild
 * channels, most recently active first: by the id of the last message, or the channel's own id.
 */
export function listConversationKeys(
  db: CommonQueryMethods,
  filters: {
    userId: string;
    guildChannelIds: readonly string[];
    type?: ChannelType;
    after?: { activity: string; id: string };
    limit: number;
  },
) {
  const conditions = [
    sql.fragment`(
      (c.guild_id IS NULL AND c.id IN (SELECT cm.channel_id FROM channel_members cm WHERE cm.user_id = ${filters.userId}))
      OR c.id = ANY(${ids(filters.guildChannelIds)}))`,
  ];
  if (filters.type) conditions.push(sql.fragment`c.type = ${filters.type}`);
  if (filters.after) {
    conditions.push(sql.fragment`(COALESCE(c.last_message_id, c.id), c.id) < (${filters.after.activity}::int8, ${filters.after.id}::int8)`);
  }
  return db.any(sql.type(conversationKeySchema)`
    SELECT c.id, COALESCE(c.last_message_id, c.id) AS activity FROM channels c
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY COALESCE(c.last_message_id, c.id) DESC, c.id DESC
    LIMIT ${pageFetchSize(filters.limit)}`);
}

/** Ids of the rooms and DMs the user is a member of. */
export function memberChannelIds(db: CommonQueryMethods, userId: string): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT c.id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
    WHERE cm.user_id = ${userId} AND c.guild_id IS NULL`);
}

const memberRowSchema = z.object({
  join_id: z.string(),
  joined_at: z.string(),
  last_read_message_id: z.string().nullable(),
  ...embeddedUserShape,
});

export function toApiMember(row: z.infer<typeof memberRowSchema>): ApiChannelMember {
  return { user: toEmbeddedUser(row), joined_at: row.joined_at, last_read_message_id: row.last_read_message_id };
}

/** A page of a room's or DM's members in join order (deleted accounts are left out). */
export async function listMembersPage(
  db: CommonQueryMethods,
  filters: { channelId: string; afterJoinId?: string; limit: number },
) {
  return db.any(sql.type(memberRowSchema)`
    SELECT cm.join_id, cm.joined_at, cm.last_read_message_id, ${embeddedUserColumns('u')}
    FROM channel_members cm JOIN users u ON u.id = cm.user_id
    WHERE cm.channel_id = ${filters.channelId} AND u.deleted_at IS NULL
      ${filters.afterJoinId ? sql.fragment`AND cm.join_id > ${filters.afterJoinId}` : sql.fragment``}
    ORDER BY cm.join_id
    LIMIT ${pageFetchSize(filters.limit)}`);
}

/** A batch of a guild's members in guild join order, with their read marker in the channel. */
export async function listGuildMembersBatch(
  db: CommonQueryMethods,
  filters: { channelId: string; guildId: string; afterJoinId?: string; limit: number },
) {
  return db.any(sql.type(memberRowSchema)`
    SELECT gm.join_id, gm.joined_at, cm.last_read_message_id, ${embeddedUserColumns('u')}
    FROM guild_members gm
    JOIN users u ON u.id = gm.user_id
    LEFT JOIN channel_members cm ON cm.channel_id = ${filters.channelId} AND cm.user_id = gm.user_id
    WHERE gm.guild_id = ${filters.guildId} AND u.deleted_at IS NULL
      ${filters.afterJoinId ? sql.fragment`AND gm.join_id > ${filters.afterJoinId}` : sql.fragment``}
    ORDER BY gm.join_id
    LIMIT ${filters.limit}`);
}

export function guildMemberIds(db: CommonQueryMethods, guildId: string): Promise<readonly string[]> {
  return db.anyFirst(sql.type(z.object({ user_id: z.string() }))`
    SELECT user_id FROM guild_members WHERE guild_id = ${guildId} ORDER BY join_id`);
}

export function findMember(db: CommonQueryMethods, channelId: string, userId: string) {
  return db.maybeOne(sql.type(memberRowSchema)`
    SELECT cm.join_id, cm.joined_at, cm.last_read_message_id, ${embeddedUserColumns('u')}
    FROM channel_members cm JOIN users u ON u.id = cm.user_id
    WHERE cm.channel_id = ${channelId} AND cm.user_id = ${userId}`);
}

// ───────────────────────────── read state ─────────────────────────────

/**
 * Moves the read marker forwards only. Returns the new marker when it moved, null when the given
 * id is not newer than the current marker. Guild channels get a marker row on first use.
 */
export async function advanceReadMarker(
  db: CommonQueryMethods,
  channelId: string,
  userId: string,
  messageId: string,
  createRow: boolean,
): Promise<string | null> {
  if (createRow) {
    await db.query(sql.type(z.object({}))`
      INSERT INTO channel_members (channel_id, user_id) VALUES (${channelId}, ${userId})
      ON CONFLICT (channel_id, user_id) DO NOTHING`);
  }
  return db.maybeOneFirst(sql.type(z.object({ last_read_message_id: z.string() }))`
    UPDATE channel_members SET last_read_message_id = ${messageId}
    WHERE channel_id = ${channelId} AND user_id = ${userId}
      AND (last_read_message_id IS NULL OR last_read_message_id < ${messageId})
    RETURNING last_read_message_id`);
}

const unreadSchema = z.object({
  channel_id: z.string(),
  last_read_message_id: z.string().nullable(),
  unread_count: z.number(),
});

/** Per channel: the user's read marker and the messages by others after it (not deleted). */
export function readStates(db: CommonQueryMethods, userId: string, channelIds: readonly string[]) {
  if (channelIds.length === 0) return Promise.resolve([] as z.infer<typeof unreadSchema>[]);
  return db.any(sql.type(unreadSchema)`
    SELECT ch.id AS channel_id, cm.last_read_message_id,
      (SELECT count(*) FROM messages m
       WHERE m.channel_id = ch.id AND m.deleted_at IS NULL AND m.author_id <> ${userId}
         AND m.id > COALESCE(cm.last_read_message_id, 0))::int AS unread_count
    FROM unnest(${ids(channelIds)}) AS ch(id)
    LEFT JOIN channel_members cm ON cm.channel_id = ch.id AND cm.user_id = ${userId}`);
}
