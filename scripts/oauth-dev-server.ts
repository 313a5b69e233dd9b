import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { Events, OAuth2Server } from 'oauth2-mock-server';

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
  config: Record<string, string>;
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

export async function startLocalOAuthServer(port = 0, host = '127.0.0.1'): Promise<LocalOAuthServer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(port, host);
  const issuer = server.issuer.url!;

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


// `npm run oauth:dev`: the same server for a local walk-through (README "OAuth login").
if (import.meta.main) {
  const port = Number(process.env.OAUTH_DEV_PORT ?? 9400);
  const local = await startLocalOAuthServer(port, '127.0.0.1');
  console.log(`Local OAuth2/OIDC server at ${local.issuer} playing Google, GitHub and Facebook.`);
  console.log('Start Parley with these variables (for example: export them, then npm start):\n');
  for (const [name, value] of Object.entries(local.config)) console.log(`export ${name}=${value}`);
  console.log('\nEvery login signs in as:', JSON.stringify(local.profiles));
  const stop = () => void local.server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
