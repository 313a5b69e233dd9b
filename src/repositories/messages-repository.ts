import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { components } from '../../generated/openapi-types.ts';
import { embeddedUserColumns, embeddedUserShape, toEmbeddedUser } from './embedded-user.ts';

export type ApiMessage = components['schemas']['Message'];

const messageRowSchema = z.object({
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


/** The flags of insertMessageChecked; the message columns (when there is a message) pass through. */
const sendOutcomeSchema = z.looseObject({
  is_member: z.boolean(),
  reply_ok: z.boolean(),
  nonce_hit: z.boolean(),
});

export type SendOutcome =
  | { kind: 'not_member' }
  | { kind: 'nonce_hit'; row: MessageRow }
  | { kind: 'invalid_reply' }
  | { kind: 'created'; row: MessageRow };

/**
 * The whole send after the channel row lock, in ONE statement (one round trip): membership (unless
 * `checkMembership` is false: guild channels are checked by the guild module), the 24-hour nonce
 * lookup with its earlier message, reply_to validation, and, only when all of them pass, the id
 * allocation, the insert and the nonce upsert. The caller must hold the channel row lock (see
 * channels-repository lockChannelForSend) and run this as a separate, later statement: its
 * snapshot is then taken after the lock, so it sees every send (and nonce) committed before, and
 * ids within a channel follow commit order.
 * Precedence of the outcomes is the caller's: not a member, then a nonce hit, then a bad reply_to.
 */
export async function insertMessageChecked(
  db: CommonQueryMethods,
  message: {
    channelId: string;
    authorId: string;
    content: string;
    nonce: string | null;
    replyToId: string | null;
    checkMembership: boolean;
  },
): Promise<SendOutcome> {
  const { channelId, authorId, nonce, replyToId } = message;
  // Only the parts a send needs: a plain send is the insert plus one membership probe (planning a
  // statement with unused nonce / reply_to branches costs more than it saves).
  const empty = sql.fragment``;
  const row = await db.one(sql.type(sendOutcomeSchema)`
    WITH chk AS (
      SELECT
        ${message.checkMembership
          ? sql.fragment`EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = ${channelId} AND cm.user_id = ${authorId})`
          : sql.fragment`true`} AS is_member,
        ${nonce !== null
          ? sql.fragment`(SELECT e.id FROM message_nonces n JOIN messages e ON e.id = n.message_id AND e.channel_id = n.channel_id
             WHERE n.channel_id = ${channelId} AND n.author_id = ${authorId} AND n.nonce = ${nonce}
               AND n.created_at > now() - interval '24 hours')`
          : sql.fragment`NULL::int8`} AS earlier_id,
        ${replyToId !== null
          ? sql.fragment`EXISTS (SELECT 1 FROM messages r WHERE r.id = ${replyToId} AND r.channel_id = ${channelId} AND r.deleted_at IS NULL)`
          : sql.fragment`true`} AS reply_ok
    ), allocated AS (
      SELECT GREATEST(next_id(), COALESCE(c.last_allocated_id, 0) + 1) AS id
      FROM channels c, chk
      WHERE c.id = ${channelId} AND chk.is_member AND chk.earlier_id IS NULL AND chk.reply_ok
    ), bumped AS (
      UPDATE channels c SET last_allocated_id = allocated.id, last_message_id = allocated.id
      FROM allocated WHERE c.id = ${channelId}
      RETURNING allocated.id
    ), inserted AS (
      INSERT INTO messages (id, channel_id, author_id, content, nonce, reply_to_id)
      SELECT bumped.id, ${channelId}, ${authorId}, ${message.content}, ${nonce}, ${replyToId}
      FROM bumped
      RETURNING *
    )${nonce !== null
      ? sql.fragment`, nonce_upsert AS (
      INSERT INTO message_nonces (channel_id, author_id, nonce, message_id)
      SELECT channel_id, author_id, nonce, id FROM inserted
      ON CONFLICT (channel_id, author_id, nonce)
      DO UPDATE SET message_id = EXCLUDED.message_id, created_at = now()
    )`
      : empty}, result AS (
      SELECT id, channel_id, author_id, content, nonce, reply_to_id, created_at, edited_at, deleted_at FROM inserted
      ${nonce !== null
        ? sql.fragment`UNION ALL
      SELECT e.id, e.channel_id, e.author_id, e.content, e.nonce, e.reply_to_id, e.created_at, e.edited_at, e.deleted_at
      FROM messages e JOIN chk ON e.id = chk.earlier_id
      WHERE e.channel_id = ${channelId} AND chk.is_member`
        : empty}
    )
    SELECT chk.is_member, chk.reply_ok, (chk.earlier_id IS NOT NULL) AS nonce_hit, ${messageColumns}
    FROM chk LEFT JOIN (result m JOIN users u ON u.id = m.author_id) ON true`);
  if (!row.is_member) return { kind: 'not_member' };
  if (row.nonce_hit) return { kind: 'nonce_hit', row: messageRowSchema.parse(row) };
  if (!row.reply_ok) return { kind: 'invalid_reply' };
  return { kind: 'created', row: messageRowSchema.parse(row) };
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

/**
 * One direction of history (keyset, no OFFSET): `older` = ids below `bound` newest first,
 * `newer` = ids above `bound` (or from it, when inclusive) oldest first. At most `limit` rows.
 */
export async function historySlice(
  db: CommonQueryMethods,
  query: { channelId: string; direction: 'older' | 'newer'; bound?: string; inclusive?: boolean; limit: number },
): Promise<readonly MessageRow[]> {
  const shape =
    query.bound === undefined
      ? historyShapes[query.direction]
      : query.direction === 'older'
        ? historyShapes.older_before
        : query.inclusive
          ? historyShapes.newer_from
          : historyShapes.newer_after;
  const size = HISTORY_FETCH_SIZES.find((candidate) => candidate >= query.limit) ?? query.limit;
  const bound = shape.bound && query.bound !== undefined ? sql.fragment`${shape.bound} ${query.bound}` : sql.fragment``;
  const rows = await db.any(sql.prepared(`history_${shape.name}_${size}`, messageRowSchema)`
    SELECT ${messageColumns} FROM messages m JOIN users u ON u.id = m.author_id
    WHERE m.channel_id = ${query.channelId} AND m.deleted_at IS NULL ${bound}
    ORDER BY m.id ${shape.order}
    LIMIT ${sql.literalValue(String(size))}`);
  return rows.length > query.limit ? rows.slice(0, query.limit) : rows;
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
 * million messages, ≈ 26 ms of database CPU). With the window PostgreSQL walks the primary key
 * backwards for a frequent word until it has this many matches, or takes the GIN index for a rare
 * one (few matches to sort): either way the work is bounded by the window, not the history.
 */
export const SEARCH_RANK_WINDOW = 200;

/**
 * Full-text search over the messages the user can read right now: the newest SEARCH_RANK_WINDOW
 * matches, ranked, then newest first.
 */
export function searchMessages(
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
  const conditions = [
    sql.fragment`m.deleted_at IS NULL`,
    sql.fragment`m.search @@ query`,
    readableBy(sql.identifier(['m', 'channel_id']), query.userId, query.guildChannelIds),
  ];
  if (query.channelId) conditions.push(sql.fragment`m.channel_id = ${query.channelId}`);
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
    LIMIT ${query.limit + 1}`);
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
