import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { pageFetchSize } from '../domain/cursor.ts';
import { userRowSchema, type UserRow } from './users-repository.ts';

/**
 * The gateway's queries: which channels a user's sessions subscribe to, presence's last_seen_at,
 * and the users behind `GET /users/online`. Access rules come from the chat modules (room and DM
 * membership rows here; the guild channels a user may view, VIEW_CHANNEL, are passed in by the
 * caller from src/services/guild-access.ts), never re-implemented here.
 */
const ids = (values: readonly string[]) => sql.array([...values], 'int8');

const channelGuildSchema = z.object({ id: z.string(), guild_id: z.string().nullable() });

/**
 * The channels a user can read, with their guild: `memberIds`, the rooms and DMs they are a member
 * of (memberChannelIds of channels-repository.ts), and `guildChannelIds`, the guild channels they can view.
 */
export async function readableChannelRefs(
  db: CommonQueryMethods,
  memberIds: readonly string[],
  guildChannelIds: readonly string[],
): Promise<Array<{ id: string; guild_id: string | null }>> {
  const rooms = memberIds.map((id) => ({ id, guild_id: null }));
  if (guildChannelIds.length === 0) return rooms;
  const guildChannels = await db.any(sql.type(channelGuildSchema)`
    SELECT id, guild_id FROM channels WHERE id = ANY(${ids(guildChannelIds)})`);
  return [...rooms, ...guildChannels];
}

/** Which of the `viewable` guild channels belong to the guild. */
export async function channelsOfGuildAmong(db: CommonQueryMethods, guildId: string, viewable: readonly string[]): Promise<string[]> {
  if (viewable.length === 0) return [];
  return [
    ...(await db.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT id FROM channels WHERE guild_id = ${guildId} AND id = ANY(${ids(viewable)})`)),
  ];
}

/** Which of the given users are members of the guild. */
export async function guildMembersAmong(db: CommonQueryMethods, guildId: string, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  return [
    ...(await db.anyFirst(sql.type(z.object({ user_id: z.string() }))`
      SELECT user_id FROM guild_members WHERE guild_id = ${guildId} AND user_id = ANY(${ids(userIds)})`)),
  ];
}

export function setLastSeen(db: CommonQueryMethods, userId: string, at: string): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    UPDATE users SET last_seen_at = ${at}::timestamptz WHERE id = ${userId} AND deleted_at IS NULL`);
}

export function setLastSeenMany(db: CommonQueryMethods, userIds: readonly string[], at: string): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    UPDATE users SET last_seen_at = ${at}::timestamptz WHERE id = ANY(${ids(userIds)}) AND deleted_at IS NULL`);
}

/** One page (by id) of the given users that still exist and are active. */
export async function listUsersByIds(
  db: CommonQueryMethods,
  userIds: readonly string[],
  page: { afterId?: string; limit: number },
): Promise<UserRow[]> {
  if (userIds.length === 0) return [];
  const rows = await db.any(sql.type(userRowSchema)`
    SELECT id, username, email, display_name, phone_number, role, active, created_at, updated_at, last_seen_at
    FROM users
    WHERE id = ANY(${ids(userIds)}) AND deleted_at IS NULL AND active
      ${page.afterId !== undefined ? sql.fragment`AND id > ${page.afterId}` : sql.fragment``}
    ORDER BY id
    LIMIT ${pageFetchSize(page.limit)}`);
  return [...rows];
}
