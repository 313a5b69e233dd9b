import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { withErrorCode } from '../domain/oauth-redirect.ts';
import { OAUTH_STATE_TTL_SECONDS, type OAuthService } from '../services/oauth-service.ts';
import { clientInfo, sendTokens, setAuthCookies } from './auth-handlers.ts';
import { authOf, pathOf, queryOf, type HandlerGroup } from './handler-types.ts';

export const OAUTH_COOKIE = 'parley_oauth';
const OAUTH_COOKIE_PATH = '/api/v1/auth/oauth';

// An API client asks for the token response; a browser (text/html, any type) gets redirects.
const wantsJson = (request: FastifyRequest): boolean => /\bapplication\/json\b/i.test(request.headers.accept ?? '');
/** Where this request was sent (the callback URL's default base when OAUTH_CALLBACK_BASE_URL is unset). */
const originOf = (request: FastifyRequest): string => `${request.protocol}://${request.host}`;

export function createOAuthHandlers(deps: { oauth: OAuthService; config: Config }): HandlerGroup<
  'listOAuthProviders' | 'startOAuthLogin' | 'completeOAuthLogin' | 'listMyIdentities' | 'unlinkMyIdentity'
> {
  const { oauth, config } = deps;
  // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation, and the
  // cookie must come with it. HttpOnly and signed; it only binds the state to this browser.
  const cookieOptions = { httpOnly: true, secure: config.COOKIE_SECURE, sameSite: 'lax' as const, path: OAUTH_COOKIE_PATH };

  return {
    async listOAuthProviders() {
      return oauth.listProviders();
    },

    async startOAuthLogin(request, reply) {
      const { provider } = pathOf<'startOAuthLogin'>(request);
      const { redirect_to: redirectTo } = queryOf<'startOAuthLogin'>(request);
      const started = await oauth.start(provider, redirectTo, originOf(request));
      return reply
        .setCookie(OAUTH_COOKIE, started.cookie, { ...cookieOptions, maxAge: OAUTH_STATE_TTL_SECONDS })
        .header('cache-control', 'no-store')
        .redirect(started.location, 302);
    },

    async completeOAuthLogin(request, reply) {
      const { provider } = pathOf<'completeOAuthLogin'>(request);
      const query = queryOf<'completeOAuthLogin'>(request);
      const outcome = await oauth.complete(
        provider,
        { code: query.code, state: query.state, error: query.error },
        request.cookies[OAUTH_COOKIE],
        { ...clientInfo(request), origin: originOf(request) },
      );
      // Single use whatever happened: the pending login is gone, so is its cookie.
      reply.clearCookie(OAUTH_COOKIE, cookieOptions).header('cache-control', 'no-store');
      if (wantsJson(request)) {
        if (!outcome.ok) throw outcome.problem;
        return sendTokens(reply, config, 200, outcome.tokens);
      }
      if (!outcome.ok) return reply.redirect(withErrorCode(outcome.redirectTo, outcome.problem.code), 302);
      // Tokens only as cookies: a URL ends up in history, logs and Referer headers.
      return setAuthCookies(reply, config, outcome.tokens).redirect(outcome.redirectTo, 302);
    },

    async listMyIdentities(request) {
      return oauth.listIdentities(authOf(request));
    },

    async unlinkMyIdentity(request, reply) {
      const { provider } = pathOf<'unlinkMyIdentity'>(request);
      await oauth.unlink(authOf(request), provider);
      return reply.code(204).send();
    },
  };
}
