import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { components } from '../../generated/openapi-types.ts';
import { pageFetchSize } from '../domain/cursor.ts';
import { memberChannelIds } from './channels-repository.ts';
import { exactColumns } from '../db/exact-columns.ts';
import { preparedFamily } from '../db/direct-prepared.ts';
import { embeddedUserColumns, embeddedUserShape, toEmbeddedUser } from './embedded-user.ts';

export type ApiMessage = components['schemas']['Message'];

export const messageRowSchema = z.object({
  id: z.string(),
  channel_id: z.string(),
  content: z.string(),
  nonce: z.string().nullable(),
  reply_to_id: z.string().nullable(),
  created_at: z.string(),
  edited_at: z.string().nullable(),
  deleted_at: z.string().nullable(),
  ...embeddedUserShape,
});
export type MessageRow = z.infer<typeof messageRowSchema>;

const messageColumns = sql.fragment`
  m.id, m.channel_id, m.content, m.nonce, m.reply_to_id, m.created_at, m.edited_at, m.deleted_at,
  ${embeddedUserColumns('u')}`;

const ids = (values: readonly string[]) => sql.array([...values], 'int8');

export function toApiMessage(row: MessageRow): ApiMessage {
  return {
    id: row.id,
    channel_id: row.channel_id,
    author: toEmbeddedUser(row),
    content: row.content,
    nonce: row.nonce,
    reply_to_id: row.reply_to_id,
    created_at: row.created_at,
    edited_at: row.edited_at,
  };
}


/** The flags of insertMessagesChecked, per item; the message columns (when there is a message) pass through. */
const sendOutcomeSchema = z.looseObject({
  ord: z.number(),
  is_member: z.boolean(),
  reply_ok: z.boolean(),
  nonce_hit: z.boolean(),
});

export interface SendItem {
  channelId: string;
  authorId: string;
  content: string;
  nonce: string | null;
  replyToId: string | null;
  /** false for guild channels: the guild module has checked VIEW_CHANNEL / SEND_MESSAGES. */
  checkMembership: boolean;
  /** The channel's last_allocated_id as read under the row lock (lockChannelsForSend). */
  lastAllocatedId: string | null;
}

export type SendOutcome =
  | { kind: 'not_member' }
  | { kind: 'nonce_hit'; row: MessageRow }
  | { kind: 'invalid_reply' }
  | { kind: 'created'; row: MessageRow };

const texts = (values: readonly (string | null)[]) => sql.array([...values], 'text');
const nullableIds = (values: readonly (string | null)[]) => sql.array([...values], 'int8');
const flags = (values: readonly boolean[]) => sql.array([...values], 'bool');

/**
 * A batch of sends after the channel row locks, in ONE statement (one round trip), each item
 * decided on its own: membership (unless `checkMembership` is false), the 24-hour nonce lookup
 * with its earlier message, reply_to validation, and, only when all of them pass, the id
 * allocation, the insert and the nonce upsert. At most one item per channel (ids and the channel's
 * last_allocated_id are bumped once per row). The caller must hold the channel row locks (see
 * channels-repository lockChannelsForSend, which also reads `lastAllocatedId`) and run this as a
 * separate, later statement: its snapshot is then taken after the locks, so it sees every send
 * (and nonce) committed before, and ids within a channel follow commit order.
 * Precedence of the outcomes is the caller's: not a member, then a nonce hit, then a bad reply_to.
 * Returns one outcome per item, in order.
 */
