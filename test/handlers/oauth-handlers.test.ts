import { generateKeyPair, SignJWT, decodeJwt as decodeJose } from 'jose';
import { Events } from 'oauth2-mock-server';
import t, { type Test } from 'tap';
import { adminOverrides, cookiesOf, loginAdmin, queryDatabase } from '../helpers/accounts.ts';
import { build, register, type TestApp } from '../helpers/build.ts';
import { Browser, startOAuthServer, type LocalOAuthServer } from '../helpers/oauth-server.ts';

// OAuth2 login against a real local OAuth2 / OpenID Connect server (test/helpers/oauth-server.ts)
// playing Google, GitHub and Facebook. The browser follows every redirect with a cookie jar;
// every Parley response is checked against openapi.yaml.

const APP_ORIGIN = 'https://app.example.com';
const start = (provider: string, redirectTo?: string) =>
  `/api/v1/auth/oauth/${provider}${redirectTo === undefined ? '' : `?redirect_to=${encodeURIComponent(redirectTo)}`}`;

let unique = 0;
const next = (prefix: string) => `${prefix}-${process.pid}-${(unique += 1)}`;

async function setup(t: Test, overrides: Parameters<typeof build>[1] = {}) {
  const provider = await startOAuthServer(t);
  let offsetMs = 0;
  const app = await build(
    t,
    { ...adminOverrides, ...provider.config, OAUTH_REDIRECT_ALLOWLIST: [APP_ORIGIN], OAUTH_DEFAULT_REDIRECT: '/', ...overrides },
    { clock: () => Date.now() + offsetMs },
  );
  return {
    provider,
    app,
    browser: () => new Browser(t, app.baseUrl, provider.issuer),
    moveClock: (ms: number) => (offsetMs += ms),
  };
}

/** The whole login in a fresh browser, answered as JSON at the callback (the token response or a problem). */
async function jsonLogin(ctx: { browser: () => Browser }, provider: string, options: Parameters<Browser['navigate']>[1] = {}) {
  return ctx.browser().navigate(start(provider), { accept: 'application/json', ...options });
}

async function identityRows(app: TestApp, provider: string, providerUserId: string) {
  return queryDatabase<{ user_id: string }>(app.databaseUrl, 'SELECT user_id::text FROM oauth_identities WHERE provider = $1 AND provider_user_id = $2', [
    provider,
    providerUserId,
  ]);
}

