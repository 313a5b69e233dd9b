import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.ts';
import { githubEmail, type GithubEmail, type ProviderProfile } from '../domain/oauth-account.ts';
import { ProblemError } from '../errors.ts';

/**
 * The three providers' protocol details: the authorization URL, the code exchange (with the PKCE
 * verifier) and the profile. Every HTTP call has the OAUTH_HTTP_TIMEOUT_MS deadline, and every
 * failure is a ProblemError (`oauth_provider_error`, `oauth_provider_timeout`,
 * `oauth_id_token_invalid`), never a 500.
 *
 * Plain fetch rather than @fastify/oauth2: that plugin registers its own start route outside
 * openapi.yaml, keeps its state in its own unsigned cookie without a nonce or a server-side
 * single-use check, and has no deadline on the exchange. The protocol itself is three requests.
 */
export type ProviderName = 'google' | 'github' | 'facebook';
export const providerNames: readonly ProviderName[] = ['google', 'github', 'facebook'];

export interface TokenSet {
  access_token: string;
  id_token?: string;
}

export interface OAuthProvider {
  name: ProviderName;
  clientId: string;
  authorizeUrl: string;
  scope: string;
  /** OpenID Connect: the authorization request carries a nonce, the id_token must echo it. */
  openIdConnect: boolean;
  exchangeCode(code: string, codeVerifier: string, redirectUri: string): Promise<TokenSet>;
  readProfile(tokens: TokenSet, nonce: string): Promise<ProviderProfile>;
}

interface HttpOptions {
  timeoutMs: number;
}

