/**
 * Guild permissions: a bitset (bigint here, a decimal string on the wire, bigint in PostgreSQL)
 * and the one pure function that turns a member's roles, ownership and a channel's overwrites
 * into their effective permissions. See `Permissions` in openapi.yaml.
 */
export const VIEW_CHANNEL = 1n;
export const SEND_MESSAGES = 2n;
export const MANAGE_MESSAGES = 4n;
export const MANAGE_CHANNELS = 8n;
export const KICK_MEMBERS = 16n;
export const BAN_MEMBERS = 32n;
export const MANAGE_ROLES = 64n;
export const MANAGE_GUILD = 128n;
export const ADMINISTRATOR = 256n;

/** Every defined bit (`511`). */
export const ALL_PERMISSIONS =
  VIEW_CHANNEL |
  SEND_MESSAGES |
  MANAGE_MESSAGES |
  MANAGE_CHANNELS |
  KICK_MEMBERS |
  BAN_MEMBERS |
  MANAGE_ROLES |
  MANAGE_GUILD |
  ADMINISTRATOR;

/** The bits a channel overwrite may carry (`7`). */
export const OVERWRITE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | MANAGE_MESSAGES;

/** What the default `@everyone` role of a new guild allows (`3`). */
export const DEFAULT_EVERYONE_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES;

export interface RolePermissions {
  id: string;
  permissions: bigint;
}

export interface ChannelOverwrite {
  role_id: string;
  allow: bigint;
  deny: bigint;
}

export interface PermissionInput {
  isOwner: boolean;
  /** The guild's default `@everyone` role, which every member has. */
  everyone: RolePermissions;
  /** The member's other roles. */
  memberRoles: readonly RolePermissions[];
  /** A channel's overwrites; omit for guild-level permissions. */
  overwrites?: readonly ChannelOverwrite[];
}

const has = (permissions: bigint, bit: bigint): boolean => (permissions & bit) === bit;

/**
 * Discord's computation: the owner has all; otherwise the OR of `@everyone` and the member's roles,
 * all with ADMINISTRATOR (overwrites do not apply then). In a channel, the `@everyone` overwrite
 * applies first (remove deny, add allow), then the member's other roles' overwrites together
 * (remove the OR of their deny, add the OR of their allow). Overwrites of roles the member does
 * not have are ignored.
 */
export function effectivePermissions(input: PermissionInput): bigint {
  if (input.isOwner) return ALL_PERMISSIONS;
  let permissions = input.everyone.permissions;
  for (const role of input.memberRoles) permissions |= role.permissions;
  permissions &= ALL_PERMISSIONS;
  if (has(permissions, ADMINISTRATOR)) return ALL_PERMISSIONS;
  const overwrites = input.overwrites;
  if (!overwrites || overwrites.length === 0) return permissions;

  const everyoneOverwrite = overwrites.find((overwrite) => overwrite.role_id === input.everyone.id);
  if (everyoneOverwrite) {
    permissions &= ~everyoneOverwrite.deny;
    permissions |= everyoneOverwrite.allow;
  }
  const roleIds = new Set(input.memberRoles.map((role) => role.id));
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.role_id === input.everyone.id || !roleIds.has(overwrite.role_id)) continue;
    allow |= overwrite.allow;
    deny |= overwrite.deny;
  }
  permissions &= ~deny;
  permissions |= allow;
  return permissions & ALL_PERMISSIONS;
}

export const hasPermission = has;

/** A member's rank: the highest position among their roles, 0 with none. */
export function rankOf(roles: readonly { position: number }[]): number {
  let rank = 0;
  for (const role of roles) if (role.position > rank) rank = role.position;
  return rank;
}

/** Parses a decimal permission string; undefined when it is not one or sets an unknown bit. */
export function parsePermissions(value: string, allowed: bigint = ALL_PERMISSIONS): bigint | undefined {
  if (!/^[0-9]{1,20}$/.test(value)) return undefined;
  const parsed = BigInt(value);
  return (parsed & ~allowed) === 0n ? parsed : undefined;
}

export const formatPermissions = (permissions: bigint): string => permissions.toString(10);