export async function insertMessagesChecked(db: CommonQueryMethods, items: readonly SendItem[]): Promise<SendOutcome[]> {
  if (items.length === 0) return [];
  // Only the parts the batch needs: plain sends are the insert plus one membership probe each
  // (planning unused nonce / reply_to branches costs more than it saves).
  const withNonce = items.some((item) => item.nonce !== null);
  const withReply = items.some((item) => item.replyToId !== null);
  const empty = sql.fragment``;
  // Every lookup is a LATERAL probe by primary key or a `= ANY(array)` index scan, never a join
  // the planner could turn into a scan of the whole table (estimates for an unnest are guesses,
  // and fresh tables have no statistics).
  const channelIds = ids(items.map((item) => item.channelId));
  // A named prepared statement per variant: PostgreSQL parses and plans this statement once per
  // pooled connection instead of on every send (planning it was most of a lone send's PostgreSQL
  // CPU; bench/analysis.md, issue 15 round 3). Batch sizes do not change the text (arrays).
  const variant = `send_insert${withNonce ? '_nonce' : ''}${withReply ? '_reply' : ''}`;
  const rows = await db.any(sql.prepared(variant, sendOutcomeSchema)`
    WITH input AS (
      SELECT * FROM unnest(
        ${channelIds}, ${ids(items.map((item) => item.authorId))},
        ${texts(items.map((item) => item.content))}, ${texts(items.map((item) => item.nonce))},
        ${nullableIds(items.map((item) => item.replyToId))}, ${flags(items.map((item) => item.checkMembership))},
        ${nullableIds(items.map((item) => item.lastAllocatedId))}
      ) WITH ORDINALITY AS i(channel_id, author_id, content, nonce, reply_to_id, check_membership, last_allocated_id, ord)
    ), chk AS (
      SELECT
        i.ord, i.channel_id, i.last_allocated_id,
        (NOT i.check_membership OR member.found IS NOT NULL) AS is_member,
        ${withNonce ? sql.fragment`earlier.id` : sql.fragment`NULL::int8`} AS earlier_id,
        ${withReply ? sql.fragment`(i.reply_to_id IS NULL OR reply.found IS NOT NULL)` : sql.fragment`true`} AS reply_ok
      FROM input i
      LEFT JOIN LATERAL (
        SELECT true AS found FROM channel_members cm WHERE cm.channel_id = i.channel_id AND cm.user_id = i.author_id
      ) member ON i.check_membership
      ${withNonce
        ? sql.fragment`LEFT JOIN LATERAL (
        SELECT e.id FROM message_nonces n JOIN messages e ON e.id = n.message_id AND e.channel_id = n.channel_id
        WHERE n.channel_id = i.channel_id AND n.author_id = i.author_id AND n.nonce = i.nonce
          AND n.created_at > now() - interval '24 hours'
      ) earlier ON i.nonce IS NOT NULL`
        : empty}
      ${withReply
        ? sql.fragment`LEFT JOIN LATERAL (
        SELECT true AS found FROM messages r WHERE r.id = i.reply_to_id AND r.channel_id = i.channel_id AND r.deleted_at IS NULL
      ) reply ON i.reply_to_id IS NOT NULL`
        : empty}
    ), allocated AS (
      SELECT chk.ord, chk.channel_id, GREATEST(next_id(), COALESCE(chk.last_allocated_id, 0) + 1) AS id
      FROM chk
      WHERE chk.is_member AND chk.earlier_id IS NULL AND chk.reply_ok
    ), bumped AS (
      UPDATE channels c SET last_allocated_id = a.id, last_message_id = a.id
      FROM allocated a WHERE c.id = ANY(${channelIds}) AND c.id = a.channel_id
      RETURNING a.ord, a.id
    ), inserted AS (
      INSERT INTO messages (id, channel_id, author_id, content, nonce, reply_to_id)
      SELECT b.id, i.channel_id, i.author_id, i.content, i.nonce, i.reply_to_id
      FROM bumped b JOIN input i ON i.ord = b.ord
      RETURNING *
    )${withNonce
      ? sql.fragment`, nonce_upsert AS (
      INSERT INTO message_nonces (channel_id, author_id, nonce, message_id)
      SELECT channel_id, author_id, nonce, id FROM inserted WHERE nonce IS NOT NULL
      ON CONFLICT (channel_id, author_id, nonce)
      DO UPDATE SET message_id = EXCLUDED.message_id, created_at = now()
    )`
      : empty}, result AS (
      SELECT id, channel_id, author_id, content, nonce, reply_to_id, created_at, edited_at, deleted_at FROM inserted
      ${withNonce
        ? sql.fragment`UNION ALL
      SELECT e.id, e.channel_id, e.author_id, e.content, e.nonce, e.reply_to_id, e.created_at, e.edited_at, e.deleted_at
      FROM chk JOIN LATERAL (SELECT * FROM messages e WHERE e.id = chk.earlier_id AND e.channel_id = chk.channel_id) e ON true
      WHERE chk.is_member`
        : empty}
    )
    SELECT chk.ord::int AS ord, chk.is_member, chk.reply_ok, (chk.earlier_id IS NOT NULL) AS nonce_hit, ${messageColumns}
    FROM chk LEFT JOIN (result m JOIN LATERAL (SELECT * FROM users u WHERE u.id = m.author_id) u ON true) ON m.channel_id = chk.channel_id
    ORDER BY chk.ord`);
  if (rows.length !== items.length) throw new Error(`insertMessagesChecked: ${rows.length} rows for ${items.length} items`);
  return rows.map((row): SendOutcome => {
    if (!row.is_member) return { kind: 'not_member' };
    if (row.nonce_hit) return { kind: 'nonce_hit', row: messageRowSchema.parse(row) };
    if (!row.reply_ok) return { kind: 'invalid_reply' };
    return { kind: 'created', row: messageRowSchema.parse(row) };
  });
}

