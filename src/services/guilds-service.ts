import { randomInt } from 'node:crypto';
import {
  ForeignKeyIntegrityConstraintViolationError,
  UniqueIntegrityConstraintViolationError,
  type CommonQueryMethods,
  type DatabasePool,
  type DatabaseTransactionConnection,
} from 'slonik';
import type { components } from '../../generated/openapi-types.ts';
import { cursorPage } from '../domain/cursor.ts';
import { decodePageCursor } from './pagination.ts';
import {
  BAN_MEMBERS,
  DEFAULT_EVERYONE_PERMISSIONS,
  hasPermission,
  KICK_MEMBERS,
  MANAGE_CHANNELS,
  MANAGE_GUILD,
  MANAGE_ROLES,
  OVERWRITE_PERMISSIONS,
  parsePermissions,
  VIEW_CHANNEL,
} from '../domain/permissions.ts';
import { conflict, forbidden, invalid, notFound } from '../errors.ts';
import { seqsOf } from '../events/domain-events.ts';
import type { EventBus } from '../events/event-bus.ts';
import { channelViews, lockGuildChannels, takeGuildEventSlots, type GuildEventSlot } from '../repositories/channels-repository.ts';
import * as guilds from '../repositories/guilds-repository.ts';
import { toApiUser } from '../repositories/users-repository.ts';
import { viewerOf, type AuthContext } from './auth-service.ts';
import { channelPermissions, loadGuildMember, type GuildMemberContext } from './guild-access.ts';

export type ApiGuild = components['schemas']['Guild'];
export type ApiGuildRole = components['schemas']['GuildRole'];
export type ApiGuildMember = components['schemas']['GuildMember'];
export type ApiGuildBan = components['schemas']['GuildBan'];
export type ApiInvite = components['schemas']['Invite'];
export type ApiChannel = components['schemas']['Channel'];
type ApiOverwrite = components['schemas']['PermissionOverwrite'];

/** Limits named by the contract (409 beyond). */
export const MAX_GUILD_CHANNELS = 500;
export const MAX_GUILD_ROLES = 250;
const DEFAULT_ROLE_NAME = '@everyone';
const DEFAULT_CHANNEL_NAME = 'general';
const INVITE_CODE_LENGTH = 10;
const INVITE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

const toApiGuild = (row: guilds.GuildRow): ApiGuild => ({ ...row });

const toApiRole = (row: guilds.RoleRow): ApiGuildRole => ({ ...row });

const toApiInvite = (row: guilds.InviteRow): ApiInvite => ({ ...row });

/** A random code of [A-Za-z0-9] (crypto.randomInt is unbiased). */
export function newInviteCode(length = INVITE_CODE_LENGTH): string {
  let code = '';
  for (let index = 0; index < length; index += 1) code += INVITE_ALPHABET[randomInt(INVITE_ALPHABET.length)];
  return code;
}

function trimmedName(value: string, field: string): string {
  const name = value.trim();
  if (name.length === 0) throw invalid(field, 'must not be blank');
  return name;
}

const pageAfter = (cursor: string | undefined): string | undefined => decodePageCursor(cursor, ['id'])?.id;

function requirePermission(member: GuildMemberContext, permission: bigint, what: string): void {
  if (!hasPermission(member.permissions, permission)) throw forbidden(`You need the ${what} permission in this guild.`);
}

/** Except for the owner, a caller acts only on roles (and members) ranked below them. */
function requireOutranks(member: GuildMemberContext, position: number, what: string): void {
  if (!member.isOwner && position >= member.rank) {
    throw forbidden(`You may only ${what} ranked below your highest role.`);
  }
}

/** Except for the owner, a caller grants only permissions they have. */
function requireGrantable(member: GuildMemberContext, granted: bigint): void {
  if (!member.isOwner && (granted & ~member.permissions) !== 0n) {
    throw forbidden('You may only grant permissions you have yourself.');
  }
}

