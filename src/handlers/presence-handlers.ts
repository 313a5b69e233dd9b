import type { DatabasePool } from 'slonik';
import { decodeCursor, encodeCursor } from '../domain/cursor.ts';
import { invalid } from '../errors.ts';
import { listUsersByIds } from '../repositories/gateway-repository.ts';
import { toApiUser } from '../repositories/users-repository.ts';
import { authOf, queryOf, type HandlerGroup } from './handler-types.ts';

export interface PresenceSource {
  /** Users others see as online, idle or dnd right now. */
  visibleOnlineUserIds(): string[];
  presence: { visibleStatus(userId: string): 'online' | 'idle' | 'dnd' | 'offline' };
}

/** `GET /api/v1/users/online` (tag users): the connected-users list, from the gateway's presence. */
export function createPresenceHandlers(deps: { db: DatabasePool; gateway: PresenceSource }): HandlerGroup<'listOnlineUsers'> {
  const { db, gateway } = deps;
  return {
    async listOnlineUsers(request) {
      const auth = authOf(request);
      const query = queryOf<'listOnlineUsers'>(request);
      const limit = query.limit ?? 50;
      let afterId: string | undefined;
      if (query.cursor !== undefined) {
        const decoded = decodeCursor(query.cursor, ['id']);
        if (!decoded) throw invalid('cursor', 'is not a valid cursor');
        afterId = decoded.id;
      }
      const rows = await listUsersByIds(db, gateway.visibleOnlineUserIds(), { ...(afterId ? { afterId } : {}), limit });
      const items = [];
      for (const row of rows.slice(0, limit)) {
        const status = gateway.presence.visibleStatus(row.id);
        // Went offline or invisible since the ids were read: not listed.
        if (status === 'offline') continue;
        items.push({ user: toApiUser(row, { id: auth.userId, role: auth.role }), status });
      }
      const last = rows.slice(0, limit).at(-1);
      return { items, next_cursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null };
    },
  };
}
