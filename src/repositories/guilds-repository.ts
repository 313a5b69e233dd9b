import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { pageFetchSize } from '../domain/cursor.ts';
import { userRowSchema } from './users-repository.ts';

// ───────────────────────────── guilds ─────────────────────────────

const guildRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  owner_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  member_count: z.number(),
});
export type GuildRow = z.infer<typeof guildRowSchema>;

const guildColumns = sql.fragment`
  g.id, g.name, g.description, g.owner_id, g.created_at, g.updated_at,
  (SELECT count(*)::int FROM guild_members gm WHERE gm.guild_id = g.id) AS member_count`;

const idSchema = z.object({ id: z.string() });

export function insertGuild(
  db: CommonQueryMethods,
  guild: { name: string; description: string | null; ownerId: string },
): Promise<{ id: string }> {
  return db.one(sql.type(idSchema)`
    INSERT INTO guilds (name, description, owner_id)
    VALUES (${guild.name}, ${guild.description}, ${guild.ownerId})
    RETURNING id`);
}

export function findGuild(db: CommonQueryMethods, guildId: string): Promise<GuildRow | null> {
  return db.maybeOne(sql.type(guildRowSchema)`SELECT ${guildColumns} FROM guilds g WHERE g.id = ${guildId}`);
}

/**
 * Locks the guild row: `share` for joins (FOR SHARE: joins run together, but not beside a ban or
 * kick), `update` for removals, role changes and new channels or roles (FOR NO KEY UPDATE: one at a
 * time, and a ban committed before a join's lock is seen by it). Neither conflicts with the KEY
 * SHARE lock of a foreign-key check on channels.guild_id (PostgreSQL runs one when a transaction
 * updates a channel row it already updated, say a channel change then its event slot): a
 * channel-level transaction never waits for the guild row while holding a channel row, which would
 * invert the LOCK ORDER of channels-repository. Always the first lock of its transaction.
 */
export async function lockGuild(db: CommonQueryMethods, guildId: string, mode: 'share' | 'update'): Promise<boolean> {
  const lock = mode === 'update' ? sql.fragment`FOR NO KEY UPDATE` : sql.fragment`FOR SHARE`;
  const row = await db.maybeOne(sql.type(idSchema)`SELECT id FROM guilds WHERE id = ${guildId} ${lock}`);
  return row !== null;
}

export async function listGuildsOfUser(
  db: CommonQueryMethods,
  userId: string,
  page: { afterId?: string; limit: number },
): Promise<GuildRow[]> {
  const rows = await db.any(sql.type(guildRowSchema)`
    SELECT ${guildColumns}
    FROM guild_members m JOIN guilds g ON g.id = m.guild_id
    WHERE m.user_id = ${userId}
      ${page.afterId ? sql.fragment`AND g.id > ${page.afterId}` : sql.fragment``}
    ORDER BY g.id
    LIMIT ${pageFetchSize(page.limit)}`);
  return [...rows];
}

export async function updateGuildRow(
  db: CommonQueryMethods,
  guildId: string,
  changes: { name?: string; description?: string | null },
): Promise<GuildRow | null> {
  const assignments = [sql.fragment`updated_at = now()`];
  if (changes.name !== undefined) assignments.push(sql.fragment`name = ${changes.name}`);
  if (changes.description !== undefined) assignments.push(sql.fragment`description = ${changes.description}`);
  const updated = await db.maybeOne(sql.type(idSchema)`
    UPDATE guilds SET ${sql.join(assignments, sql.fragment`, `)} WHERE id = ${guildId} RETURNING id`);
  return updated ? findGuild(db, guildId) : null;
}

export async function deleteGuildRow(db: CommonQueryMethods, guildId: string): Promise<boolean> {
  return (await db.maybeOne(sql.type(idSchema)`DELETE FROM guilds WHERE id = ${guildId} RETURNING id`)) !== null;
}

// ───────────────────────────── roles ─────────────────────────────

const roleRowSchema = z.object({
  id: z.string(),
  guild_id: z.string(),
  name: z.string(),
  permissions: z.string(),
  position: z.number(),
  is_default: z.boolean(),
  created_at: z.string(),
});
export type RoleRow = z.infer<typeof roleRowSchema>;

