import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Events, OAuth2Server } from 'oauth2-mock-server';
import type { Test } from 'tap';
import type { Config } from '../../src/config.ts';
import { contractViolations, headerViolations } from './contract.ts';

/**
 * A real OAuth2 / OpenID Connect server (oauth2-mock-server: RS256-signed JWTs, a JWKS endpoint,
 * PKCE S256 checked at the token endpoint) on a loopback port, configured as all three providers
 * at once: Google through its id_token, GitHub's `/user` + `/user/emails` and Facebook's Graph
 * `/me?fields=id,name,email` as extra routes that accept only access tokens this server issued.
 * Tests set who "signs in" at each provider through `profiles`.
 */
export const CLIENTS = {
  google: { id: 'google-client-id', secret: 'google-client-secret' },
  github: { id: 'github-client-id', secret: 'github-client-secret' },
  facebook: { id: 'facebook-client-id', secret: 'facebook-client-secret' },
} as const;

export interface GoogleProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}
export interface GithubProfile {
  user: { id: number; login: string; name: string | null; email?: string | null };
  emails: Array<{ email: string; primary: boolean; verified: boolean; visibility?: string | null }>;
}
export interface FacebookProfile {
  id: string;
  name?: string;
  email?: string;
}

export interface LocalOAuthServer {
  server: OAuth2Server;
  issuer: string;
  /** build() overrides that point all three providers at this server. */
  config: Partial<Config>;
  profiles: { google: GoogleProfile; github: GithubProfile; facebook: FacebookProfile };
  /** Changes the next Google id_token's claims (after the profile is applied), once. */
  tweakNextIdToken(change: (payload: Record<string, unknown>) => void): void;
  /** Rewrites the next Google token response (async: e.g. re-sign its id_token), once. */
  rewriteNextGoogleTokenResponse(change: (body: Record<string, unknown>) => Promise<void>): void;
  /** The `fields` query of the last Facebook `/me` request. */
  lastFacebookFields: string | null;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startOAuthServer(t: Test): Promise<LocalOAuthServer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  const issuer = server.issuer.url!;
  t.teardown(() => server.stop());

  const keys = createLocalJWKSet({ keys: server.issuer.keys.toJSON() as never });
  /** The provider APIs accept only a Bearer access token this server signed. */
  async function authorized(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    try {
      if (!match) throw new Error('no token');
      await jwtVerify(match[1]!, keys, { issuer });
      return true;
    } catch {
      sendJson(res, 401, { message: 'Bad credentials' });
      return false;
    }
  }

  const state: LocalOAuthServer = {
    server,
    issuer,
    config: {
      OAUTH_GOOGLE_CLIENT_ID: CLIENTS.google.id,
      OAUTH_GOOGLE_CLIENT_SECRET: CLIENTS.google.secret,
      OAUTH_GOOGLE_AUTHORIZE_URL: `${issuer}/authorize`,
      OAUTH_GOOGLE_TOKEN_URL: `${issuer}/google/token`,
      OAUTH_GOOGLE_JWKS_URL: `${issuer}/jwks`,
      OAUTH_GOOGLE_ISSUER: issuer,
      OAUTH_GITHUB_CLIENT_ID: CLIENTS.github.id,
      OAUTH_GITHUB_CLIENT_SECRET: CLIENTS.github.secret,
      OAUTH_GITHUB_AUTHORIZE_URL: `${issuer}/authorize`,
      OAUTH_GITHUB_TOKEN_URL: `${issuer}/token`,
      OAUTH_GITHUB_USER_URL: `${issuer}/github/user`,
      OAUTH_GITHUB_EMAILS_URL: `${issuer}/github/user/emails`,
      OAUTH_FACEBOOK_CLIENT_ID: CLIENTS.facebook.id,
      OAUTH_FACEBOOK_CLIENT_SECRET: CLIENTS.facebook.secret,
      OAUTH_FACEBOOK_AUTHORIZE_URL: `${issuer}/authorize`,
      OAUTH_FACEBOOK_TOKEN_URL: `${issuer}/token`,
      OAUTH_FACEBOOK_PROFILE_URL: `${issuer}/facebook/me`,
    },
    profiles: {
      google: { sub: 'google-1', email: 'g@example.com', email_verified: true, name: 'Grace Hopper' },
      github: { user: { id: 1, login: 'octocat', name: 'The Octocat' }, emails: [{ email: 'octo@example.com', primary: true, verified: true }] },
      facebook: { id: '1001', name: 'Mark Z', email: 'fb@example.com' },
    },
    tweakNextIdToken(change) {
      pendingTweak = change;
    },
    rewriteNextGoogleTokenResponse(change) {
      pendingRewrite = change;
    },
    lastFacebookFields: null,
  };
  let pendingRewrite: ((body: Record<string, unknown>) => Promise<void>) | null = null;
  let pendingTweak: ((payload: Record<string, unknown>) => void) | null = null;

  // The id_token is the token whose audience is the Google client (the access token has none).
  server.service.on(Events.BeforeTokenSigning, (token) => {
    if (token.payload.aud !== CLIENTS.google.id) return;
    Object.assign(token.payload, state.profiles.google);
    if (pendingTweak) {
      pendingTweak(token.payload);
      pendingTweak = null;
    }
  });

