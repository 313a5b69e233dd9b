import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { ProblemError, unauthorized } from '../errors.ts';
import { toApiUser } from '../repositories/users-repository.ts';
import type { AuthService, ClientInfo, IssuedTokens } from '../services/auth-service.ts';
import { authOf, bodyOf, pathOf, type HandlerGroup } from './handler-types.ts';

export const ACCESS_COOKIE = 'parley_access';
export const REFRESH_COOKIE = 'parley_refresh';
const REFRESH_COOKIE_PATH = '/api/v1/auth';

export const clientInfo = (request: FastifyRequest): ClientInfo => ({
  userAgent: request.headers['user-agent'] ?? null,
  ip: request.ip ?? null,
});

/** The session's tokens as the HttpOnly auth cookies (password and OAuth login alike), never cached. */
export function setAuthCookies(reply: FastifyReply, config: Config, tokens: IssuedTokens): FastifyReply {
  const cookieOptions = { httpOnly: true, secure: config.COOKIE_SECURE, sameSite: 'strict' as const };
  return reply
    .setCookie(ACCESS_COOKIE, tokens.access_token, { ...cookieOptions, path: '/', maxAge: config.ACCESS_TOKEN_TTL_SECONDS })
    .setCookie(REFRESH_COOKIE, tokens.refresh_token, {
      ...cookieOptions,
      path: REFRESH_COOKIE_PATH,
      maxAge: config.REFRESH_TOKEN_TTL_SECONDS,
    })
    .header('cache-control', 'no-store');
}

/** The token response (openapi.yaml `TokenResponse`) with the auth cookies. */
export function sendTokens(reply: FastifyReply, config: Config, status: number, tokens: IssuedTokens) {
  setAuthCookies(reply, config, tokens);
  return reply.code(status).send({ ...tokens, user: toApiUser(tokens.user, 'full') });
}

export function createAuthHandlers(deps: { auth: AuthService; config: Config }): HandlerGroup<
  'registerUser' | 'loginUser' | 'refreshToken' | 'logoutUser' | 'listSessions' | 'revokeSession'
> {
  const { auth, config } = deps;

  return {
    async registerUser(request, reply) {
      const body = bodyOf<'registerUser'>(request);
      const user = await auth.createAccount(body);
      return sendTokens(reply, config, 201, await auth.startSession(user, clientInfo(request)));
    },

    async loginUser(request, reply) {
      // Per IP and per account (budgets `login`, `login_account`): src/plugins/rate-limit-plugin.ts.
      const body = bodyOf<'loginUser'>(request);
      return sendTokens(reply, config, 200, await auth.login(body.login, body.password, clientInfo(request)));
    },

    async refreshToken(request, reply) {
      const body = (request.body ?? {}) as { refresh_token?: string };
      const token = body.refresh_token ?? request.cookies[REFRESH_COOKIE];
      if (!token) throw unauthorized('No refresh token was given.');
      return sendTokens(reply, config, 200, await auth.refresh(token));
    },

    async logoutUser(request, reply) {
      await auth.logout(authOf(request));
      reply.clearCookie(ACCESS_COOKIE, { path: '/' }).clearCookie(REFRESH_COOKIE, { path: REFRESH_COOKIE_PATH });
      return reply.code(204).send();
    },

    async listSessions(request) {
      const caller = authOf(request);
      const sessions = await auth.listSessions(caller);
      return {
        items: sessions.map(({ user_id: _userId, ...session }) => ({ ...session, current: session.id === caller.sessionId })),
      };
    },

    async revokeSession(request, reply) {
      const { session_id: sessionId } = pathOf<'revokeSession'>(request);
      if (!(await auth.revokeSession(authOf(request), sessionId))) {
        throw new ProblemError('not_found', 'The session does not exist.');
      }
      return reply.code(204).send();
    },
  };
}