/** A message of a channel; deleted ones only when asked (a nonce replay returns the original). */
export function findMessage(
  db: CommonQueryMethods,
  channelId: string,
  messageId: string,
  options: { includeDeleted?: boolean } = {},
): Promise<MessageRow | null> {
  return db.maybeOne(sql.type(messageRowSchema)`
    SELECT ${messageColumns} FROM messages m JOIN users u ON u.id = m.author_id
    WHERE m.id = ${messageId} AND m.channel_id = ${channelId}
      ${options.includeDeleted ? sql.fragment`` : sql.fragment`AND m.deleted_at IS NULL`}`);
}

export function findMessagesByIds(db: CommonQueryMethods, messageIds: readonly string[]): Promise<readonly MessageRow[]> {
  if (messageIds.length === 0) return Promise.resolve([]);
  return db.any(sql.type(messageRowSchema)`
    SELECT ${messageColumns} FROM messages m JOIN users u ON u.id = m.author_id
    WHERE m.id = ANY(${ids(messageIds)}) AND m.deleted_at IS NULL`);
}

export function updateMessageContent(
  db: CommonQueryMethods,
  channelId: string,
  messageId: string,
  content: string,
): Promise<MessageRow | null> {
  return db.maybeOne(sql.type(messageRowSchema)`
    WITH m AS (
      UPDATE messages SET content = ${content}, edited_at = now()
      WHERE id = ${messageId} AND channel_id = ${channelId} AND deleted_at IS NULL
      RETURNING *
    )
    SELECT ${messageColumns} FROM m JOIN users u ON u.id = m.author_id`);
}

/** Marks a message deleted and moves the channel's last_message_id back when it was the last one. */
export async function softDeleteMessage(db: CommonQueryMethods, channelId: string, messageId: string): Promise<boolean> {
  const deleted = await db.maybeOne(sql.type(z.object({ id: z.string() }))`
    UPDATE messages SET deleted_at = now()
    WHERE id = ${messageId} AND channel_id = ${channelId} AND deleted_at IS NULL
    RETURNING id`);
  if (!deleted) return false;
  await db.query(sql.type(z.object({}))`
    UPDATE channels SET last_message_id = (
      SELECT max(id) FROM messages WHERE channel_id = ${channelId} AND deleted_at IS NULL
    )
    WHERE id = ${channelId} AND last_message_id = ${messageId}`);
  return true;
}

/**
 * History pages are named prepared statements, parsed and planned once per pooled connection
 * instead of on every page: for this join PostgreSQL spent more CPU planning (≈ 250 µs) than
 * executing (≈ 140 µs). LIMIT is a literal rather than a parameter: with `LIMIT $n` the generic
 * plan is costed for an unknown row count, loses to the custom plan, and every execution is
 * planned again. Fetch sizes are rounded up to a few buckets so a connection holds at most
 * 5 shapes × 4 sizes of these statements; historySlice trims the extra rows.
 */