  // Google's token endpoint: the real one (PKCE checked there), its answer optionally rewritten
  // afterwards (the mock's own hooks are synchronous, signing is not).
  server.service.addRoute('POST', '/google/token', async (req, res) => {
    const form = new URLSearchParams((req as IncomingMessage & { body: Record<string, string> }).body);
    const upstream = await fetch(`${issuer}/token`, {
      method: 'POST',
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) },
    });
    const body = (await upstream.json()) as Record<string, unknown>;
    if (pendingRewrite && upstream.ok) {
      const change = pendingRewrite;
      pendingRewrite = null;
      await change(body);
    }
    sendJson(res, upstream.status, body);
  });

  server.service.addRoute('GET', '/github/user', async (req, res) => {
    if (await authorized(req, res)) sendJson(res, 200, state.profiles.github.user);
  });
  server.service.addRoute('GET', '/github/user/emails', async (req, res) => {
    if (await authorized(req, res)) sendJson(res, 200, state.profiles.github.emails);
  });
  server.service.addRoute('GET', '/facebook/me', async (req, res) => {
    if (!(await authorized(req, res))) return;
    state.lastFacebookFields = new URL(req.url ?? '/', issuer).searchParams.get('fields');
    const { id, name, email } = state.profiles.facebook;
    sendJson(res, 200, { id, ...(name ? { name } : {}), ...(email ? { email } : {}) });
  });
  return state;
}

interface Cookie {
  value: string;
  path: string;
}

export interface BrowserResult {
  /** The last response the browser received. */
  status: number;
  headers: Headers;
  body: any;
  /** Where the last redirect pointed (outside Parley's OAuth routes and the provider), if any. */
  landedAt: string | null;
  /** Every URL requested, in order. */
  visited: string[];
}

/**
 * A browser's view of the login: a cookie jar (name, value, path; one host, 127.0.0.1), and
 * redirects followed hop by hop while they stay on Parley's OAuth routes or the provider. Every
 * Parley response on the way is checked against openapi.yaml like the `api` helper does.
 */
export class Browser {
  readonly jar = new Map<string, Cookie>();
  readonly t: Test;
  readonly baseUrl: string;
  readonly providerOrigin: string;

  constructor(t: Test, baseUrl: string, providerOrigin: string) {
    this.t = t;
    this.baseUrl = baseUrl;
    this.providerOrigin = new URL(providerOrigin).origin;
  }

  cookieHeader(url: URL): string {
    return [...this.jar]
      .filter(([, cookie]) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.endsWith('/') ? cookie.path : `${cookie.path}/`))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  private store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue;
        if (key.toLowerCase() === 'max-age' && Number(attributeValue) <= 0) expired = true;
        if (key.toLowerCase() === 'expires' && Date.parse(attributeValue) <= Date.now()) expired = true;
      }
      if (expired) this.jar.delete(name);
      else this.jar.set(name, { value, path });
    }
  }

  /** One request, no redirect followed; Parley's responses are validated against openapi.yaml. */
  async request(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
    const target = new URL(url, this.baseUrl);
    const cookie = this.cookieHeader(target);
    const response = await fetch(target, {
      redirect: 'manual',
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8', ...headers, ...(cookie ? { cookie } : {}) },
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? undefined;
    const body = contentType?.includes('json') && text !== '' ? JSON.parse(text) : text === '' ? undefined : text;
    if (target.origin === new URL(this.baseUrl).origin) {
      const path = `${target.pathname}${target.search}`;
      const violations = [
        ...contractViolations('GET', path, response.status, contentType, body),
        ...headerViolations('GET', path, response.status, response.headers),
      ];
      if (violations.length > 0) this.t.fail(`response breaks openapi.yaml: ${violations.join('; ')}`, { body });
    }
    this.store(response.headers);
    return { status: response.status, headers: response.headers, body };
  }

  /**
   * Navigates to `url` and follows the redirects through the provider and back. `beforeProvider`
   * may rewrite the authorization URL (an attacker's changed PKCE challenge); `beforeCallback` the
   * callback URL (a forged state), or return null to stop there (to replay it later).
   */
  async navigate(
    url: string,
    options: {
      accept?: string;
      beforeProvider?: (url: URL) => void;
      beforeCallback?: (url: URL) => URL | null;
    } = {},
  ): Promise<BrowserResult & { stoppedAt?: string }> {
    const visited: string[] = [];
    let next = new URL(url, this.baseUrl);
    for (let hop = 0; hop < 10; hop += 1) {
      const onProvider = next.origin === this.providerOrigin;
      if (onProvider && options.beforeProvider) options.beforeProvider(next);
      if (!onProvider && next.pathname.endsWith('/callback') && options.beforeCallback) {
        const changed = options.beforeCallback(next);
        if (changed === null) return { status: 0, headers: new Headers(), body: undefined, landedAt: null, visited, stoppedAt: next.href };
        next = changed;
      }
      visited.push(next.href);
      const headers: Record<string, string> = options.accept && !onProvider ? { accept: options.accept } : {};
      const response = await this.request(next.href, headers);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { ...response, landedAt: null, visited };
      const target = new URL(location, next);
      const ours = target.origin === new URL(this.baseUrl).origin && target.pathname.startsWith('/api/v1/auth/oauth/');
      if (!ours && target.origin !== this.providerOrigin) {
        // Left the login: report where the browser would land, relative as Parley sent it.
        return { ...response, landedAt: location, visited };
      }
      next = target;
    }
    throw new Error(`too many redirects: ${visited.join(' -> ')}`);
  }
}