const roleColumns = sql.fragment`r.id, r.guild_id, r.name, r.permissions, r.position, r.is_default, r.created_at`;

export function insertRole(
  db: CommonQueryMethods,
  role: { guildId: string; name: string; permissions: bigint; position: number; isDefault: boolean },
): Promise<RoleRow> {
  return db.one(sql.type(roleRowSchema)`
    INSERT INTO guild_roles AS r (guild_id, name, permissions, position, is_default)
    VALUES (${role.guildId}, ${role.name}, ${role.permissions.toString()}, ${role.position}, ${role.isDefault})
    RETURNING ${roleColumns}`);
}

export function listRoles(db: CommonQueryMethods, guildId: string): Promise<readonly RoleRow[]> {
  return db.any(sql.type(roleRowSchema)`
    SELECT ${roleColumns} FROM guild_roles r WHERE r.guild_id = ${guildId} ORDER BY r.position DESC, r.id`);
}

export function findRole(db: CommonQueryMethods, guildId: string, roleId: string): Promise<RoleRow | null> {
  return db.maybeOne(sql.type(roleRowSchema)`
    SELECT ${roleColumns} FROM guild_roles r WHERE r.guild_id = ${guildId} AND r.id = ${roleId}`);
}

export function countRoles(db: CommonQueryMethods, guildId: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM guild_roles WHERE guild_id = ${guildId}`);
}

export function updateRoleRow(
  db: CommonQueryMethods,
  roleId: string,
  changes: { name?: string; permissions?: bigint; position?: number },
): Promise<RoleRow> {
  const assignments = [];
  if (changes.name !== undefined) assignments.push(sql.fragment`name = ${changes.name}`);
  if (changes.permissions !== undefined) assignments.push(sql.fragment`permissions = ${changes.permissions.toString()}`);
  if (changes.position !== undefined) assignments.push(sql.fragment`position = ${changes.position}`);
  if (assignments.length === 0) assignments.push(sql.fragment`name = r.name`);
  return db.one(sql.type(roleRowSchema)`
    UPDATE guild_roles AS r SET ${sql.join(assignments, sql.fragment`, `)} WHERE r.id = ${roleId} RETURNING ${roleColumns}`);
}

export async function deleteRoleRow(db: CommonQueryMethods, roleId: string): Promise<boolean> {
  return (await db.maybeOne(sql.type(idSchema)`DELETE FROM guild_roles WHERE id = ${roleId} RETURNING id`)) !== null;
}

/** Gives a member a role; false when they already had it. */
export async function addMemberRole(db: CommonQueryMethods, guildId: string, userId: string, roleId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ role_id: z.string() }))`
    INSERT INTO guild_member_roles (guild_id, user_id, role_id) VALUES (${guildId}, ${userId}, ${roleId})
    ON CONFLICT DO NOTHING RETURNING role_id`);
  return row !== null;
}

export async function removeMemberRole(db: CommonQueryMethods, guildId: string, userId: string, roleId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ role_id: z.string() }))`
    DELETE FROM guild_member_roles WHERE guild_id = ${guildId} AND user_id = ${userId} AND role_id = ${roleId}
    RETURNING role_id`);
  return row !== null;
}

// ───────────────────────────── members ─────────────────────────────

export async function insertMember(db: CommonQueryMethods, guildId: string, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ user_id: z.string() }))`
    INSERT INTO guild_members (guild_id, user_id) VALUES (${guildId}, ${userId})
    ON CONFLICT DO NOTHING RETURNING user_id`);
  return row !== null;
}

export async function deleteMember(db: CommonQueryMethods, guildId: string, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ user_id: z.string() }))`
    DELETE FROM guild_members WHERE guild_id = ${guildId} AND user_id = ${userId} RETURNING user_id`);
  return row !== null;
}

export async function isMember(db: CommonQueryMethods, guildId: string, userId: string): Promise<boolean> {
  return db.exists(sql.type(z.object({ one: z.number() }))`
    SELECT 1 AS one FROM guild_members WHERE guild_id = ${guildId} AND user_id = ${userId}`);
}

export async function memberIds(db: CommonQueryMethods, guildId: string): Promise<string[]> {
  const rows = await db.anyFirst(sql.type(z.object({ user_id: z.string() }))`
    SELECT user_id FROM guild_members WHERE guild_id = ${guildId} ORDER BY join_id`);
  return [...rows];
}

const memberRowSchema = userRowSchema.extend({
  joined_at: z.string(),
  join_id: z.string(),
  role_ids: z.array(z.string()),
});
export type MemberRow = z.infer<typeof memberRowSchema>;

const userColumns = sql.fragment`u.id, u.username, u.email, u.display_name, u.phone_number, u.role, u.active,
  u.created_at, u.updated_at, u.last_seen_at`;

const memberSelect = sql.fragment`
  SELECT ${userColumns}, m.joined_at, m.join_id,
         ARRAY(SELECT mr.role_id::text FROM guild_member_roles mr
               WHERE mr.guild_id = m.guild_id AND mr.user_id = m.user_id ORDER BY mr.role_id) AS role_ids
  FROM guild_members m JOIN users u ON u.id = m.user_id`;

export async function listMembers(
  db: CommonQueryMethods,
  guildId: string,
  page: { afterJoinId?: string; limit: number },
): Promise<MemberRow[]> {
  const rows = await db.any(sql.type(memberRowSchema)`
    ${memberSelect}
    WHERE m.guild_id = ${guildId}
      ${page.afterJoinId ? sql.fragment`AND m.join_id > ${page.afterJoinId}` : sql.fragment``}
    ORDER BY m.join_id
    LIMIT ${pageFetchSize(page.limit)}`);
  return [...rows];
}

export function findMember(db: CommonQueryMethods, guildId: string, userId: string): Promise<MemberRow | null> {
  return db.maybeOne(sql.type(memberRowSchema)`${memberSelect} WHERE m.guild_id = ${guildId} AND m.user_id = ${userId}`);
}

export async function userExists(db: CommonQueryMethods, userId: string): Promise<boolean> {
  return db.exists(sql.type(z.object({ one: z.number() }))`
    SELECT 1 AS one FROM users WHERE id = ${userId} AND deleted_at IS NULL`);
}

// ───────────────────────────── bans ─────────────────────────────

const banRowSchema = userRowSchema.extend({
  reason: z.string().nullable(),
  banned_at: z.string(),
  ban_id: z.string(),
});
export type BanRow = z.infer<typeof banRowSchema>;

export async function isBanned(db: CommonQueryMethods, guildId: string, userId: string): Promise<boolean> {
  return db.exists(sql.type(z.object({ one: z.number() }))`
    SELECT 1 AS one FROM guild_bans WHERE guild_id = ${guildId} AND user_id = ${userId}`);
}

/** Bans (or re-bans, replacing the reason). */
export function upsertBan(
  db: CommonQueryMethods,
  ban: { guildId: string; userId: string; reason: string | null; bannedBy: string },
): Promise<unknown> {
  return db.query(sql.type(z.object({}))`
    INSERT INTO guild_bans (guild_id, user_id, reason, banned_by)
    VALUES (${ban.guildId}, ${ban.userId}, ${ban.reason}, ${ban.bannedBy})
    ON CONFLICT (guild_id, user_id) DO UPDATE SET reason = EXCLUDED.reason, banned_by = EXCLUDED.banned_by`);
}

export async function deleteBan(db: CommonQueryMethods, guildId: string, userId: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ user_id: z.string() }))`
    DELETE FROM guild_bans WHERE guild_id = ${guildId} AND user_id = ${userId} RETURNING user_id`);
  return row !== null;
}

export async function listBans(
  db: CommonQueryMethods,
  guildId: string,
  page: { afterBanId?: string; limit: number },
): Promise<BanRow[]> {
  const rows = await db.any(sql.type(banRowSchema)`
    SELECT ${userColumns}, b.reason, b.created_at AS banned_at, b.ban_id
    FROM guild_bans b JOIN users u ON u.id = b.user_id
    WHERE b.guild_id = ${guildId}
      ${page.afterBanId ? sql.fragment`AND b.ban_id > ${page.afterBanId}` : sql.fragment``}
    ORDER BY b.ban_id
    LIMIT ${pageFetchSize(page.limit)}`);
  return [...rows];
}

// ───────────────────────────── invites ─────────────────────────────

const inviteRowSchema = z.object({
  code: z.string(),
  guild_id: z.string(),
  inviter_id: z.string(),
  max_uses: z.number().nullable(),
  uses: z.number(),
  expires_at: z.string().nullable(),
  created_at: z.string(),
});
export type InviteRow = z.infer<typeof inviteRowSchema>;

const inviteColumns = sql.fragment`code, guild_id, inviter_id, max_uses, uses, expires_at, created_at`;
const inviteUsable = sql.fragment`(expires_at IS NULL OR expires_at > now()) AND (max_uses IS NULL OR uses < max_uses)`;

/** Inserts an invite; null when the code is already taken (the caller draws another). */
export function insertInvite(
  db: CommonQueryMethods,
  invite: { code: string; guildId: string; inviterId: string; maxUses: number | null; expiresInSeconds: number | null },
): Promise<InviteRow | null> {
  return db.maybeOne(sql.type(inviteRowSchema)`
    INSERT INTO guild_invites (code, guild_id, inviter_id, max_uses, expires_at)
    VALUES (${invite.code}, ${invite.guildId}, ${invite.inviterId}, ${invite.maxUses},
            ${invite.expiresInSeconds === null ? null : sql.fragment`now() + make_interval(secs => ${invite.expiresInSeconds})`})
    ON CONFLICT (code) DO NOTHING
    RETURNING ${inviteColumns}`);
}

/** An invite that is neither expired nor used up. */
export function findUsableInvite(db: CommonQueryMethods, code: string): Promise<InviteRow | null> {
  return db.maybeOne(sql.type(inviteRowSchema)`
    SELECT ${inviteColumns} FROM guild_invites WHERE code = ${code} AND ${inviteUsable}`);
}

/** Counts one use, atomically; false when the invite expired or was used up meanwhile. */
export async function consumeInvite(db: CommonQueryMethods, code: string): Promise<boolean> {
  const row = await db.maybeOne(sql.type(z.object({ code: z.string() }))`
    UPDATE guild_invites SET uses = uses + 1 WHERE code = ${code} AND ${inviteUsable} RETURNING code`);
  return row !== null;
}

// ───────────────────────────── guild text channels ─────────────────────────────

const guildChannelRowSchema = z.object({
  id: z.string(),
  guild_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  last_message_id: z.string().nullable(),
});
export type GuildChannelRow = z.infer<typeof guildChannelRowSchema>;

const guildChannelColumns = sql.fragment`c.id, c.guild_id, c.name, c.description, c.created_at, c.updated_at, c.last_message_id`;

export function insertGuildChannel(
  db: CommonQueryMethods,
  channel: { guildId: string; name: string; description: string | null },
): Promise<GuildChannelRow> {
  return db.one(sql.type(guildChannelRowSchema)`
    INSERT INTO channels AS c (type, name, description, guild_id)
    VALUES ('guild_text', ${channel.name}, ${channel.description}, ${channel.guildId})
    RETURNING ${guildChannelColumns}`);
}

export function listGuildChannelRows(db: CommonQueryMethods, guildId: string): Promise<readonly GuildChannelRow[]> {
  return db.any(sql.type(guildChannelRowSchema)`
    SELECT ${guildChannelColumns} FROM channels c
    WHERE c.guild_id = ${guildId} AND c.type = 'guild_text'
    ORDER BY c.id`);
}

export function countGuildChannels(db: CommonQueryMethods, guildId: string): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM channels WHERE guild_id = ${guildId}`);
}

