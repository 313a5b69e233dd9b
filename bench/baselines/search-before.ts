/**
 * Baseline for the search scenario: the search query as it was before issue 9 item 11 (commit
 * cee712b's src/repositories/messages-repository.ts searchMessages, text unchanged), kept here so
 * the scenario can run it beside the repository's current query against the same database.
 *
 * The readable-channel check was a filter (`channel_id IN (memberships) OR = ANY(guild channels)`)
 * applied after the GIN index on `search` alone: PostgreSQL found every match of the word in
 * every channel, or walked the primary key newest-first through every channel, and dropped the
 * ones the caller cannot read. (Run against the current schema, its `search @@` condition uses the
 * GIN index (channel_id, search), which also answers conditions on `search` alone.)
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { messageRowSchema, type MessageRow } from '../../src/repositories/messages-repository.ts';
import { embeddedUserColumns } from '../../src/repositories/embedded-user.ts';

const SEARCH_RANK_WINDOW = 200;

const messageColumns = sql.fragment`
  m.id, m.channel_id, m.content, m.nonce, m.reply_to_id, m.created_at, m.edited_at, m.deleted_at,
  ${embeddedUserColumns('u')}`;

const ids = (values: readonly string[]) => sql.array([...values], 'int8');

function readableBy(column: ReturnType<typeof sql.identifier>, userId: string, guildChannelIds: readonly string[]) {
  return sql.fragment`(
    ${column} IN (
      SELECT cm.channel_id FROM channel_members cm JOIN channels c ON c.id = cm.channel_id
      WHERE cm.user_id = ${userId} AND c.guild_id IS NULL)
    OR ${column} = ANY(${ids(guildChannelIds)}))`;
}

export function searchMessagesBefore(
  db: CommonQueryMethods,
  query: { userId: string; guildChannelIds: readonly string[]; q: string; channelId?: string; authorId?: string; before?: string; limit: number },
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
