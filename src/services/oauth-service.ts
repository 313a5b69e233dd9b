import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { UniqueIntegrityConstraintViolationError, type DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import { configuredProviders, providerNames, type OAuthProvider } from '../auth/oauth-providers.ts';
import { decideAccount, displayNameFrom, usernameBase, usernameCandidates, type ProviderProfile } from '../domain/oauth-account.ts';
import { redirectTargetProblem } from '../domain/oauth-redirect.ts';
import { invalid, notFound, ProblemError } from '../errors.ts';
import * as oauth from '../repositories/oauth-repository.ts';
import * as users from '../repositories/users-repository.ts';
import type { UserRow } from '../repositories/users-repository.ts';
import type { AuthContext, AuthService, ClientInfo, IssuedTokens } from './auth-service.ts';

/** A pending login lives this long: long enough to sign in at the provider, short enough to be useless later. */
export const OAUTH_STATE_TTL_SECONDS = 600;

export interface OAuthStart {
  location: string;
  /** The signed state for the `parley_oauth` cookie. */
  cookie: string;
}

/** The callback's outcome; `redirectTo` is where a browser goes either way (tokens never in it). */
export type OAuthCompletion =
  | { ok: true; tokens: IssuedTokens; redirectTo: string }
  | { ok: false; problem: ProblemError; redirectTo: string };

export interface OAuthCallbackInput {
  code?: string | undefined;
  state?: string | undefined;
  error?: string | undefined;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
const random = (bytes: number): string => randomBytes(bytes).toString('base64url');

function sameText(a: string, b: string): boolean {
  const left = sha256(a);
  const right = sha256(b);
  return timingSafeEqual(left, right);
}

/**
 * OAuth2 login: start (state + PKCE S256 + nonce, server-side and bound to a signed cookie),
 * callback (state checks, code exchange, profile), then the account (returning identity, link by
 * verified email, or a new account) and a session issued by the auth service exactly as a
 * password login's.
 */
export function createOAuthService(deps: {
  db: DatabasePool;
  config: Config;
  auth: AuthService;
  /** Signs the state cookie (derived from the JWT secret by the caller). */
  cookieKey: string;
  /** Epoch ms: the state's 10 minutes and the id_token's expiry are read from it. */
  now?: () => number;
}) {
  const { db, config, auth } = deps;
  const now = deps.now ?? Date.now;
  const providers = configuredProviders(config, now);
  const cookieKey = createHmac('sha256', deps.cookieKey).update('parley oauth state cookie').digest();

  const sign = (state: string): string => `${state}.${createHmac('sha256', cookieKey).update(state).digest('base64url')}`;
  function unsign(cookie: string | undefined): string | null {
    if (!cookie) return null;
    const dot = cookie.lastIndexOf('.');
    if (dot <= 0) return null;
    const state = cookie.slice(0, dot);
    return sameText(sign(state), cookie) ? state : null;
  }

  function providerOf(name: string): OAuthProvider {
    const provider = providers.get(name);
    if (!provider) throw new ProblemError('provider_not_configured', `The OAuth provider "${name}" is not configured on this server.`);
    return provider;
  }

  /** The redirect URI registered with the provider: under OAUTH_CALLBACK_BASE_URL, else the origin the request came to. */
  const callbackUrl = (provider: string, requestOrigin: string): string =>
    new URL(`/api/v1/auth/oauth/${provider}/callback`, config.OAUTH_CALLBACK_BASE_URL ?? requestOrigin).href;

  async function start(providerName: string, redirectTo: string | undefined, requestOrigin: string): Promise<OAuthStart> {
    const provider = providerOf(providerName);
    const target = redirectTo ?? config.OAUTH_DEFAULT_REDIRECT;
    const problem = redirectTargetProblem(target, config.OAUTH_REDIRECT_ALLOWLIST);
    if (problem !== null) {
      throw new ProblemError('redirect_not_allowed', `That redirect_to is not allowed: it ${problem}.`, [{ in: 'query', field: '/redirect_to', message: problem }]);
    }
    const state = random(32);
    const codeVerifier = random(48);
    const nonce = random(24);
    const at = now();
    await oauth.insertLoginState(
      db,
      { stateHash: sha256(state), provider: provider.name, codeVerifier, nonce, redirectTo: target, expiresAtMs: at + OAUTH_STATE_TTL_SECONDS * 1000 },
      at,
    );
    const url = new URL(provider.authorizeUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', provider.clientId);
    url.searchParams.set('redirect_uri', callbackUrl(provider.name, requestOrigin));
    url.searchParams.set('scope', provider.scope);
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', createHash('sha256').update(codeVerifier).digest('base64url'));
    url.searchParams.set('code_challenge_method', 'S256');
    if (provider.openIdConnect) url.searchParams.set('nonce', nonce);
    return { location: url.href, cookie: sign(state) };
  }

  /** Checks the state against the cookie and consumes it: the pending login, or why not. */
  async function consumeState(providerName: string, input: OAuthCallbackInput, cookie: string | undefined) {
    const fromCookie = unsign(cookie);
    if (input.state === undefined) throw new ProblemError('oauth_state_invalid', 'The callback carries no state.');
    if (fromCookie === null) {
      throw new ProblemError('oauth_state_invalid', 'The login cookie is missing or not ours: start the login again in this browser.');
    }
    if (!sameText(fromCookie, input.state)) throw new ProblemError('oauth_state_invalid', 'The state does not match this browser\'s login.');
    const pending = await oauth.consumeLoginState(db, sha256(input.state));
    if (pending === null) throw new ProblemError('oauth_state_invalid', 'This login was already completed or is unknown: start again.');
    if (pending.provider !== providerName) throw new ProblemError('oauth_state_invalid', 'The state belongs to a login with another provider.');
    return pending;
  }

  async function resolveAccount(provider: OAuthProvider, profile: ProviderProfile): Promise<UserRow> {
    const email = profile.email !== null && profile.email.length <= 254 && profile.email.includes('@') ? profile.email : null;
    // A concurrent first login of the same identity (or a username taken meanwhile) loses the race
    // on a unique index: the second attempt then finds what the winner wrote.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await db.transaction(async (tx) => {
          const identityUserId = await oauth.findIdentityOwner(tx, provider.name, profile.id);
          const owner = email === null ? null : await oauth.findEmailOwner(tx, email, provider.name);
          const decision = decideAccount({
            identityUserId,
            emailOwner: owner ? { userId: owner.user_id, hasProviderIdentity: owner.has_provider_identity } : null,
            email,
            emailVerified: profile.emailVerified,
          });
          switch (decision.kind) {
            case 'refuse':
              throw refusal(decision.reason, provider.name);
            case 'sign_in':
            case 'link': {
              const user = await users.findUserById(tx, decision.userId);
              if (!user) throw new ProblemError('account_inactive', 'This account no longer exists.');
              if (!user.active) throw new ProblemError('account_inactive', 'This account is deactivated.');
              if (decision.kind === 'link') {
                await oauth.insertIdentity(tx, { provider: provider.name, providerUserId: profile.id, userId: user.id, email });
              }
              return user;
            }
            case 'create': {
              const base = usernameBase([profile.login, profile.name, email!.split('@')[0] ?? null]);
              const candidates = usernameCandidates(base, randomBytes(3).toString('hex'));
              const taken = await oauth.takenUsernames(tx, candidates);
              const username = candidates.find((name) => !taken.has(name.toLowerCase())) ?? candidates.at(-1)!;
              const displayName = displayNameFrom(profile.name, username);
              // No password: this account signs in through its provider until it sets one.
              const user = await users.insertUser(tx, {
                username,
                email: email!,
                display_name: displayName,
                phone_number: null,
                password_hash: null,
                role: 'client',
                active: true,
              });
              await oauth.insertIdentity(tx, { provider: provider.name, providerUserId: profile.id, userId: user.id, email });
              return user;
            }
          }
        });
      } catch (error) {
        if (error instanceof UniqueIntegrityConstraintViolationError && attempt < 3) continue;
        throw error;
      }
    }
  }

  return {
    start,

    /** The configured providers in the fixed order of providerNames (a client's sign-in buttons). */
    listProviders(): { providers: Array<{ name: string; authorize_url: string }> } {
      return {
        providers: providerNames
          .filter((name) => providers.has(name))
          .map((name) => ({ name, authorize_url: `/api/v1/auth/oauth/${name}` })),
      };
    },

    async complete(
      providerName: string,
      input: OAuthCallbackInput,
      cookie: string | undefined,
      client: ClientInfo & { origin: string },
    ): Promise<OAuthCompletion> {
      let redirectTo = config.OAUTH_DEFAULT_REDIRECT;
      try {
        const provider = providerOf(providerName);
        const pending = await consumeState(provider.name, input, cookie);
        redirectTo = pending.redirect_to;
        if (Date.parse(pending.expires_at) <= now()) {
          throw new ProblemError('oauth_state_invalid', 'This login expired (10 minutes): start again.');
        }
        if (input.error !== undefined) {
          throw input.error === 'access_denied'
            ? new ProblemError('oauth_access_denied', 'The sign-in was declined at the provider.')
            : new ProblemError('oauth_provider_error', 'The provider reported an error instead of a code.');
        }
        if (input.code === undefined) throw invalid('/code', 'is required', 'query');
        const tokens = await provider.exchangeCode(input.code, pending.code_verifier, callbackUrl(provider.name, client.origin));
        const profile = await provider.readProfile(tokens, pending.nonce);
        const user = await resolveAccount(provider, profile);
        return { ok: true, tokens: await auth.startSession(user, { userAgent: client.userAgent, ip: client.ip }), redirectTo };
      } catch (error) {
        if (error instanceof ProblemError) return { ok: false, problem: error, redirectTo };
        throw error;
      }
    },

    async listIdentities(caller: AuthContext) {
      const [items, hasPassword] = await Promise.all([oauth.listIdentities(db, caller.userId), oauth.hasPassword(db, caller.userId)]);
      return { items, has_password: hasPassword };
    },

    async unlink(caller: AuthContext, provider: string): Promise<void> {
      await db.transaction(async (tx) => {
        const methods = await oauth.lockSignInMethods(tx, caller.userId);
        if (!methods || !methods.providers.includes(provider)) throw notFound('identity');
        if (!methods.has_password && methods.providers.length === 1) {
          throw new ProblemError('last_sign_in_method', 'This is your only way to sign in: set a password or link another provider first.');
        }
        await oauth.deleteIdentity(tx, caller.userId, provider);
      });
    },
  };
}

function refusal(reason: 'email_unverified' | 'email_missing' | 'provider_already_linked', provider: string): ProblemError {
  switch (reason) {
    case 'email_missing':
      return new ProblemError('oauth_email_missing', `The ${provider} account has no usable email address.`);
    case 'email_unverified':
      return new ProblemError(
        'oauth_email_unverified',
        `An account already uses this email, and ${provider} has not verified it: sign in to that account another way.`,
      );
    case 'provider_already_linked':
      return new ProblemError('conflict', `The account with this email is already linked to another ${provider} account.`);
  }
}

export type OAuthService = ReturnType<typeof createOAuthService>;