const HISTORY_FETCH_SIZES = [11, 26, 51, 101] as const;

const historyShapes = {
  older: { name: 'older', bound: null, order: sql.fragment`DESC` },
  older_before: { name: 'older_before', bound: sql.fragment`AND m.id <`, order: sql.fragment`DESC` },
  newer: { name: 'newer', bound: null, order: sql.fragment`ASC` },
  newer_after: { name: 'newer_after', bound: sql.fragment`AND m.id >`, order: sql.fragment`ASC` },
  newer_from: { name: 'newer_from', bound: sql.fragment`AND m.id >=`, order: sql.fragment`ASC` },
} as const;

const historyShapeOf = (query: { direction: 'older' | 'newer'; bound?: string; inclusive?: boolean }) =>
  query.bound === undefined
    ? historyShapes[query.direction]
    : query.direction === 'older'
      ? historyShapes.older_before
      : query.inclusive
        ? historyShapes.newer_from
        : historyShapes.newer_after;

/** The page size a statement is prepared for: the smallest fetch size that holds `limit`. */
const fetchSizeOf = (limit: number) => HISTORY_FETCH_SIZES.find((candidate) => candidate >= limit) ?? limit;

/**
 * One direction of history (keyset, no OFFSET): `older` = ids below `bound` newest first,
 * `newer` = ids above `bound` (or from it, when inclusive) oldest first. At most `limit` rows.
 */
export async function historySlice(
  db: CommonQueryMethods,
  query: { channelId: string; direction: 'older' | 'newer'; bound?: string; inclusive?: boolean; limit: number },
): Promise<readonly MessageRow[]> {
  const shape = historyShapeOf(query);
  const size = fetchSizeOf(query.limit);
  const bound = shape.bound && query.bound !== undefined ? sql.fragment`${shape.bound} ${query.bound}` : sql.fragment``;
  const rows = await db.any(sql.prepared(`history_${shape.name}_${size}`, messageRowSchema)`
    SELECT ${messageColumns} FROM messages m JOIN users u ON u.id = m.author_id
    WHERE m.channel_id = ${query.channelId} AND m.deleted_at IS NULL ${bound}
    ORDER BY m.id ${shape.order}
    LIMIT ${sql.literalValue(String(size))}`);
  return rows.length > query.limit ? rows.slice(0, query.limit) : rows;
}

/** What the access check of a history page needs to know about the channel and the caller. */
export interface ReadFacts {
  type: 'room' | 'dm' | 'guild_text';
  visibility: 'public' | 'private' | null;
  guildId: string | null;
  isMember: boolean;
}

/**
 * The row of historySliceWithAccess: the channel's facts, then the page's columns, which are all
 * null on the one row a channel without a readable page returns (the LEFT JOIN). Checked by column
 * (src/db/exact-columns.ts), not row by row: the columns are table columns (messages, users,
 * channels) whose NOT NULL and CHECK constraints in sql/ give the rest of the shape.
 */
type PageRowWithFacts = {
  ch_type: ReadFacts['type'];
  ch_visibility: ReadFacts['visibility'];
  ch_guild_id: string | null;
  ch_is_member: boolean;
} & { [K in keyof MessageRow]: MessageRow[K] | null };

const pageRowWithFacts = exactColumns<PageRowWithFacts>({
  ch_type: 'text',
  ch_visibility: 'text',
  ch_guild_id: 'int8',
  ch_is_member: 'bool',
  id: 'int8',
  channel_id: 'int8',
  content: 'text',
  nonce: 'text',
  reply_to_id: 'int8',
  created_at: 'timestamptz',
  edited_at: 'timestamptz',
  deleted_at: 'timestamptz',
  u_id: 'int8',
  u_username: 'text',
  u_display_name: 'text',
  u_role: 'text',
  u_active: 'bool',
  u_created_at: 'timestamptz',
  u_updated_at: 'timestamptz',
  u_last_seen_at: 'timestamptz',
});

