import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { pageFetchSize } from '../domain/cursor.ts';
import { viewableGuildChannelIds } from '../services/guild-access.ts';
import { memberChannelIds } from './channels-repository.ts';
import { userRowSchema, type UserRow } from './users-repository.ts';

/**
 * The gateway's queries: which channels a user's sessions subscribe to, presence's last_seen_at,
 * and the users behind `GET /users/online`. Access rules come from the chat modules (room and DM
 * membership rows; guild VIEW_CHANNEL from src/services/guild-access.ts), never re-implemented here.
 */
const ids = (values: readonly string[]) => sql.array([...values], 'int8');

const channelGuildSchema = z.object({ id: z.string(), guild_id: z.string().nullable() });

/** Every channel the user can read now (rooms and DMs they are a member of, viewable guild channels). */
export async function listReadableChannels(
  db: CommonQueryMethods,
  userId: string,
): Promise<Array<{ id: string; guild_id: string | null }>> {
  const [memberIds, guildChannelIds] = await Promise.all([memberChannelIds(db, userId), viewableGuildChannelIds(db, userId)]);
  const rooms = memberIds.map((id) => ({ id, guild_id: null }));
  if (guildChannelIds.length === 0) return rooms;
  const guildChannels = await db.any(sql.type(channelGuildSchema)`
    SELECT id, guild_id FROM channels WHERE id = ANY(${ids(guildChannelIds)})`);
  return [...rooms, ...guildChannels];
}

/** The guild channels (of one guild) the user can view now. */
export async function viewableChannelsOfGuild(db: CommonQueryMethods, userId: string, guildId: string): Promise<string[]> {
  const viewable = await viewableGuildChannelIds(db, userId);
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