t.test('the start redirects to the provider with state, PKCE S256 and (OIDC) nonce, in a Lax HttpOnly cookie', async (t) => {
  const ctx = await setup(t);
  const browser = ctx.browser();
  const google = await browser.request(start('google', '/app'));
  t.equal(google.status, 302);
  const location = new URL(google.headers.get('location')!);
  t.equal(`${location.origin}${location.pathname}`, `${ctx.provider.issuer}/authorize`);
  t.equal(location.searchParams.get('client_id'), 'google-client-id');
  t.equal(location.searchParams.get('response_type'), 'code');
  t.equal(location.searchParams.get('redirect_uri'), `${ctx.app.baseUrl}/api/v1/auth/oauth/google/callback`, 'unset OAUTH_CALLBACK_BASE_URL: the origin asked');
  t.equal(location.searchParams.get('code_challenge_method'), 'S256');
  t.match(location.searchParams.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
  t.match(location.searchParams.get('state'), /^[A-Za-z0-9_-]{43}$/);
  t.match(location.searchParams.get('nonce'), /^[A-Za-z0-9_-]{32}$/);
  t.equal(location.searchParams.get('scope'), 'openid email profile');
  const cookie = cookiesOf({ status: 302, headers: google.headers, body: undefined, text: '' }).get('parley_oauth')!;
  t.ok(cookie, 'the state cookie is set');
  t.equal(cookie.attributes.get('httponly'), true);
  t.equal(cookie.attributes.get('samesite'), 'Lax');
  t.equal(cookie.attributes.get('path'), '/api/v1/auth/oauth');
  t.equal(cookie.attributes.get('max-age'), '600');
  t.notOk(cookie.value.includes(location.searchParams.get('code_challenge')!), 'the cookie holds no verifier material');

  const github = await browser.request(start('github'));
  const githubLocation = new URL(github.headers.get('location')!);
  t.equal(githubLocation.searchParams.get('nonce'), null, 'no nonce outside OpenID Connect');
  t.equal(githubLocation.searchParams.get('code_challenge_method'), 'S256');

  for (const name of ['twitter', 'facebook-ish']) {
    const unknown = await browser.request(start(name));
    t.equal(unknown.status, 404, name);
    t.equal(unknown.body.code, 'provider_not_configured');
  }
});

t.test('an unconfigured provider is a 404', async (t) => {
  const provider = await startOAuthServer(t);
  const { OAUTH_FACEBOOK_CLIENT_ID: _id, OAUTH_FACEBOOK_CLIENT_SECRET: _secret, ...withoutFacebook } = provider.config;
  const app = await build(t, withoutFacebook);
  const response = await app.api('GET', start('facebook'));
  t.equal(response.status, 404);
  t.equal(response.body.code, 'provider_not_configured');
  t.equal((await app.api('GET', '/api/v1/auth/oauth/facebook/callback?code=x&state=y')).status, 404, 'the callback too');
});

t.test('listOAuthProviders: only the configured providers, in a fixed order, public', async (t) => {
  const none = await build(t);
  const empty = await none.api('GET', '/api/v1/auth/oauth');
  t.equal(empty.status, 200);
  t.same(empty.body, { providers: [] }, 'none configured: an empty list');

  const provider = await startOAuthServer(t);
  const { OAUTH_GOOGLE_CLIENT_ID: _id, OAUTH_GOOGLE_CLIENT_SECRET: _secret, ...githubAndFacebook } = provider.config;
  // Configured facebook-first on purpose: the answer's order is fixed, not the configuration's.
  const { OAUTH_FACEBOOK_CLIENT_ID, OAUTH_FACEBOOK_CLIENT_SECRET, ...rest } = githubAndFacebook;
  const two = await build(t, { OAUTH_FACEBOOK_CLIENT_ID, OAUTH_FACEBOOK_CLIENT_SECRET, ...rest });
  const listed = await two.api('GET', '/api/v1/auth/oauth');
  t.equal(listed.status, 200);
  t.same(listed.body, {
    providers: [
      { name: 'github', authorize_url: '/api/v1/auth/oauth/github' },
      { name: 'facebook', authorize_url: '/api/v1/auth/oauth/facebook' },
    ],
  });
  const browser = new Browser(t, two.baseUrl, provider.issuer);
  for (const { authorize_url: url } of listed.body.providers as Array<{ authorize_url: string }>) {
    const started = await browser.request(url);
    t.equal(started.status, 302, `${url} starts a login`);
    t.ok(started.headers.get('location')!.startsWith(`${provider.issuer}/authorize?`), 'at the provider');
  }
});

t.test('a new account (GitHub shape), then the same identity signs in again', async (t) => {
  const ctx = await setup(t);
  const login = next('octo');
  ctx.provider.profiles.github = {
    user: { id: 424242, login, name: 'Octo Cat' },
    emails: [
      { email: `${login}-old@example.com`, primary: false, verified: true },
      { email: `${login}@example.com`, primary: true, verified: true },
    ],
  };
  const first = await jsonLogin(ctx, 'github');
  t.equal(first.status, 200, 'the token response');
  t.equal(first.body.token_type, 'Bearer');
  t.equal(first.body.user.username, login, 'the username comes from the GitHub login');
  t.equal(first.body.user.email, `${login}@example.com`, "GitHub's primary verified email");
  t.equal(first.body.user.display_name, 'Octo Cat');
  const [hash] = await queryDatabase<{ password_hash: string | null }>(ctx.app.databaseUrl, 'SELECT password_hash FROM users WHERE id = $1', [first.body.user.id]);
  t.equal(hash!.password_hash, null, 'an OAuth account has no password');

  const me = await ctx.app.api('GET', '/api/v1/users/@me', { token: first.body.access_token });
  t.equal(me.status, 200, 'the access token works like a password login');
  const channels = await ctx.app.api('GET', '/api/v1/users/@me/channels', { token: first.body.access_token });
  t.ok(channels.body.items.some((channel: { name: string }) => channel.name === 'general'), 'joined general like every new account');

  const again = await jsonLogin(ctx, 'github');
  t.equal(again.status, 200);
  t.equal(again.body.user.id, first.body.user.id, 'a returning identity signs into its account');
  t.not(again.body.refresh_token, first.body.refresh_token, 'a new session');
  const sessions = await ctx.app.api('GET', '/api/v1/auth/sessions', { token: again.body.access_token });
  t.equal(sessions.body.items.length, 2, 'two sessions, as two password logins would make');

  const identities = await ctx.app.api('GET', '/api/v1/users/@me/identities', { token: again.body.access_token });
  t.equal(identities.status, 200);
  t.same(identities.body.has_password, false);
  t.match(identities.body.items, [{ provider: 'github', provider_user_id: '424242', email: `${login}@example.com` }]);

  // Another GitHub user whose login is taken gets a suffixed username.
  ctx.provider.profiles.github = { user: { id: 434343, login, name: null }, emails: [{ email: `${login}-2@example.com`, primary: true, verified: true }] };
  const namesake = await jsonLogin(ctx, 'github');
  t.equal(namesake.status, 200);
  t.equal(namesake.body.user.username, `${login}_2`);
});

t.test('browser mode: tokens only in HttpOnly cookies, then to redirect_to; never in a URL', async (t) => {
  const ctx = await setup(t);
  ctx.provider.profiles.facebook = { id: next('fb'), name: 'Face Book', email: `${next('fb')}@example.com` };
  const browser = ctx.browser();
  const result = await browser.navigate(start('facebook', `${APP_ORIGIN}/after?tab=chat`));
  t.equal(result.status, 302);
  t.equal(result.landedAt, `${APP_ORIGIN}/after?tab=chat`, 'lands where redirect_to said, nothing added');
  t.equal(ctx.provider.lastFacebookFields, 'id,name,email', 'Graph /me asked for id,name,email');
  for (const url of [...result.visited, result.landedAt!]) {
    t.notMatch(url, /access_token|refresh_token|eyJ/, `no token in ${url.slice(0, 60)}`);
  }
  const cookies = cookiesOf({ status: 302, headers: result.headers, body: undefined, text: '' });
  t.equal(cookies.get('parley_access')?.attributes.get('httponly'), true);
  t.equal(cookies.get('parley_refresh')?.attributes.get('httponly'), true);
  t.equal(cookies.get('parley_oauth')?.attributes.get('max-age'), '0', 'the state cookie is cleared');
  t.equal(result.headers.get('cache-control'), 'no-store');
  const me = await ctx.app.api('GET', '/api/v1/users/@me', { headers: { cookie: `parley_access=${browser.jar.get('parley_access')!.value}` } });
  t.equal(me.status, 200, 'signed in by cookie');
  t.equal(me.body.email, ctx.provider.profiles.facebook.email);

  const byDefault = await ctx.browser().navigate(start('facebook'));
  t.equal(byDefault.landedAt, '/', 'without redirect_to: OAUTH_DEFAULT_REDIRECT');
});

t.test('linking by verified email; an unverified email is never linked', async (t) => {
  const ctx = await setup(t);
  const owner = await register(ctx.app.api);
  ctx.provider.profiles.google = { sub: next('g'), email: owner.user.email!.toUpperCase(), email_verified: true, name: 'Same Person' };
  const linked = await jsonLogin(ctx, 'google');
  t.equal(linked.status, 200);
  t.equal(linked.body.user.id, owner.user.id, 'a verified email links to the existing account');
  const identities = await ctx.app.api('GET', '/api/v1/users/@me/identities', { token: owner.token });
  t.match(identities.body, { has_password: true, items: [{ provider: 'google', provider_user_id: ctx.provider.profiles.google.sub }] });
  t.ok((await ctx.app.api('POST', '/api/v1/auth/login', { body: { login: owner.user.username, password: owner.password } })).status === 200, 'the password still works');

  // GitHub says the email is not verified: no link, and no second account with that email.
  const victim = await register(ctx.app.api);
  const githubId = 9_000_000 + unique;
  ctx.provider.profiles.github = { user: { id: githubId, login: next('attacker'), name: null }, emails: [{ email: victim.user.email!, primary: true, verified: false }] };
  const refused = await jsonLogin(ctx, 'github');
  t.equal(refused.status, 409);
  t.equal(refused.body.code, 'oauth_email_unverified');
  t.same(await identityRows(ctx.app, 'github', String(githubId)), [], 'nothing linked');
  const victimIdentities = await ctx.app.api('GET', '/api/v1/users/@me/identities', { token: victim.token });
  t.same(victimIdentities.body.items, []);

  // Unverified and nobody has it: a new account (never a link).
  const freshEmail = `${next('unverified')}@example.com`;
  ctx.provider.profiles.google = { sub: next('g'), email: freshEmail, email_verified: false, name: 'New Person' };
  const created = await jsonLogin(ctx, 'google');
  t.equal(created.status, 200);
  t.not(created.body.user.id, owner.user.id);
  t.equal(created.body.user.email, freshEmail);

  // An account already linked to one Google identity is not linked to a second one by email.
  ctx.provider.profiles.google = { sub: next('g'), email: owner.user.email!, email_verified: true };
  const second = await jsonLogin(ctx, 'google');
  t.equal(second.status, 409);
  t.equal(second.body.code, 'conflict');
});

t.test('no usable email: 422, nothing created', async (t) => {
  const ctx = await setup(t);
  const id = next('fb-noemail');
  ctx.provider.profiles.facebook = { id, name: 'No Mail' };
  const response = await jsonLogin(ctx, 'facebook');
  t.equal(response.status, 422);
  t.equal(response.body.code, 'oauth_email_missing');
  t.same(await identityRows(ctx.app, 'facebook', id), []);
  ctx.provider.profiles.github = { user: { id: 777, login: 'nomail', name: null }, emails: [] };
  const github = await ctx.browser().navigate(start('github'));
  t.equal(github.landedAt, '/?error=oauth_email_missing', 'browser mode: the code in the redirect');
});

t.test('state: missing, mismatched (login CSRF), reused and expired', async (t) => {
  const ctx = await setup(t);
  ctx.provider.profiles.github = { user: { id: 5150, login: next('state'), name: null }, emails: [{ email: `${next('state')}@example.com`, primary: true, verified: true }] };

  // The attacker's callback URL (their code and state) opened in the victim's browser.
  const attacker = ctx.browser();
  const stopped = await attacker.navigate(start('github'), { beforeCallback: () => null });
  const cookie = attacker.jar.get('parley_oauth')!;
  const victim = ctx.browser();
  await victim.request(start('github'));
  const mismatch = await victim.navigate(stopped.stoppedAt!, { accept: 'application/json' });
  t.equal(mismatch.status, 400);
  t.equal(mismatch.body.code, 'oauth_state_invalid');
  t.match(mismatch.body.detail, /does not match/);

  const noCookie = await ctx.browser().navigate(stopped.stoppedAt!, { accept: 'application/json' });
  t.equal(noCookie.status, 400);
  t.equal(noCookie.body.code, 'oauth_state_invalid');
  t.match(noCookie.body.detail, /cookie/);

  const noState = new URL(stopped.stoppedAt!);
  noState.searchParams.delete('state');
  const withoutState = await attacker.navigate(noState.href, { accept: 'application/json' });
  t.equal(withoutState.body.code, 'oauth_state_invalid');

  // A forged cookie (another signature) is not ours.
  const forged = ctx.browser();
  const state = new URL(stopped.stoppedAt!).searchParams.get('state')!;
  forged.jar.set('parley_oauth', { value: `${state}.AAAA`, path: '/api/v1/auth/oauth' });
  t.equal((await forged.navigate(stopped.stoppedAt!, { accept: 'application/json' })).body.code, 'oauth_state_invalid', 'a forged cookie');

  // The rightful browser completes it once; a replay of the same callback is refused.
  // (The callback without a state above cleared this browser's cookie, as every callback does.)
  attacker.jar.set('parley_oauth', cookie);
  const done = await attacker.navigate(stopped.stoppedAt!, { accept: 'application/json' });
  t.equal(done.status, 200, 'the rightful browser signs in');
  attacker.jar.set('parley_oauth', cookie);
  const replay = await attacker.navigate(stopped.stoppedAt!, { accept: 'application/json' });
  t.equal(replay.status, 400);
  t.equal(replay.body.code, 'oauth_state_invalid');
  t.match(replay.body.detail, /already completed/);

  // Expired: 10 minutes on the app clock between the start and the callback.
  const late = ctx.browser();
  const pending = await late.navigate(start('github', '/app'), { beforeCallback: () => null });
  ctx.moveClock(600_001);
  const expired = await late.navigate(pending.stoppedAt!);
  t.equal(expired.landedAt, '/app?error=oauth_state_invalid', 'browser mode: back to redirect_to with the code');
  ctx.moveClock(-600_001);
  const inTime = ctx.browser();
  const pendingInTime = await inTime.navigate(start('github'), { beforeCallback: () => null });
  ctx.moveClock(590_000);
  t.equal((await inTime.navigate(pendingInTime.stoppedAt!, { accept: 'application/json' })).status, 200, 'within 10 minutes it works');
  ctx.moveClock(-590_000);
});

t.test('a wrong PKCE verifier is refused by the provider', async (t) => {
  const ctx = await setup(t);
  const response = await jsonLogin(ctx, 'github', {
    // The code is bound to another challenge than the verifier Parley holds.
    beforeProvider: (url) => url.searchParams.set('code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'),
  });
  t.equal(response.status, 502);
  t.equal(response.body.code, 'oauth_provider_error');
  t.match(response.body.detail, /code exchange/);
});

t.test('the id_token: a forged signature, wrong audience, issuer, nonce or expiry is refused', async (t) => {
  const ctx = await setup(t);
  ctx.provider.profiles.google = { sub: next('g'), email: `${next('g')}@example.com`, email_verified: true };
  const cases: Array<[label: string, change: (payload: Record<string, unknown>) => void, detail: RegExp]> = [
    ['wrong audience', (payload) => (payload.aud = 'someone-else'), /aud/],
    ['wrong issuer', (payload) => (payload.iss = 'https://accounts.evil.example'), /iss/],
    ['wrong nonce', (payload) => (payload.nonce = 'replayed-nonce'), /nonce/],
    ['expired', (payload) => { payload.iat = Math.floor(Date.now() / 1000) - 7200; payload.exp = Math.floor(Date.now() / 1000) - 3600; }, /expired/],
  ];
  for (const [label, change, detail] of cases) {
    ctx.provider.tweakNextIdToken(change);
    const response = await jsonLogin(ctx, 'google');
    t.equal(response.status, 502, label);
    t.equal(response.body.code, 'oauth_id_token_invalid', label);
    t.match(response.body.detail, detail, label);
  }

  // Signed with another key under the provider's key id: the same claims, a forged signature.
  const forger = await generateKeyPair('RS256');
  ctx.provider.rewriteNextGoogleTokenResponse(async (body) => {
    const original = body.id_token as string;
    const { kid } = JSON.parse(Buffer.from(original.split('.')[0]!, 'base64url').toString()) as { kid: string };
    body.id_token = await new SignJWT(decodeJose(original)).setProtectedHeader({ alg: 'RS256', kid }).sign(forger.privateKey);
  });
  const forged = await jsonLogin(ctx, 'google');
  t.equal(forged.status, 502, 'forged signature');
  t.equal(forged.body.code, 'oauth_id_token_invalid');
  t.match(forged.body.detail, /signature/);

  const genuine = await jsonLogin(ctx, 'google', {
    // Google adds parameters of its own to the callback; they must not break it.
    beforeCallback: (url) => {
      for (const [name, value] of [['authuser', '0'], ['prompt', 'consent'], ['scope', 'openid email profile']]) url.searchParams.set(name!, value!);
      return url;
    },
  });
  t.equal(genuine.status, 200, 'an untouched id_token signs in (with extra callback parameters)');
  t.same(await identityRows(ctx.app, 'google', ctx.provider.profiles.google.sub).then((rows) => rows.length), 1, 'only the genuine login linked');
});

t.test('consent denied at the provider', async (t) => {
  const ctx = await setup(t);
  ctx.provider.server.service.once(Events.BeforeAuthorizeRedirect, (redirect: { url: URL }) => {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
    redirect.url.searchParams.set('error_description', 'The user denied your request');
  });
  const browser = await ctx.browser().navigate(start('github', `${APP_ORIGIN}/login`));
  t.equal(browser.landedAt, `${APP_ORIGIN}/login?error=oauth_access_denied`);
  t.notOk(cookiesOf({ status: 302, headers: browser.headers, body: undefined, text: '' }).has('parley_access'), 'no session');

  ctx.provider.server.service.once(Events.BeforeAuthorizeRedirect, (redirect: { url: URL }) => {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
  });
  const json = await jsonLogin(ctx, 'github');
  t.equal(json.status, 403);
  t.equal(json.body.code, 'oauth_access_denied');
});

t.test('open-redirect attempts are refused at the start', async (t) => {
  const ctx = await setup(t);
  for (const target of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'https://app.example.com.evil.example/', 'https://app.example.com@evil.example/', 'javascript:alert(1)']) {
    const response = await ctx.browser().request(start('github', target));
    t.equal(response.status, 400, target);
    t.equal(response.body.code, 'redirect_not_allowed', target);
    t.same(response.body.errors, [{ in: 'query', field: '/redirect_to', message: response.body.errors[0].message }]);
    t.notOk(response.headers.getSetCookie().some((line) => line.startsWith('parley_oauth=')), 'no login started');
  }
});