/** One JSON request to a provider, with the deadline; a non-2xx, a bad body or a network error is `oauth_provider_error`. */
async function providerJson(what: string, url: string, init: RequestInit, options: HttpOptions): Promise<unknown> {
  let response: Response;
  let text: string;
  try {
    // The signal also covers reading the body: a provider that stalls mid-body times out too.
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs) });
    text = await response.text();
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ProblemError('oauth_provider_timeout', `The provider did not answer the ${what} in time.`);
    }
    throw new ProblemError('oauth_provider_error', `The ${what} failed: the provider could not be reached.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProblemError('oauth_provider_error', `The ${what} failed: the provider answered ${response.status} without JSON.`);
  }
  const error = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: unknown }).error : undefined;
  if (!response.ok || error !== undefined) {
    // Provider error codes are short ASCII words (RFC 6749 §5.2); anything else is not repeated.
    const code = typeof error === 'string' && /^[\w.-]{1,64}$/.test(error) ? ` (${error})` : '';
    throw new ProblemError('oauth_provider_error', `The provider refused the ${what}: ${response.status}${code}.`);
  }
  return body;
}

function tokenSetOf(body: unknown): TokenSet {
  const tokens = body as Partial<Record<string, unknown>>;
  if (typeof tokens.access_token !== 'string' || tokens.access_token === '') {
    throw new ProblemError('oauth_provider_error', 'The provider answered the code exchange without an access token.');
  }
  return typeof tokens.id_token === 'string'
    ? { access_token: tokens.access_token, id_token: tokens.id_token }
    : { access_token: tokens.access_token };
}

function exchanger(tokenUrl: string, clientId: string, clientSecret: string, options: HttpOptions) {
  return async (code: string, codeVerifier: string, redirectUri: string): Promise<TokenSet> => {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      client_id: clientId,
      client_secret: clientSecret,
      code_verifier: codeVerifier,
    });
    const answer = await providerJson(
      'code exchange',
      tokenUrl,
      // GitHub answers form-encoded unless asked for JSON.
      { method: 'POST', body, headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' } },
      options,
    );
    return tokenSetOf(answer);
  };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);
const idOf = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : null;

function requireId(value: unknown): string {
  const id = idOf(value);
  if (id === null || id.length > 255) throw new ProblemError('oauth_provider_error', 'The provider profile has no usable account id.');
  return id;
}

function google(config: Config, options: HttpOptions, now: () => number): OAuthProvider | null {
  const clientId = config.OAUTH_GOOGLE_CLIENT_ID;
  const clientSecret = config.OAUTH_GOOGLE_CLIENT_SECRET;
  if (!clientId || !clientSecret) return null;
  // jose caches the key set and refetches it when a token names an unknown key (key rotation).
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(config.OAUTH_GOOGLE_JWKS_URL), { timeoutDuration: options.timeoutMs });
  return {
    name: 'google',
    clientId,
    authorizeUrl: config.OAUTH_GOOGLE_AUTHORIZE_URL,
    scope: 'openid email profile',
    openIdConnect: true,
    exchangeCode: exchanger(config.OAUTH_GOOGLE_TOKEN_URL, clientId, clientSecret, options),
    async readProfile(tokens, nonce) {
      if (!tokens.id_token) throw new ProblemError('oauth_id_token_invalid', 'The provider sent no id_token.');
      let claims: Record<string, unknown>;
      try {
        ({ payload: claims } = await jwtVerify(tokens.id_token, keys, {
          issuer: config.OAUTH_GOOGLE_ISSUER,
          audience: clientId,
          algorithms: ['RS256', 'ES256'],
          requiredClaims: ['sub', 'exp', 'iat'],
          currentDate: new Date(now()),
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWKSTimeout) {
          throw new ProblemError('oauth_provider_timeout', 'The provider did not send its signing keys in time.');
        }
        if (error instanceof joseErrors.JOSEError) {
          throw new ProblemError('oauth_id_token_invalid', `The id_token was refused: ${idTokenProblem(error)}.`);
        }
        throw new ProblemError('oauth_provider_error', 'The provider signing keys could not be read.');
      }
      if (claims.nonce !== nonce) throw new ProblemError('oauth_id_token_invalid', 'The id_token was refused: its nonce does not match.');
      // Google sends a boolean; older tokens carried the string "true".
      const verified = claims.email_verified === true || claims.email_verified === 'true';
      return { id: requireId(claims.sub), email: stringOrNull(claims.email), emailVerified: verified, name: stringOrNull(claims.name), login: null };
    },
  };
}

function idTokenProblem(error: InstanceType<typeof joseErrors.JOSEError>): string {
  if (error instanceof joseErrors.JWTExpired) return 'it has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `its ${error.claim} claim is wrong`;
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JWKSNoMatchingKey) {
    return 'its signature does not verify against the provider keys';
  }
  return 'it is malformed';
}

function github(config: Config, options: HttpOptions): OAuthProvider | null {
  const clientId = config.OAUTH_GITHUB_CLIENT_ID;
  const clientSecret = config.OAUTH_GITHUB_CLIENT_SECRET;
  if (!clientId || !clientSecret) return null;
  // GitHub's API refuses requests without a User-Agent.
  const apiHeaders = (token: string) => ({
    authorization: `Bearer ${token}`,
    accept: 'application/vnd.github+json',
    'user-agent': 'parley',
  });
  return {
    name: 'github',
    clientId,
    authorizeUrl: config.OAUTH_GITHUB_AUTHORIZE_URL,
    scope: 'read:user user:email',
    openIdConnect: false,
    exchangeCode: exchanger(config.OAUTH_GITHUB_TOKEN_URL, clientId, clientSecret, options),
    async readProfile(tokens) {
      const user = (await providerJson('profile request', config.OAUTH_GITHUB_USER_URL, { headers: apiHeaders(tokens.access_token) }, options)) as Record<string, unknown>;
      const emails = await providerJson('email request', config.OAUTH_GITHUB_EMAILS_URL, { headers: apiHeaders(tokens.access_token) }, options);
      const list: GithubEmail[] = Array.isArray(emails)
        ? emails
            .filter((entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && typeof entry.email === 'string')
            .map((entry) => ({ email: entry.email as string, primary: entry.primary === true, verified: entry.verified === true }))
        : [];
      const chosen = githubEmail(list);
      return {
        id: requireId(user.id),
        email: chosen?.email ?? null,
        emailVerified: chosen?.verified ?? false,
        name: stringOrNull(user.name),
        login: stringOrNull(user.login),
      };
    },
  };
}

function facebook(config: Config, options: HttpOptions): OAuthProvider | null {
  const clientId = config.OAUTH_FACEBOOK_CLIENT_ID;
  const clientSecret = config.OAUTH_FACEBOOK_CLIENT_SECRET;
  if (!clientId || !clientSecret) return null;
  return {
    name: 'facebook',
    clientId,
    authorizeUrl: config.OAUTH_FACEBOOK_AUTHORIZE_URL,
    scope: 'email public_profile',
    openIdConnect: false,
    exchangeCode: exchanger(config.OAUTH_FACEBOOK_TOKEN_URL, clientId, clientSecret, options),
    async readProfile(tokens) {
      const url = new URL(config.OAUTH_FACEBOOK_PROFILE_URL);
      url.searchParams.set('fields', 'id,name,email');
      // The token goes in the header, not the URL (URLs end up in logs).
      const me = (await providerJson('profile request', url.href, { headers: { authorization: `Bearer ${tokens.access_token}` } }, options)) as Record<string, unknown>;
      // Graph returns `email` only for a confirmed address, so it counts as verified.
      const email = stringOrNull(me.email);
      return { id: requireId(me.id), email, emailVerified: email !== null, name: stringOrNull(me.name), login: null };
    },
  };
}

/** The configured providers by name (a provider needs its client id and secret). */
export function configuredProviders(config: Config, now: () => number): Map<string, OAuthProvider> {
  const options = { timeoutMs: config.OAUTH_HTTP_TIMEOUT_MS };
  const providers = new Map<string, OAuthProvider>();
  for (const provider of [google(config, options, now), github(config, options), facebook(config, options)]) {
    if (provider) providers.set(provider.name, provider);
  }
  return providers;
}