type SliceWithAccessQuery = { channelId: string; userId: string; direction: 'older' | 'newer'; bound?: string; inclusive?: boolean; limit: number };
const sliceWithAccessName = (query: SliceWithAccessQuery) => `history_access_${historyShapeOf(query).name}_${fetchSizeOf(query.limit)}`;

/**
 * The hot statement, one per shape and fetch size: built with the sql tag once per name, then run
 * on the pool's read pool without Slonik's per-query pipeline (src/db/direct-prepared.ts).
 *
 * The page is skipped for a caller who cannot read it by its LIMIT (0; test/repositories/
 * messages-repository.test.ts), not by a WHERE condition on
 * the outer row: with that condition PostgreSQL 18 gated the page with a one-time filter and did
 * not memoize the author lookup, i.e. one users index probe per row (213 buffer hits per newest
 * page against 63; bench/analysis.md, history, round 5).
 */
const sliceWithAccess = preparedFamily<SliceWithAccessQuery, PageRowWithFacts>({
  name: sliceWithAccessName,
  // The parameters in the order they appear in the SQL below.
  values: (query) => (query.bound === undefined ? [query.userId, query.channelId, query.channelId] : [query.userId, query.channelId, query.channelId, query.bound]),
  token: (query) => {
    const shape = historyShapeOf(query);
    const size = fetchSizeOf(query.limit);
    const bound = shape.bound && query.bound !== undefined ? sql.fragment`${shape.bound} ${query.bound}` : sql.fragment``;
    return sql.prepared(sliceWithAccessName(query), pageRowWithFacts)`
    SELECT a.type AS ch_type, a.visibility AS ch_visibility, a.guild_id AS ch_guild_id, a.is_member AS ch_is_member, p.*
    FROM (
      SELECT c.type, c.visibility, c.guild_id, (cm.user_id IS NOT NULL) AS is_member
      FROM channels c
      LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ${query.userId}
      WHERE c.id = ${query.channelId}
    ) a
    LEFT JOIN LATERAL (
      SELECT ${messageColumns} FROM messages m JOIN users u ON u.id = m.author_id
      WHERE m.channel_id = ${query.channelId} AND m.deleted_at IS NULL ${bound}
      ORDER BY m.id ${shape.order}
      LIMIT CASE WHEN a.is_member OR a.guild_id IS NOT NULL THEN ${sql.literalValue(String(size))} ELSE 0 END
    ) p ON true`;
  },
});

/**
 * historySlice and the access facts of the channel (channels-repository findChannelWithMembership)
 * in ONE round trip: the history route's hot path. Null when the channel does not exist. The page
 * is read only when it could be readable (the caller is a member, or it is a guild channel, whose
 * VIEW_CHANNEL the guild module decides afterwards); otherwise `rows` is empty and the caller
 * decides between 403 and 404 from the facts. One statement: the facts and the page come from one
 * snapshot. Prepared per shape and fetch size like historySlice.
 */
export async function historySliceWithAccess(
  db: CommonQueryMethods,
  query: SliceWithAccessQuery,
): Promise<{ facts: ReadFacts; rows: readonly MessageRow[] } | null> {
  const rows = await sliceWithAccess(db, query);
  const first = rows[0];
  if (!first) return null;
  const facts: ReadFacts = {
    type: first.ch_type,
    visibility: first.ch_visibility,
    guildId: first.ch_guild_id,
    isMember: first.ch_is_member,
  };
  if (first.id === null) return { facts, rows: [] };
  // A row with an id is a message row: every page column is NOT NULL where MessageRow says so.
  const page = rows as readonly MessageRow[];
  return { facts, rows: page.length > query.limit ? page.slice(0, query.limit) : page };
}

/**
 * The channels a user can read right now, as a SQL condition on `column`: rooms and DMs they are a
 * member of (checked in SQL, at query time) plus the guild channels the guild module lets them view.
 */
