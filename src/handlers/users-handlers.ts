import type { UsersService } from '../services/users-service.ts';
import { authOf, bodyOf, pathOf, queryOf, type HandlerGroup } from './handler-types.ts';

export function createUsersHandlers(deps: { users: UsersService }): HandlerGroup<
  | 'getMe'
  | 'updateMe'
  | 'deleteMe'
  | 'listUsers'
  | 'listOnlineUsers'
  | 'createUser'
  | 'getUserStatistics'
  | 'getUser'
  | 'updateUser'
  | 'deleteUser'
> {
  const { users } = deps;
  return {
    getMe: async (request) => users.getMe(authOf(request)),
    updateMe: async (request) => users.updateMe(authOf(request), bodyOf<'updateMe'>(request)),
    async deleteMe(request, reply) {
      await users.deleteMe(authOf(request));
      return reply.code(204).send();
    },
    listUsers: async (request) => users.listUsers(authOf(request), queryOf<'listUsers'>(request)),
    listOnlineUsers: async (request) => users.listOnlineUsers(authOf(request), queryOf<'listOnlineUsers'>(request)),
    async createUser(request, reply) {
      return reply.code(201).send(await users.createUser(authOf(request), bodyOf<'createUser'>(request)));
    },
    getUserStatistics: async (request) => users.statistics(authOf(request)),
    getUser: async (request) => users.getUser(authOf(request), pathOf<'getUser'>(request).user_id),
    updateUser: async (request) =>
      users.updateUser(authOf(request), pathOf<'updateUser'>(request).user_id, bodyOf<'updateUser'>(request)),
    async deleteUser(request, reply) {
      await users.deleteUser(authOf(request), pathOf<'deleteUser'>(request).user_id);
      return reply.code(204).send();
    },
  };
}