export function createGuildsService(deps: { db: DatabasePool; events: EventBus }) {
  const { db, events } = deps;

  async function requireMember(auth: AuthContext, guildId: string, q: CommonQueryMethods = db): Promise<GuildMemberContext> {
    const member = await loadGuildMember(q, guildId, auth.userId);
    if (!member) throw notFound('guild');
    return member;
  }

  async function requireGuild(guildId: string): Promise<ApiGuild> {
    const row = await guilds.findGuild(db, guildId);
    if (!row) throw notFound('guild');
    return toApiGuild(row);
  }

  /**
   * Validates channel overwrites: known bits only (400), roles of this guild, one per role (400),
   * and unless the caller is the owner only permissions they have may be allowed (403).
   * Runs no query (the member context carries the guild's role ids), so it is safe in a transaction.
   */
  async function parseOverwrites(
    member: GuildMemberContext,
    overwrites: readonly ApiOverwrite[],
    field = '/permission_overwrites',
  ): Promise<guilds.OverwriteInput[]> {
    const roleIds = member.guildRoleIds;
    const seen = new Set<string>();
    const parsed: guilds.OverwriteInput[] = [];
    overwrites.forEach((overwrite, index) => {
      const allow = parsePermissions(overwrite.allow, OVERWRITE_PERMISSIONS);
      const deny = parsePermissions(overwrite.deny, OVERWRITE_PERMISSIONS);
      if (allow === undefined) throw invalid(`${field}/${index}/allow`, 'may only contain VIEW_CHANNEL, SEND_MESSAGES and MANAGE_MESSAGES (7)');
      if (deny === undefined) throw invalid(`${field}/${index}/deny`, 'may only contain VIEW_CHANNEL, SEND_MESSAGES and MANAGE_MESSAGES (7)');
      if (!roleIds.has(overwrite.role_id)) throw invalid(`${field}/${index}/role_id`, 'is not a role of this guild');
      if (seen.has(overwrite.role_id)) throw invalid(`${field}/${index}/role_id`, 'appears twice');
      seen.add(overwrite.role_id);
      parsed.push({ role_id: overwrite.role_id, allow, deny });
    });
    for (const overwrite of parsed) requireGrantable(member, overwrite.allow);
    return parsed;
  }

  async function removeMember(
    guildId: string,
    userId: string,
    reason: 'left' | 'kicked' | 'banned',
    ban?: { reason: string | null; bannedBy: string },
  ): Promise<{ removed: boolean; channelIds: string[] }> {
    const outcome = await db.transaction(async (tx) => {
      // The guild row, then (only when someone is removed) a slot in every channel's chain: the
      // removal's place in each channel's order, before any message committed after it.
      if (!(await guilds.lockGuild(tx, guildId, 'update'))) throw notFound('guild');
      const slots = (await guilds.isMember(tx, guildId, userId)) ? await takeGuildEventSlots(tx, guildId) : null;
      if (ban) await guilds.upsertBan(tx, { guildId, userId, reason: ban.reason, bannedBy: ban.bannedBy });
      const removed = slots !== null && (await guilds.deleteMember(tx, guildId, userId));
      return { removed, channelIds: slots?.map((slot) => slot.channel_id) ?? [], slots };
    });
    if (outcome.removed) {
      events.publish({
        type: 'guild.member_left',
        guild_id: guildId,
        user_id: userId,
        reason,
        channel_ids: outcome.channelIds,
        ...seqsOf(outcome.slots),
      });
    }
    return { removed: outcome.removed, channelIds: outcome.channelIds };
  }

  return {
    requireMember,
    parseOverwrites,

    async createGuild(auth: AuthContext, body: { name: string; description?: string }): Promise<ApiGuild> {
      const name = trimmedName(body.name, '/name');
      const created = await db.transaction(async (tx) => {
        const guild = await guilds.insertGuild(tx, { name, description: body.description ?? null, ownerId: auth.userId });
        await guilds.insertMember(tx, guild.id, auth.userId);
        await guilds.insertRole(tx, {
          guildId: guild.id,
          name: DEFAULT_ROLE_NAME,
          permissions: DEFAULT_EVERYONE_PERMISSIONS,
          position: 0,
          isDefault: true,
        });
        const channel = await guilds.insertGuildChannel(tx, { guildId: guild.id, name: DEFAULT_CHANNEL_NAME, description: null });
        return { guildId: guild.id, channelId: channel.id };
      });
      const guild = await requireGuild(created.guildId);
      const [channel] = await channelViews(db, [created.channelId]);
      events.publish({ type: 'guild.created', guild });
      if (channel) events.publish({ type: 'channel.created', channel });
      return guild;
    },

    async listMyGuilds(auth: AuthContext, query: PageQuery) {
      const limit = query.limit ?? 50;
      const afterId = pageAfter(query.cursor);
      const rows = await guilds.listGuildsOfUser(db, auth.userId, { ...(afterId ? { afterId } : {}), limit });
      const page = cursorPage(rows, limit, (row) => ({ id: row.id }));
      return { items: page.rows.map(toApiGuild), next_cursor: page.next_cursor };
    },

    async getGuild(auth: AuthContext, guildId: string): Promise<ApiGuild> {
      await requireMember(auth, guildId);
      return requireGuild(guildId);
    },

    async updateGuild(auth: AuthContext, guildId: string, body: { name?: string; description?: string | null }): Promise<ApiGuild> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, MANAGE_GUILD, 'MANAGE_GUILD');
      const changes: { name?: string; description?: string | null } = {};
      if (body.name !== undefined) changes.name = trimmedName(body.name, '/name');
      if (body.description !== undefined) changes.description = body.description;
      const row = await guilds.updateGuildRow(db, guildId, changes);
      if (!row) throw notFound('guild');
      const guild = toApiGuild(row);
      events.publish({ type: 'guild.updated', guild });
      return guild;
    },

    async deleteGuild(auth: AuthContext, guildId: string): Promise<void> {
      const member = await requireMember(auth, guildId);
      if (!member.isOwner) throw forbidden('Only the owner may delete the guild.');
      const deleted = await db.transaction(async (tx) => {
        if (!(await guilds.lockGuild(tx, guildId, 'update'))) return null;
        // The cascade deletes the channels in no particular order: lock them in id order first, as
        // sends do (LOCK ORDER in channels-repository), or a send batch could deadlock with it.
        await lockGuildChannels(tx, guildId);
        const memberIds = await guilds.memberIds(tx, guildId);
        const channelIds = await guilds.guildChannelIds(tx, guildId);
        await guilds.deleteGuildRow(tx, guildId);
        return { memberIds, channelIds };
      });
      if (!deleted) throw notFound('guild');
      for (const channelId of deleted.channelIds) {
        events.publish({ type: 'channel.deleted', channel_id: channelId, guild_id: guildId, member_ids: deleted.memberIds });
      }
      events.publish({ type: 'guild.deleted', guild_id: guildId, member_ids: deleted.memberIds, channel_ids: deleted.channelIds });
    },

    // ───────────────────────────── channels ─────────────────────────────

    async listGuildChannels(auth: AuthContext, guildId: string): Promise<{ items: ApiChannel[] }> {
      const member = await requireMember(auth, guildId);
      const rows = await guilds.listGuildChannelRows(db, guildId);
      const overwrites = await guilds.listOverwrites(
        db,
        rows.map((row) => row.id),
      );
      const visible = rows
        .filter((row) =>
          hasPermission(
            channelPermissions(
              member,
              overwrites.filter((overwrite) => overwrite.channel_id === row.id),
            ),
            VIEW_CHANNEL,
          ),
        )
        .map((row) => row.id);
      return { items: await channelViews(db, visible) };
    },

    async createGuildChannel(
      auth: AuthContext,
      guildId: string,
      body: { name: string; description?: string; permission_overwrites?: ApiOverwrite[] },
    ): Promise<ApiChannel> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, MANAGE_CHANNELS, 'MANAGE_CHANNELS');
      const name = trimmedName(body.name, '/name');
      const overwrites = await parseOverwrites(member, body.permission_overwrites ?? []);
      const channelId = await db
        .transaction(async (tx) => {
          if (!(await guilds.lockGuild(tx, guildId, 'update'))) throw notFound('guild');
          if ((await guilds.countGuildChannels(tx, guildId)) >= MAX_GUILD_CHANNELS) {
            throw conflict(`A guild holds at most ${MAX_GUILD_CHANNELS} channels.`);
          }
          const channel = await guilds.insertGuildChannel(tx, { guildId, name, description: body.description ?? null });
          await guilds.replaceOverwrites(tx, channel.id, guildId, overwrites);
          return channel.id;
        })
        .catch((error: unknown) => {
          // A role named by an overwrite was deleted between validation and insert.
          if (error instanceof ForeignKeyIntegrityConstraintViolationError) {
            throw invalid('/permission_overwrites', 'names a role that no longer exists');
          }
          throw error;
        });
      const [channel] = await channelViews(db, [channelId]);
      if (!channel) throw notFound('channel');
      events.publish({ type: 'channel.created', channel });
      return channel;
    },

    // ───────────────────────────── members ─────────────────────────────

    async listGuildMembers(auth: AuthContext, guildId: string, query: PageQuery) {
      await requireMember(auth, guildId);
      const limit = query.limit ?? 50;
      const afterJoinId = pageAfter(query.cursor);
      const rows = await guilds.listMembers(db, guildId, { ...(afterJoinId ? { afterJoinId } : {}), limit });
      const page = cursorPage(rows, limit, (row) => ({ id: row.join_id }));
      const viewer = viewerOf(auth);
      return {
        items: page.rows.map(({ joined_at, join_id: _joinId, role_ids, ...user }): ApiGuildMember => ({
          user: toApiUser(user, viewer),
          joined_at,
          role_ids,
        })),
        next_cursor: page.next_cursor,
      };
    },

    /** Leave (own id) or kick. */
    async removeGuildMember(auth: AuthContext, guildId: string, userId: string): Promise<void> {
      const member = await requireMember(auth, guildId);
      if (userId === auth.userId) {
        if (member.isOwner) throw forbidden('The owner cannot leave the guild; delete it instead.');
        const { removed } = await removeMember(guildId, userId, 'left');
        if (!removed) throw notFound('member');
        return;
      }
      requirePermission(member, KICK_MEMBERS, 'KICK_MEMBERS');
      const target = await loadGuildMember(db, guildId, userId);
      if (!target) throw notFound('member');
      if (target.isOwner) throw forbidden('The owner cannot be kicked.');
      requireOutranks(member, target.rank, 'kick members');
      const { removed } = await removeMember(guildId, userId, 'kicked');
      if (!removed) throw notFound('member');
    },

    // ───────────────────────────── bans ─────────────────────────────

    async listGuildBans(auth: AuthContext, guildId: string, query: PageQuery) {
      const member = await requireMember(auth, guildId);
      requirePermission(member, BAN_MEMBERS, 'BAN_MEMBERS');
      const limit = query.limit ?? 50;
      const afterBanId = pageAfter(query.cursor);
      const rows = await guilds.listBans(db, guildId, { ...(afterBanId ? { afterBanId } : {}), limit });
      const page = cursorPage(rows, limit, (row) => ({ id: row.ban_id }));
      const viewer = viewerOf(auth);
      return {
        items: page.rows.map(({ reason, banned_at, ban_id: _banId, ...user }): ApiGuildBan => ({
          user: toApiUser(user, viewer),
          reason,
          created_at: banned_at,
        })),
        next_cursor: page.next_cursor,
      };
    },

    async banGuildMember(auth: AuthContext, guildId: string, userId: string, body: { reason?: string } | undefined): Promise<void> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, BAN_MEMBERS, 'BAN_MEMBERS');
      if (userId === auth.userId) throw forbidden('You cannot ban yourself.');
      if (!(await guilds.userExists(db, userId))) throw notFound('user');
      if (userId === member.ownerId) throw forbidden('The owner cannot be banned.');
      const target = await loadGuildMember(db, guildId, userId);
      if (target) requireOutranks(member, target.rank, 'ban members');
      await removeMember(guildId, userId, 'banned', { reason: body?.reason ?? null, bannedBy: auth.userId });
    },

    async unbanGuildMember(auth: AuthContext, guildId: string, userId: string): Promise<void> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, BAN_MEMBERS, 'BAN_MEMBERS');
      if (!(await guilds.deleteBan(db, guildId, userId))) throw notFound('ban');
    },

    // ───────────────────────────── invites ─────────────────────────────

    async createGuildInvite(
      auth: AuthContext,
      guildId: string,
      body: { max_uses?: number; expires_in?: number } | undefined,
    ): Promise<ApiInvite> {
      await requireMember(auth, guildId);
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const row = await guilds.insertInvite(db, {
          code: newInviteCode(),
          guildId,
          inviterId: auth.userId,
          maxUses: body?.max_uses ?? null,
          expiresInSeconds: body?.expires_in ?? null,
        });
        if (row) return toApiInvite(row);
      }
      throw new Error('could not draw an unused invite code');
    },

    /** Joins with an invite; `joined` is false when the caller already was a member (no use counted). */
    async joinGuildByInvite(auth: AuthContext, code: string): Promise<{ guild: ApiGuild; joined: boolean }> {
      const outcome = await db.transaction(async (tx) => {
        const invite = await guilds.findUsableInvite(tx, code);
        if (!invite) throw notFound('invite');
        // Bans and kicks lock the guild row (NO KEY UPDATE, which SHARE waits for): a ban committed before this point is seen below.
        if (!(await guilds.lockGuild(tx, invite.guild_id, 'share'))) throw notFound('invite');
        if (await guilds.isBanned(tx, invite.guild_id, auth.userId)) throw forbidden('You are banned from this guild.');
        if (!(await guilds.insertMember(tx, invite.guild_id, auth.userId))) {
          return { guildId: invite.guild_id, joined: false, channelIds: [], slots: null };
        }
        // Counted atomically: two joins racing for the last use cannot both succeed.
        if (!(await guilds.consumeInvite(tx, code))) throw notFound('invite');
        // The join's place in every channel's chain: a message committed after it reaches the new member.
        const slots = await takeGuildEventSlots(tx, invite.guild_id);
        return { guildId: invite.guild_id, joined: true, channelIds: slots.map((slot) => slot.channel_id), slots };
      });
      const guild = await requireGuild(outcome.guildId);
      if (outcome.joined) {
        const joined = await guilds.findMember(db, outcome.guildId, auth.userId);
        if (joined) {
          const { joined_at: _j, join_id: _i, role_ids: _r, ...user } = joined;
          events.publish({
            type: 'guild.member_joined',
            guild_id: outcome.guildId,
            user: toApiUser(user, 'public'),
            channel_ids: outcome.channelIds,
            ...seqsOf(outcome.slots ?? null),
          });
        }
      }
      return { guild, joined: outcome.joined };
    },

    // ───────────────────────────── roles ─────────────────────────────

    async listGuildRoles(auth: AuthContext, guildId: string): Promise<{ items: ApiGuildRole[] }> {
      await requireMember(auth, guildId);
      return { items: (await guilds.listRoles(db, guildId)).map(toApiRole) };
    },

    async createGuildRole(auth: AuthContext, guildId: string, body: { name: string; permissions?: string }): Promise<ApiGuildRole> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, MANAGE_ROLES, 'MANAGE_ROLES');
      const name = trimmedName(body.name, '/name');
      const permissions = parsePermissions(body.permissions ?? '0');
      if (permissions === undefined) throw invalid('/permissions', 'has a bit that is not a permission (the largest valid value is 511)');
      requireGrantable(member, permissions);
      let role: guilds.RoleRow;
      try {
        role = await db.transaction(async (tx) => {
          if (!(await guilds.lockGuild(tx, guildId, 'update'))) throw notFound('guild');
          if ((await guilds.countRoles(tx, guildId)) >= MAX_GUILD_ROLES) {
            throw conflict(`A guild holds at most ${MAX_GUILD_ROLES} roles.`);
          }
          return guilds.insertRole(tx, { guildId, name, permissions, position: 1, isDefault: false });
        });
      } catch (error) {
        throw roleConflict(error);
      }
      events.publish({ type: 'guild.roles_changed', guild_id: guildId, role_id: role.id, action: 'created', user_id: null });
      return toApiRole(role);
    },

    async updateGuildRole(
      auth: AuthContext,
      guildId: string,
      roleId: string,
      body: { name?: string; permissions?: string; position?: number },
    ): Promise<ApiGuildRole> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, MANAGE_ROLES, 'MANAGE_ROLES');
      const role = await guilds.findRole(db, guildId, roleId);
      if (!role) throw notFound('role');
      const changes: { name?: string; permissions?: bigint; position?: number } = {};
      if (body.name !== undefined) changes.name = trimmedName(body.name, '/name');
      if (body.permissions !== undefined) {
        const permissions = parsePermissions(body.permissions);
        if (permissions === undefined) throw invalid('/permissions', 'has a bit that is not a permission (the largest valid value is 511)');
        changes.permissions = permissions;
      }
      if (body.position !== undefined) changes.position = body.position;
      if (role.is_default && (changes.name !== undefined || changes.position !== undefined)) {
        throw forbidden('The @everyone role cannot be renamed or moved; only its permissions may change.');
      }
      requireOutranks(member, role.position, 'update roles');
      if (changes.position !== undefined) requireOutranks(member, changes.position, 'move roles to positions');
      if (changes.permissions !== undefined) requireGrantable(member, changes.permissions & ~BigInt(role.permissions));
      // Only a change of permissions can change who reads a channel: that one takes its place in
      // every channel's order (a name or position change goes out unsequenced).
      const sequenced = changes.permissions !== undefined;
      let updated: { role: guilds.RoleRow; slots: readonly GuildEventSlot[] | null };
      try {
        updated = await db.transaction(async (tx) => {
          if (sequenced && !(await guilds.lockGuild(tx, guildId, 'update'))) throw notFound('role');
          const slots = sequenced ? await takeGuildEventSlots(tx, guildId) : null;
          return { role: await guilds.updateRoleRow(tx, roleId, changes), slots };
        });
      } catch (error) {
        throw roleConflict(error);
      }
      events.publish({
        type: 'guild.roles_changed',
        guild_id: guildId,
        role_id: roleId,
        action: 'updated',
        user_id: null,
        ...seqsOf(updated.slots),
      });
      return toApiRole(updated.role);
    },

    async deleteGuildRole(auth: AuthContext, guildId: string, roleId: string): Promise<void> {
      const member = await requireMember(auth, guildId);
      requirePermission(member, MANAGE_ROLES, 'MANAGE_ROLES');
      const role = await guilds.findRole(db, guildId, roleId);
      if (!role) throw notFound('role');
      if (role.is_default) throw forbidden('The @everyone role cannot be deleted.');
      requireOutranks(member, role.position, 'delete roles');
      // Guild row, channel slots, then the role (its overwrites go with it): LOCK ORDER.
      const slots = await db.transaction(async (tx) => {
        if (!(await guilds.lockGuild(tx, guildId, 'update'))) throw notFound('role');
        const taken = await takeGuildEventSlots(tx, guildId);
        if (!(await guilds.deleteRoleRow(tx, roleId))) throw notFound('role');
        return taken;
      });
      events.publish({ type: 'guild.roles_changed', guild_id: guildId, role_id: roleId, action: 'deleted', user_id: null, ...seqsOf(slots) });
    },

    async addGuildMemberRole(auth: AuthContext, guildId: string, userId: string, roleId: string): Promise<void> {
      const { role } = await memberRoleChange(auth, guildId, userId, roleId, 'assigned');
      const slots = await memberRoleTransaction(guildId, userId, (tx) => guilds.addMemberRole(tx, guildId, userId, role.id));
      if (slots) {
        events.publish({ type: 'guild.roles_changed', guild_id: guildId, role_id: roleId, action: 'assigned', user_id: userId, ...seqsOf(slots) });
      }
    },

    async removeGuildMemberRole(auth: AuthContext, guildId: string, userId: string, roleId: string): Promise<void> {
      const { role } = await memberRoleChange(auth, guildId, userId, roleId, 'removed');
      const slots = await memberRoleTransaction(guildId, userId, (tx) => guilds.removeMemberRole(tx, guildId, userId, role.id));
      if (!slots) throw notFound('member role');
      events.publish({ type: 'guild.roles_changed', guild_id: guildId, role_id: roleId, action: 'removed', user_id: userId, ...seqsOf(slots) });
    },

  };

  /**
   * Gives or takes a member's role under the guild row lock; when it changed something, takes the
   * change's slot in every channel's chain (member-role rows are never locked by channel-level
   * transactions, so they may come before the channels: LOCK ORDER in channels-repository).
   * Null when nothing changed (the guild was gone, or the change was already made).
   */
  async function memberRoleTransaction(
    guildId: string,
    userId: string,
    change: (tx: DatabaseTransactionConnection) => Promise<boolean>,
  ): Promise<readonly GuildEventSlot[] | null> {
    return db.transaction(async (tx) => {
      if (!(await guilds.lockGuild(tx, guildId, 'update'))) return null;
      // Kicked between the checks and this lock (a member-role row would fail its foreign key).
      if (!(await guilds.isMember(tx, guildId, userId))) throw notFound('member');
      if (!(await change(tx))) return null;
      return takeGuildEventSlots(tx, guildId);
    });
  }

  /** The checks shared by assigning and removing a role. */
  async function memberRoleChange(auth: AuthContext, guildId: string, userId: string, roleId: string, action: 'assigned' | 'removed') {
    const member = await requireMember(auth, guildId);
    requirePermission(member, MANAGE_ROLES, 'MANAGE_ROLES');
    const role = await guilds.findRole(db, guildId, roleId);
    if (!role) throw notFound('role');
    if (role.is_default) {
      throw forbidden(`The @everyone role is implicit; it cannot be ${action === 'assigned' ? 'assigned' : 'removed'}.`);
    }
    if (!(await loadGuildMember(db, guildId, userId))) throw notFound('member');
    requireOutranks(member, role.position, `${action === 'assigned' ? 'assign' : 'remove'} roles`);
    return { member, role };
  }
}

function roleConflict(error: unknown): unknown {
  if (error instanceof UniqueIntegrityConstraintViolationError) {
    return conflict('A role with that name already exists in this guild (names are compared case-insensitively).');
  }
  return error;
}

export type GuildsService = ReturnType<typeof createGuildsService>;
