import t from 'tap';
import { MemoryTokenStore, ParleyApiError, ParleyClient, unwrap } from '../../clients/typescript/src/index.ts';
import { decodeJwt, signJwt } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { generalId } from '../helpers/chat.ts';
import { contractFetch, sdkClient } from '../helpers/sdk.ts';

/** An access token of the same session whose `exp` has passed (the server answers 401). */
function expiredCopy(token: string, secret: string): string {
  const { payload } = decodeJwt(token);
  const past = Math.floor(Date.now() / 1000) - 60;
  return signJwt({ ...payload, iat: past - 900, exp: past }, { secret });
}

t.test('concurrent 401s share one refresh; every request is retried with the new token', async (t) => {
  const { api, baseUrl, config } = await build(t);
  const user = await register(api);
  const counts = new Map<string, number>();
  const expired = expiredCopy(user.token, config.JWT_SECRET!);
  const client = sdkClient(t, baseUrl, user, counts, { accessToken: expired, refreshToken: user.refreshToken });
  const results = await Promise.all(Array.from({ length: 8 }, () => client.unwrap(client.rest.GET('/api/v1/users/@me'))));
  t.ok(results.every((me) => me.id === user.user.id), 'all 8 requests succeeded as the user');
  t.equal(counts.get('/api/v1/auth/refresh'), 1, 'one refresh request');
  t.equal(client.refreshCount, 1);
  t.equal(counts.get('/api/v1/users/@me'), 16, 'each request: the 401, then the retry');
  const stored = await client.tokens.get();
  t.not(stored?.refreshToken, user.refreshToken, 'the rotated refresh token was stored');
  t.not(stored?.accessToken, expired, 'and a new access token');

  // A body survives the retry (the first attempt consumed it).
  await client.tokens.set({ accessToken: expiredCopy(stored!.accessToken, config.JWT_SECRET!), refreshToken: stored!.refreshToken });
  const general = await generalId(api, user);
  const message = await client.unwrap(
    client.rest.POST('/api/v1/channels/{channel_id}/messages', { params: { path: { channel_id: general } }, body: { content: 'sent after a refresh' } }),
  );
  t.equal(message.content, 'sent after a refresh', 'the POST body was sent again');
  t.equal(counts.get('/api/v1/auth/refresh'), 2, 'one more refresh');
});

t.test('a refused refresh token clears the store and the call fails with a typed 401', async (t) => {
  const { api, baseUrl, config } = await build(t);
  const user = await register(api);
  const client = sdkClient(t, baseUrl, user, undefined, {
    accessToken: expiredCopy(user.token, config.JWT_SECRET!),
    refreshToken: 'not-a-refresh-token',
  });
  const error = await client.unwrap(client.rest.GET('/api/v1/users/@me')).catch((e: unknown) => e);
  t.ok(error instanceof ParleyApiError, 'a ParleyApiError');
  t.equal((error as ParleyApiError).status, 401);
  t.equal((error as ParleyApiError).code, 'unauthorized');
  t.equal(await client.tokens.get(), null, 'the tokens are forgotten');
});

t.test('problems are thrown as ParleyApiError with status, code and errors[]', async (t) => {
  const { api, baseUrl } = await build(t);
  const user = await register(api);
  const client = sdkClient(t, baseUrl, user);
  const general = await generalId(api, user);

  const invalid = await unwrap(
    client.rest.POST('/api/v1/channels/{channel_id}/messages', { params: { path: { channel_id: general } }, body: { content: '   ' } }),
  ).catch((e: unknown) => e);
  t.ok(invalid instanceof ParleyApiError);
  const problem = invalid as ParleyApiError;
  t.equal(problem.status, 400);
  t.equal(problem.code, 'validation_failed');
  t.same(problem.errors.map((e) => e.field), ['/content'], 'errors[] names the field');
  t.match(problem.message, /validation_failed/);

  const missing = await unwrap(client.rest.GET('/api/v1/channels/{channel_id}', { params: { path: { channel_id: '123456789' } } })).catch((e: unknown) => e);
  t.equal((missing as ParleyApiError).status, 404);
  t.equal((missing as ParleyApiError).code, 'not_found');

  // login/register through the client: a wrong password is invalid_credentials, never a refresh.
  const fresh = new ParleyClient({ baseUrl, fetch: contractFetch(t), tokenStore: new MemoryTokenStore() });
  const refused = await fresh.login(user.user.username, 'Wrong-passw0rd').catch((e: unknown) => e);
  t.equal((refused as ParleyApiError).code, 'invalid_credentials');
  const issued = await fresh.login(user.user.username, user.password);
  t.equal(issued.user.id, user.user.id);
  t.equal((await fresh.tokens.get())?.accessToken, issued.access_token, 'login stores the tokens');
  await fresh.logout();
  t.equal(await fresh.tokens.get(), null, 'logout forgets them');
});