export async function guildChannelIds(db: CommonQueryMethods, guildId: string): Promise<string[]> {
  return [...(await db.anyFirst(sql.type(idSchema)`SELECT id FROM channels WHERE guild_id = ${guildId} ORDER BY id`))];
}

// ───────────────────────────── channel permission overwrites ─────────────────────────────

const overwriteRowSchema = z.object({
  channel_id: z.string(),
  role_id: z.string(),
  allow: z.string(),
  deny: z.string(),
});
export type OverwriteRow = z.infer<typeof overwriteRowSchema>;

export interface OverwriteInput {
  role_id: string;
  allow: bigint;
  deny: bigint;
}

/** The overwrites of the given channels, ordered by channel then role. */
export function listOverwrites(db: CommonQueryMethods, channelIds: readonly string[]): Promise<readonly OverwriteRow[]> {
  if (channelIds.length === 0) return Promise.resolve([]);
  return db.any(sql.type(overwriteRowSchema)`
    SELECT channel_id, role_id, allow, deny FROM channel_permission_overwrites
    WHERE channel_id = ANY(${sql.array(channelIds, 'int8')})
    ORDER BY channel_id, role_id`);
}

/** Replaces every overwrite of a guild text channel (run it in a transaction). */
export async function replaceOverwrites(
  db: CommonQueryMethods,
  channelId: string,
  guildId: string,
  overwrites: readonly OverwriteInput[],
): Promise<void> {
  await db.query(sql.type(z.object({}))`DELETE FROM channel_permission_overwrites WHERE channel_id = ${channelId}`);
  if (overwrites.length === 0) return;
  await db.query(sql.type(z.object({}))`
    INSERT INTO channel_permission_overwrites (channel_id, guild_id, role_id, allow, deny)
    SELECT ${channelId}, ${guildId}, role_id, allow, deny
    FROM ${sql.unnest(
      overwrites.map((overwrite) => [overwrite.role_id, overwrite.allow.toString(), overwrite.deny.toString()]),
      ['int8', 'int8', 'int8'],
    )} AS o(role_id, allow, deny)`);
}

