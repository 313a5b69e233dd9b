/**
 * The OAuth buttons of /app in a real browser: a server configured with the local OAuth2 server
 * (test/helpers/oauth-server.ts) as its providers; headless Chromium clicks "Continue with GitHub",
 * goes through the provider and the callback, and the app signs in from the HttpOnly cookies.
 */
import { Events } from 'oauth2-mock-server';
import t from 'tap';
import { build } from '../helpers/build.ts';
import { startOAuthServer } from '../helpers/oauth-server.ts';
import { launch, open, shot } from '../helpers/webapp-page.ts';

// Functions passed to page.evaluate / waitForFunction run in the page (see webapp-page.ts).
declare const document: any;
declare const sessionStorage: any;

// One browser for the file (closed at its end); every test opens its own isolated context in it.
const browser = await launch(t);

t.test('"Continue with GitHub" signs a new user into /app through the provider', async (t) => {
  const provider = await startOAuthServer(t);
  const { OAUTH_GOOGLE_CLIENT_ID: _id, OAUTH_GOOGLE_CLIENT_SECRET: _secret, ...githubAndFacebook } = provider.config;
  const { baseUrl } = await build(t, githubAndFacebook);
  const login = `octo${Date.now().toString(36).slice(-5)}`;
  provider.profiles.github = { user: { id: 515151, login, name: null }, emails: [{ email: `${login}@example.com`, primary: true, verified: true }] };

  const user = await open(t, browser, baseUrl, 'octo');
  const { page } = user;
  const button = await page.waitForSelector('::-p-xpath(//a[normalize-space(.)="Continue with GitHub"])', { timeout: 15_000 });
  t.ok(button, 'a labelled GitHub button on the sign-in screen');
  const labels = await page.$$eval('.oauth a', (links) => links.map((link) => [link.textContent, link.getAttribute('href')]));
  t.same(labels, [
    ['Continue with GitHub', '/api/v1/auth/oauth/github?redirect_to=%2Fapp'],
    ['Continue with Facebook', '/api/v1/auth/oauth/facebook?redirect_to=%2Fapp'],
  ], 'one button per configured provider, in the server order (Google is not configured)');
  await shot(user, 'desktop-sign-in-oauth');

  // Through the provider and the callback (which sets the HttpOnly cookies) back to /app.
  await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0', timeout: 60_000 }), button!.click()]);
  t.equal(new URL(page.url()).pathname, '/app', 'back on /app');
  t.notMatch(page.url(), /token|eyJ/, 'no token in the address');
  await page.waitForSelector('textarea[aria-label=Message]', { timeout: 15_000 });
  t.equal(await page.$eval('.me-name', (node) => node.textContent), login, 'signed in as the new user (the GitHub login)');
  t.match(await page.$eval('#channel-title', (node) => node.textContent), /general/, 'a new account opens #general');

  // The refresh asked with no body and the SameSite=Strict cookie reached it (it answered 200).
  const refreshes = user.tab.requests.filter((url) => new URL(url).pathname === '/api/v1/auth/refresh');
  t.equal(refreshes.length, 1, 'one cookie refresh on return');
  t.equal(await page.evaluate(() => sessionStorage.getItem('parley.oauth-pending')), null, 'the pending mark is consumed');
  t.notOk(await page.evaluate(() => document.cookie.includes('parley_')), 'the auth cookies stay HttpOnly');
  t.same(user.errors(), [], 'no console errors');
});

t.test('consent denied at the provider: back on the sign-in screen with the reason, no refresh', async (t) => {
  const provider = await startOAuthServer(t);
  const { baseUrl } = await build(t, provider.config);
  provider.server.service.once(Events.BeforeAuthorizeRedirect, (redirect: { url: URL }) => {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'access_denied');
  });
  const user = await open(t, browser, baseUrl, 'shy');
  const { page } = user;
  const button = await page.waitForSelector('::-p-xpath(//a[normalize-space(.)="Continue with Google"])', { timeout: 15_000 });
  await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0', timeout: 60_000 }), button!.click()]);
  await page.waitForSelector('form [role=alert]', { timeout: 15_000 });
  t.equal(await page.$eval('form [role=alert]', (node) => node.textContent), 'Sign-in was cancelled at the provider.', 'the reason is shown');
  t.equal(new URL(page.url()).search, '', 'the ?error= is dropped from the address');
  t.notOk(user.tab.requests.some((url) => new URL(url).pathname === '/api/v1/auth/refresh'), 'no refresh after a failed login');
  t.equal(await page.evaluate(() => sessionStorage.getItem('parley.oauth-pending')), null, 'the pending mark is consumed');
  t.same(user.errors(), [], 'no console errors');
});

t.test('no provider configured: no buttons, and no refresh on start', async (t) => {
  const { baseUrl } = await build(t);
  const user = await open(t, browser, baseUrl, 'plain');
  await user.page.waitForSelector('form button[type=submit]');
  // open() waited for the network to be idle: the provider list has been answered by now.
  t.ok(user.tab.requests.some((url) => new URL(url).pathname === '/api/v1/auth/oauth'), 'the app asked for the providers');
  t.equal(await user.page.$$eval('.oauth a', (links) => links.length), 0, 'no OAuth button');
  t.notOk(user.tab.requests.some((url) => new URL(url).pathname === '/api/v1/auth/refresh'), 'a first visit asks no refresh');
  t.same(user.errors(), [], 'no console errors');
});
