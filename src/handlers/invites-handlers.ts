import type { GuildsService } from '../services/guilds-service.ts';
import { authOf, pathOf, type HandlerGroup } from './handler-types.ts';

/** The `invites` tag: joining a guild by invite code. */
export function createInvitesHandlers(deps: { guilds: GuildsService }): HandlerGroup<'joinGuildByInvite'> {
  const { guilds } = deps;
  return {
    async joinGuildByInvite(request) {
      const { guild } = await guilds.joinGuildByInvite(authOf(request), pathOf<'joinGuildByInvite'>(request).code);
      return guild;
    },
  };
}