t.test('unlinking: never the last way to sign in; a first password needs no current one', async (t) => {
  const ctx = await setup(t);
  const login = next('solo');
  ctx.provider.profiles.github = { user: { id: 60606, login, name: null }, emails: [{ email: `${login}@example.com`, primary: true, verified: true }] };
  const signedIn = await jsonLogin(ctx, 'github');
  const token = signedIn.body.access_token as string;
  const last = await ctx.app.api('DELETE', '/api/v1/users/@me/identities/github', { token });
  t.equal(last.status, 409);
  t.equal(last.body.code, 'last_sign_in_method');
  t.equal((await ctx.app.api('DELETE', '/api/v1/users/@me/identities/google', { token })).status, 404, 'not linked: 404');
  t.equal((await ctx.app.api('DELETE', '/api/v1/users/@me/identities/github')).status, 401);

  const refusedLogin = await ctx.app.api('POST', '/api/v1/auth/login', { body: { login, password: 'Whatever-1x' } });
  t.equal(refusedLogin.status, 401, 'no password: a password login fails as a wrong password would');
  const setPassword = await ctx.app.api('PATCH', '/api/v1/users/@me', { token, body: { password: 'F1rst-password' } });
  t.equal(setPassword.status, 200, 'an OAuth account sets its first password without current_password');
  const relogin = await ctx.app.api('POST', '/api/v1/auth/login', { body: { login, password: 'F1rst-password' } });
  t.equal(relogin.status, 200);
  const newToken = relogin.body.access_token as string;
  const changeWithout = await ctx.app.api('PATCH', '/api/v1/users/@me', { token: newToken, body: { password: 'Sec0nd-password' } });
  t.equal(changeWithout.status, 400, 'from then on current_password is required');

  const unlinked = await ctx.app.api('DELETE', '/api/v1/users/@me/identities/github', { token: newToken });
  t.equal(unlinked.status, 204);
  t.same((await ctx.app.api('GET', '/api/v1/users/@me/identities', { token: newToken })).body, { items: [], has_password: true });
});