function readableBy(column: ReturnType<typeof sql.identifier>, userId: string, guildChannelIds: readonly string[]) {
  return sql.fragment`(
    ${column} IN (
      SELECT cm.channel_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
      WHERE cm.user_id = ${userId} AND c.guild_id IS NULL)
    OR ${column} = ANY(${ids(guildChannelIds)}))`;
}

/**
 * How many of the newest matches a search ranks (the contract says 200). Ranking every match made
 * a search read every matching row of the history (≈ 6,000 heap pages for a word in 0.6% of a
 * million messages, ≈ 26 ms of database CPU). With the window the work is bounded by the window
 * and by the caller's own channels, not by the history (see searchMessages).
 */
export const SEARCH_RANK_WINDOW = 200;

/**
 * Full-text search over the messages the user can read right now: the newest SEARCH_RANK_WINDOW
 * matches, ranked, then newest first.
 *
 * Candidates are found per readable channel. The readable channels are read first (rooms and DMs
 * the user is a member of now, plus the guild channels the guild module lets them view) and the
 * search gets them as a literal `channel_id = ANY(array)`: both it and `search @@ query` are
 * conditions of the GIN index (channel_id, search) (sql/006), so only matches in the caller's
 * channels are read from the heap; traffic in channels the caller cannot read costs skipped index
 * entries, nothing more. Two statements on purpose: with the ids known when the statement is
 * planned, PostgreSQL estimates how many readable matches there are. For a word frequent in the
 * caller's channels it walks the primary key newest-first (about window / density rows); otherwise
 * it takes the index. (Before, readability was a filter after the index on `search` alone, and
 * PostgreSQL, unable to estimate a membership subquery, walked the primary key through every
 * channel's newer traffic to find the caller's few matches: 17.7 searches/s in the benchmark.)
 */
export async function searchMessages(
  db: CommonQueryMethods,
  query: {
    userId: string;
    guildChannelIds: readonly string[];
    q: string;
    channelId?: string;
    authorId?: string;
    before?: string;
    limit: number;
  },
): Promise<readonly MessageRow[]> {
  // Rooms and DMs the user is a member of right now; guild channels come from the guild module.
  const readable = [...(await memberChannelIds(db, query.userId)), ...query.guildChannelIds];
  const channelIds = query.channelId === undefined ? readable : readable.filter((id) => id === query.channelId);
  if (channelIds.length === 0) return [];
  const conditions = [
    sql.fragment`m.deleted_at IS NULL`,
    sql.fragment`m.search @@ query`,
    sql.fragment`m.channel_id = ANY(${ids(channelIds)})`,
  ];
  if (query.authorId) conditions.push(sql.fragment`m.author_id = ${query.authorId}`);
  if (query.before) conditions.push(sql.fragment`m.id < ${query.before}`);
  return db.any(sql.type(messageRowSchema)`
    SELECT ${messageColumns}
    FROM (
      SELECT m.id, m.channel_id, m.author_id, m.content, m.nonce, m.reply_to_id, m.created_at, m.edited_at,
             m.deleted_at, ts_rank(m.search, query) AS rank
      FROM messages m
      CROSS JOIN websearch_to_tsquery('simple', ${query.q}) AS query
      WHERE ${sql.join(conditions, sql.fragment` AND `)}
      ORDER BY m.id DESC
      LIMIT ${SEARCH_RANK_WINDOW}
    ) m
    JOIN users u ON u.id = m.author_id
    ORDER BY m.rank DESC, m.id DESC
    LIMIT ${pageFetchSize(query.limit)}`);
}

const statsSchema = z.object({ messages_sent: z.number(), messages_received: z.number() });

export function messageCounts(db: CommonQueryMethods, userId: string, guildChannelIds: readonly string[]) {
  return db.one(sql.type(statsSchema)`
    SELECT
      (SELECT count(*) FROM messages WHERE author_id = ${userId} AND deleted_at IS NULL)::int AS messages_sent,
      (SELECT count(*) FROM messages m
       WHERE m.deleted_at IS NULL AND m.author_id <> ${userId}
         AND ${readableBy(sql.identifier(['m', 'channel_id']), userId, guildChannelIds)})::int AS messages_received`);
}
