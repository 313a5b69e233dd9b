import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { pageFetchSize } from '../domain/cursor.ts';

export const roleSchema = z.enum(['client', 'trainer', 'admin']);
export type Role = z.infer<typeof roleSchema>;

const userColumns = sql.fragment`id, username, email, display_name, phone_number, role, active, created_at, updated_at, last_seen_at`;

export const userRowSchema = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  display_name: z.string(),
  phone_number: z.string().nullable(),
  role: roleSchema,
  active: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  last_seen_at: z.string().nullable(),
});
export type UserRow = z.infer<typeof userRowSchema>;

const credentialsRowSchema = userRowSchema.extend({ password_hash: z.string().nullable() });
export type CredentialsRow = z.infer<typeof credentialsRowSchema>;

/** The API's User object; email and phone number only for the user themself and admins. */
export type PublicUser = Omit<UserRow, 'email' | 'phone_number'> & { email?: string; phone_number?: string | null };

/** Who is looking at users (and channels): what decides which fields and objects they see. */
export interface Viewer {
  userId: string;
  role: Role;
}

export function toApiUser(row: UserRow, viewer: Viewer | 'full' | 'public'): PublicUser {
  const full = viewer === 'full' || (viewer !== 'public' && (viewer.role === 'admin' || viewer.userId === row.id));
  const { email, phone_number: phoneNumber, ...rest } = row;
  return full ? { ...rest, email, phone_number: phoneNumber } : rest;
}

export interface NewUser {
  username: string;
  email: string;
  display_name: string;
  phone_number: string | null;
  password_hash: string | null;
  role: Role;
  active: boolean;
}

export function insertUser(db: CommonQueryMethods, user: NewUser): Promise<UserRow> {
  return db.one(sql.type(userRowSchema)`
    INSERT INTO users (username, email, display_name, phone_number, password_hash, role, active)
    VALUES (${user.username}, ${user.email}, ${user.display_name}, ${user.phone_number}, ${user.password_hash},
            ${user.role}, ${user.active})
    RETURNING ${userColumns}`);
}

export function findUserById(db: CommonQueryMethods, id: string): Promise<UserRow | null> {
  return db.maybeOne(sql.type(userRowSchema)`
    SELECT ${userColumns} FROM users WHERE id = ${id} AND deleted_at IS NULL`);
}

export function findCredentialsById(db: CommonQueryMethods, id: string): Promise<CredentialsRow | null> {
  return db.maybeOne(sql.type(credentialsRowSchema)`
    SELECT ${userColumns}, password_hash FROM users WHERE id = ${id} AND deleted_at IS NULL`);
}

/** Login accepts an email address or a username (both case-insensitive). */
export function findCredentialsByLogin(db: CommonQueryMethods, login: string): Promise<CredentialsRow | null> {
  return db.maybeOne(sql.type(credentialsRowSchema)`
    SELECT ${userColumns}, password_hash FROM users
    WHERE (lower(email) = lower(${login}) OR lower(username) = lower(${login})) AND deleted_at IS NULL
    LIMIT 1`);
}

export function findUserByEmail(db: CommonQueryMethods, email: string): Promise<UserRow | null> {
  return db.maybeOne(sql.type(userRowSchema)`
    SELECT ${userColumns} FROM users WHERE lower(email) = lower(${email}) AND deleted_at IS NULL`);
}

export interface UserChanges {
  username?: string;
  email?: string;
  display_name?: string;
  phone_number?: string | null;
  password_hash?: string;
  role?: Role;
  active?: boolean;
}

export function updateUserRow(db: CommonQueryMethods, id: string, changes: UserChanges): Promise<UserRow | null> {
  const assignments = Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql.fragment`${sql.identifier([column])} = ${value as string | boolean | null}`);
  return db.maybeOne(sql.type(userRowSchema)`
    UPDATE users SET ${sql.join([...assignments, sql.fragment`updated_at = now()`], sql.fragment`, `)}
    WHERE id = ${id} AND deleted_at IS NULL
    RETURNING ${userColumns}`);
}

/** Deleted accounts are anonymised so their username and email can be reused; messages keep an author. */
export function softDeleteUser(db: CommonQueryMethods, id: string): Promise<UserRow | null> {
  return db.maybeOne(sql.type(userRowSchema)`
    UPDATE users SET
      deleted_at = now(), active = false, password_hash = NULL, phone_number = NULL,
      username = 'deleted-' || id, email = 'deleted-' || id || '@deleted.invalid',
      display_name = 'Deleted user', updated_at = now()
    WHERE id = ${id} AND deleted_at IS NULL
    RETURNING ${userColumns}`);
}

export interface UserFilters {
  role?: Role;
  active?: boolean;
  q?: string;
  /** Only admins may match `q` against email addresses. */
  searchEmail: boolean;
  afterId?: string;
  limit: number;
}

export async function listUsersPage(db: CommonQueryMethods, filters: UserFilters): Promise<UserRow[]> {
  const conditions = [sql.fragment`deleted_at IS NULL`];
  if (filters.role) conditions.push(sql.fragment`role = ${filters.role}`);
  if (filters.active !== undefined) conditions.push(sql.fragment`active = ${filters.active}`);
  if (filters.q) {
    const pattern = `%${filters.q.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
    conditions.push(
      filters.searchEmail
        ? sql.fragment`(username ILIKE ${pattern} OR display_name ILIKE ${pattern} OR email ILIKE ${pattern})`
        : sql.fragment`(username ILIKE ${pattern} OR display_name ILIKE ${pattern})`,
    );
  }
  if (filters.afterId) conditions.push(sql.fragment`id > ${filters.afterId}`);
  const rows = await db.any(sql.type(userRowSchema)`
    SELECT ${userColumns} FROM users
    WHERE ${sql.join(conditions, sql.fragment` AND `)}
    ORDER BY id
    LIMIT ${pageFetchSize(filters.limit)}`);
  return [...rows];
}

const statisticsSchema = z.object({
  total: z.number(),
  active: z.number(),
  inactive: z.number(),
  client: z.number(),
  trainer: z.number(),
  admin: z.number(),
});

export function userStatistics(db: CommonQueryMethods) {
  return db.one(sql.type(statisticsSchema)`
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE active)::int AS active,
           count(*) FILTER (WHERE NOT active)::int AS inactive,
           count(*) FILTER (WHERE role = 'client')::int AS client,
           count(*) FILTER (WHERE role = 'trainer')::int AS trainer,
           count(*) FILTER (WHERE role = 'admin')::int AS admin
    FROM users WHERE deleted_at IS NULL`);
}

export function touchLastSeen(db: CommonQueryMethods, id: string): Promise<unknown> {
  return db.query(sql.type(z.object({}))`UPDATE users SET last_seen_at = now() WHERE id = ${id}`);
}