t.test('a deactivated account is refused, as in password login', async (t) => {
  const ctx = await setup(t);
  const admin = await loginAdmin(ctx.app.api);
  const login = next('inactive');
  ctx.provider.profiles.github = { user: { id: 80808, login, name: null }, emails: [{ email: `${login}@example.com`, primary: true, verified: true }] };
  const first = await jsonLogin(ctx, 'github');
  t.equal(first.status, 200);
  const deactivate = await ctx.app.api('PATCH', `/api/v1/users/${first.body.user.id}`, { token: admin.token, body: { active: false } });
  t.equal(deactivate.status, 200);
  const refused = await jsonLogin(ctx, 'github');
  t.equal(refused.status, 403);
  t.equal(refused.body.code, 'account_inactive');
  const browser = await ctx.browser().navigate(start('github'));
  t.equal(browser.landedAt, '/?error=account_inactive');

  // Linking by email to a deactivated account is refused too, and links nothing.
  const sub = next('g');
  ctx.provider.profiles.google = { sub, email: `${login}@example.com`, email_verified: true };
  t.equal((await jsonLogin(ctx, 'google')).body.code, 'account_inactive');
  t.same(await identityRows(ctx.app, 'google', sub), []);
});

t.test('a provider that does not answer in time: 504, and a failing profile request: 502', async (t) => {
  const provider = await startOAuthServer(t);
  const held: Array<import('node:http').ServerResponse> = [];
  // Answers only when the test ends: the exchange must give up on its own deadline.
  provider.server.service.addRoute('POST', '/slow-token', (_req, res) => {
    held.push(res);
  });
  t.teardown(() => {
    for (const res of held) res.destroy();
  });
  provider.server.service.addRoute('GET', '/broken-user', (_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"message":"Server Error"}');
  });
  const app = await build(t, {
    ...provider.config,
    OAUTH_HTTP_TIMEOUT_MS: 250,
    OAUTH_GITHUB_TOKEN_URL: `${provider.issuer}/slow-token`,
  });
  const slow = await new Browser(t, app.baseUrl, provider.issuer).navigate(start('github'), { accept: 'application/json' });
  t.equal(slow.status, 504);
  t.equal(slow.body.code, 'oauth_provider_timeout');
  t.equal(held.length, 1, 'the exchange did reach the provider');
  // The default timeout here: a busy machine may take more than 250 ms for a real exchange (it then
  // answered 504 before the broken profile request was ever made).
  const patient = await build(t, { ...provider.config, OAUTH_FACEBOOK_PROFILE_URL: `${provider.issuer}/broken-user` });
  const broken = await new Browser(t, patient.baseUrl, provider.issuer).navigate(start('facebook'), { accept: 'application/json' });
  t.equal(broken.status, 502);
  t.equal(broken.body.code, 'oauth_provider_error');
  t.match(broken.body.detail, /profile request.*500/);
});

t.test('OAuth endpoints are rate-limited per IP like login', async (t) => {
  const provider: LocalOAuthServer = await startOAuthServer(t);
  const app = await build(t, { ...provider.config, RATE_LIMITS: { oauth: { limit: 3, windowMs: 60_000 } } });
  const browser = new Browser(t, app.baseUrl, provider.issuer);
  const ok = await browser.navigate(start('github'), { accept: 'application/json' });
  t.equal(ok.status, 200, 'a full login spends two');
  t.equal(ok.headers.get('x-ratelimit-remaining'), '1');
  t.equal((await browser.request(start('github'))).status, 302);
  const refused = await browser.request(start('github'));
  t.equal(refused.status, 429);
  t.equal(refused.body.code, 'rate_limited');
  t.ok(Number(refused.headers.get('retry-after')) >= 1);
});
