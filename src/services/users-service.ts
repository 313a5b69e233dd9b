import type { DatabasePool } from 'slonik';
import { cursorPage } from '../domain/cursor.ts';
import { forbidden, invalid, notFound, ProblemError } from '../errors.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { listUsersByIds } from '../repositories/gateway-repository.ts';
import * as users from '../repositories/users-repository.ts';
import type { PublicUser, Role, UserChanges } from '../repositories/users-repository.ts';
import { decodePageCursor } from './pagination.ts';
import { accountConflict, assertDisplayName, assertPasswordPolicy, viewerOf, type AuthContext, type AuthService } from './auth-service.ts';

export interface ProfileChanges {
  username?: string;
  display_name?: string;
  email?: string;
  phone_number?: string | null;
}

export interface UserQuery {
  role?: Role;
  active?: boolean;
  q?: string;
  limit?: number;
  cursor?: string;
}

/** What the users service needs from the gateway's presence tracking. */
export interface PresenceSource {
  onlineUserCount(): number;
  /** Users others see as online, idle or dnd right now. */
  visibleOnlineUserIds(): string[];
  presence: { visibleStatus(userId: string): 'online' | 'idle' | 'dnd' | 'offline' };
}

export function createUsersService(deps: { db: DatabasePool; auth: AuthService; presence: PresenceSource }) {
  const { db, auth: authService } = deps;

  async function applyChanges(id: string, changes: UserChanges): Promise<users.UserRow> {
    assertDisplayName(changes.display_name);
    try {
      const row = await users.updateUserRow(db, id, changes);
      if (!row) throw notFound('user');
      return row;
    } catch (error) {
      return accountConflict(error);
    }
  }

  async function requireUser(id: string): Promise<users.UserRow> {
    const row = await users.findUserById(db, id);
    if (!row) throw notFound('user');
    return row;
  }

  return {
    async getMe(auth: AuthContext): Promise<PublicUser> {
      return users.toApiUser(await requireUser(auth.userId), 'full');
    },

    async updateMe(
      auth: AuthContext,
      body: ProfileChanges & { password?: string; current_password?: string },
    ): Promise<PublicUser> {
      const { password, current_password: currentPassword, ...profile } = body;
      const changes: UserChanges = { ...profile };
      if (currentPassword !== undefined && password === undefined) {
        throw invalid('/password', 'is required with current_password');
      }
      if (password !== undefined) {
        assertPasswordPolicy(password);
        const credentials = await users.findCredentialsById(db, auth.userId);
        if (!credentials) throw notFound('user');
        // An account created by OAuth login has no password yet: its first one needs no current one.
        if (credentials.password_hash !== null) {
          if (currentPassword === undefined) throw invalid('/current_password', 'is required to change the password');
          if (!(await verifyPassword(credentials.password_hash, currentPassword))) {
            throw new ProblemError('invalid_credentials', 'The current password is wrong.');
          }
        }
        changes.password_hash = await hashPassword(password);
      }
      const row = await applyChanges(auth.userId, changes);
      if (password !== undefined) await authService.endSessions(auth.userId, 'password_changed', auth.sessionId);
      return users.toApiUser(row, 'full');
    },

    async deleteMe(auth: AuthContext): Promise<void> {
      const row = await users.softDeleteUser(db, auth.userId);
      if (!row) throw notFound('user');
      authService.forgetUser(auth.userId);
      await authService.endSessions(auth.userId, 'account_deleted');
    },

    async listUsers(auth: AuthContext, query: UserQuery) {
      const limit = query.limit ?? 50;
      const afterId = decodePageCursor(query.cursor, ['id'])?.id;
      const rows = await users.listUsersPage(db, {
        ...(query.role ? { role: query.role } : {}),
        ...(query.active !== undefined ? { active: query.active } : {}),
        ...(query.q ? { q: query.q } : {}),
        searchEmail: auth.role === 'admin',
        ...(afterId ? { afterId } : {}),
        limit,
      });
      const page = cursorPage(rows, limit, (row) => ({ id: row.id }));
      return { items: page.rows.map((row) => users.toApiUser(row, viewerOf(auth))), next_cursor: page.next_cursor };
    },

    /** The connected-users list (`GET /users/online`), from the gateway's presence. */
    async listOnlineUsers(auth: AuthContext, query: { limit?: number; cursor?: string }) {
      const limit = query.limit ?? 50;
      const afterId = decodePageCursor(query.cursor, ['id'])?.id;
      const rows = await listUsersByIds(db, deps.presence.visibleOnlineUserIds(), { ...(afterId ? { afterId } : {}), limit });
      // The cursor follows the rows read, also past users who went offline since.
      const page = cursorPage(rows, limit, (row) => ({ id: row.id }));
      const items = [];
      for (const row of page.rows) {
        const status = deps.presence.presence.visibleStatus(row.id);
        // Went offline or invisible since the ids were read: not listed.
        if (status === 'offline') continue;
        items.push({ user: users.toApiUser(row, viewerOf(auth)), status });
      }
      return { items, next_cursor: page.next_cursor };
    },

    async createUser(
      auth: AuthContext,
      body: ProfileChanges & { username: string; email: string; password: string; role?: Role; active?: boolean },
    ): Promise<PublicUser> {
      if (auth.role !== 'admin') throw forbidden('Only admins may create users.');
      const row = await authService.createAccount(body);
      return users.toApiUser(row, 'full');
    },

    async statistics(auth: AuthContext) {
      if (auth.role !== 'admin') throw forbidden('Only admins may read user statistics.');
      const stats = await users.userStatistics(db);
      return {
        total: stats.total,
        active: stats.active,
        inactive: stats.inactive,
        online: deps.presence.onlineUserCount(),
        by_role: { client: stats.client, trainer: stats.trainer, admin: stats.admin },
      };
    },

    async getUser(auth: AuthContext, id: string): Promise<PublicUser> {
      return users.toApiUser(await requireUser(id), viewerOf(auth));
    },

    async updateUser(
      auth: AuthContext,
      id: string,
      body: ProfileChanges & { role?: Role; active?: boolean },
    ): Promise<PublicUser> {
      await requireUser(id);
      const isAdmin = auth.role === 'admin';
      if (!isAdmin && id !== auth.userId) throw forbidden('Only admins may update other users.');
      if (!isAdmin && (body.role !== undefined || body.active !== undefined)) {
        throw forbidden('Only admins may change role or active.');
      }
      const row = await applyChanges(id, body);
      // A new role or active flag counts from this user's next request, in this process too.
      if (body.role !== undefined || body.active !== undefined) authService.forgetUser(id);
      if (body.active === false) await authService.endSessions(id, 'deactivated');
      return users.toApiUser(row, viewerOf(auth));
    },

    async deleteUser(auth: AuthContext, id: string): Promise<void> {
      await requireUser(id);
      if (auth.role !== 'admin') throw forbidden('Only admins may delete users.');
      await users.softDeleteUser(db, id);
      authService.forgetUser(id);
      await authService.endSessions(id, 'account_deleted');
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