/** Guild memberships of a user with their permission inputs, for bulk visibility checks. */
const userGuildContextSchema = z.object({
  guild_id: z.string(),
  owner_id: z.string(),
  roles: z.array(z.object({ id: z.string(), permissions: z.string(), position: z.number(), is_default: z.boolean() })),
  /** Every role of the guild (to validate role references without another query). */
  guild_role_ids: z.array(z.string()),
});
export type UserGuildContext = z.infer<typeof userGuildContextSchema>;

export function userGuildContexts(db: CommonQueryMethods, userId: string, guildId?: string): Promise<readonly UserGuildContext[]> {
  return db.any(sql.type(userGuildContextSchema)`
    SELECT g.id AS guild_id, g.owner_id,
           coalesce((
             SELECT json_agg(json_build_object('id', r.id::text, 'permissions', r.permissions::text,
                                               'position', r.position, 'is_default', r.is_default))
             FROM guild_roles r
             WHERE r.guild_id = g.id
               AND (r.is_default OR r.id IN (SELECT mr.role_id FROM guild_member_roles mr
                                             WHERE mr.guild_id = g.id AND mr.user_id = m.user_id))
           ), '[]'::json) AS roles,
           ARRAY(SELECT r.id::text FROM guild_roles r WHERE r.guild_id = g.id ORDER BY r.id) AS guild_role_ids
    FROM guild_members m JOIN guilds g ON g.id = m.guild_id
    WHERE m.user_id = ${userId}
      ${guildId ? sql.fragment`AND g.id = ${guildId}` : sql.fragment``}
      AND NOT EXISTS (SELECT 1 FROM guild_bans b WHERE b.guild_id = g.id AND b.user_id = m.user_id)`);
}

const channelOfGuildSchema = z.object({ id: z.string(), guild_id: z.string() });

/** Every guild text channel of the guilds the user is a member of (visibility not yet applied). */
export function channelsOfUserGuilds(db: CommonQueryMethods, userId: string): Promise<readonly { id: string; guild_id: string }[]> {
  return db.any(sql.type(channelOfGuildSchema)`
    SELECT c.id, c.guild_id FROM channels c JOIN guild_members m ON m.guild_id = c.guild_id AND m.user_id = ${userId}
    WHERE c.type = 'guild_text'
    ORDER BY c.id`);
}
