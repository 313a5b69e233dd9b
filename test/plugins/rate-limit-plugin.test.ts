// Every budget of the rate-limit table over real HTTP: N requests pass with X-RateLimit-* headers,
// request N+1 is 429 problem+json with Retry-After and does nothing, another user (or account)
// is not limited, and the window resets when the injected clock moves (no sleeping).
import type { Test } from 'tap';
import t from 'tap';
import { defaultBudgets, type BudgetName } from '../../src/domain/rate-limit-budgets.ts';
import { adminOverrides, login, loginAdmin, queryDatabase } from '../helpers/accounts.ts';
import { build, newAccount, register, type ApiClient, type ApiResponse, type Registered } from '../helpers/build.ts';
import { createRoom, generalId, send, type Message } from '../helpers/chat.ts';
import { createGuild } from '../helpers/guilds.ts';

const LIMIT = 2;
const WINDOW_MS = 30_000;

interface Family {
  /** The budget under test, lowered to LIMIT per WINDOW_MS; every other budget stays generous. */
  budget: BudgetName;
  /**
   * Prepares one actor and returns `call(index)`, a request that succeeds while the budget lasts,
   * and `unaffected()`, the same request by someone with a budget of their own (none for IP budgets:
   * every test request comes from 127.0.0.1).
   */
  /** The status of `call` while the budget lasts, when it is not a 2xx. */
  passStatus?: number;
  prepare(api: ApiClient, databaseUrl: string): Promise<{
    call(index: number): Promise<ApiResponse>;
    unaffected?: () => Promise<ApiResponse>;
    /** What the refused request would have changed, read before and after it. */
    sideEffect?: () => Promise<unknown>;
  }>;
}

const CHANNELS = '/api/v1/channels';
const count = (databaseUrl: string, table: string) => async () =>
  (await queryDatabase<{ n: number }>(databaseUrl, `SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

async function roomWithMember(api: ApiClient) {
  const owner = await register(api);
  const member = await register(api);
  const room = await createRoom(api, owner);
  await api('PUT', `${CHANNELS}/${room.id}/members/${member.user.id}`, { token: owner.token });
  return { owner, member, room };
}

const families: Family[] = [
  {
    // No provider is configured here: 404 while the budget lasts. The budget is spent before the
    // handler runs, so probing for providers is limited like a login.
    budget: 'oauth',
    passStatus: 404,
    async prepare(api) {
      return { call: (index) => api('GET', `/api/v1/auth/oauth/${index % 2 === 0 ? 'github' : 'google'}`) };
    },
  },
  {
    budget: 'register',
    async prepare(api, databaseUrl) {
      return {
        call: () => api('POST', '/api/v1/auth/register', { body: newAccount() }),
        sideEffect: count(databaseUrl, 'users'),
      };
    },
  },
  {
    budget: 'login',
    async prepare(api) {
      const users = [await register(api), await register(api), await register(api), await register(api)];
      return {
        call: (index) => api('POST', '/api/v1/auth/login', { body: { login: users[index % 4]!.user.username, password: users[index % 4]!.password } }),
      };
    },
  },
  {
    budget: 'login_account',
    async prepare(api, databaseUrl) {
      const [victim, other] = [await register(api), await register(api)];
      return {
        // Username and email are one account, one budget.
        call: (index) =>
          api('POST', '/api/v1/auth/login', {
            body: { login: index % 2 === 0 ? victim.user.username : victim.user.email!, password: victim.password },
          }),
        unaffected: () => api('POST', '/api/v1/auth/login', { body: { login: other.user.username, password: other.password } }),
        sideEffect: count(databaseUrl, 'sessions'),
      };
    },
  },
  {
    budget: 'token_refresh',
    async prepare(api, databaseUrl) {
      let token = (await register(api)).refreshToken;
      return {
        async call() {
          const response = await api('POST', '/api/v1/auth/refresh', { body: { refresh_token: token } });
          if (response.status === 200) token = response.body.refresh_token;
          return response;
        },
        sideEffect: count(databaseUrl, 'refresh_tokens WHERE used_at IS NOT NULL'),
      };
    },
  },
  {
    budget: 'sessions',
    async prepare(api, databaseUrl) {
      const user = await register(api);
      const other = await register(api);
      const sessions = await Promise.all(Array.from({ length: 4 }, () => login(api, user.user.username, user.password)));
      return {
        call: (index) => api('POST', '/api/v1/auth/logout', { token: sessions[index]!.token }),
        unaffected: () => api('POST', '/api/v1/auth/logout', { token: other.token }),
        sideEffect: count(databaseUrl, 'sessions WHERE revoked_at IS NOT NULL'),
      };
    },
  },
  {
    budget: 'profile',
    async prepare(api, databaseUrl) {
      const [user, other] = [await register(api), await register(api)];
      return {
        call: (index) => api('PATCH', '/api/v1/users/@me', { token: user.token, body: { display_name: `Name ${index}` } }),
        unaffected: () => api('PATCH', '/api/v1/users/@me', { token: other.token, body: { display_name: 'Other' } }),
        sideEffect: async () => (await queryDatabase(databaseUrl, 'SELECT display_name FROM users WHERE id = $1', [user.user.id]))[0],
      };
    },
  },
  {
    budget: 'user_admin',
    async prepare(api, databaseUrl) {
      const admin = await loginAdmin(api);
      return {
        call: () => api('POST', '/api/v1/users', { token: admin.token, body: { ...newAccount('made'), role: 'client' } }),
        sideEffect: count(databaseUrl, 'users'),
      };
    },
  },
  {
    budget: 'message_send',
    async prepare(api, databaseUrl) {
      const { owner, member, room } = await roomWithMember(api);
      return {
        call: (index) => api('POST', `${CHANNELS}/${room.id}/messages`, { token: member.token, body: { content: `hello ${index}` } }),
        unaffected: () => api('POST', `${CHANNELS}/${room.id}/messages`, { token: owner.token, body: { content: 'mine' } }),
        sideEffect: count(databaseUrl, 'messages'),
      };
    },
  },
  {
    budget: 'message_send_total',
    async prepare(api, databaseUrl) {
      const user = await register(api);
      const other = await register(api);
      // A new channel each time: the per-channel budget is not what refuses.
      const rooms = await Promise.all([0, 1, 2, 3].map((index) => createRoom(api, user, { name: `room-${index}` })));
      const general = await generalId(api, other);
      return {
        call: (index) => api('POST', `${CHANNELS}/${rooms[index % 4]!.id}/messages`, { token: user.token, body: { content: 'hi' } }),
        unaffected: () => api('POST', `${CHANNELS}/${general}/messages`, { token: other.token, body: { content: 'hi' } }),
        sideEffect: count(databaseUrl, 'messages'),
      };
    },
  },
  {
    budget: 'message_edit',
    async prepare(api, databaseUrl) {
      const { owner, member, room } = await roomWithMember(api);
      const mine = await send(api, member, room.id, 'draft');
      const theirs = await send(api, owner, room.id, 'theirs');
      return {
        call: (index) => api('PATCH', `${CHANNELS}/${room.id}/messages/${mine.id}`, { token: member.token, body: { content: `edit ${index}` } }),
        unaffected: () => api('PATCH', `${CHANNELS}/${room.id}/messages/${theirs.id}`, { token: owner.token, body: { content: 'edited' } }),
        sideEffect: async () => (await queryDatabase(databaseUrl, 'SELECT content FROM messages WHERE id = $1', [mine.id]))[0],
      };
    },
  },
  {
    budget: 'message_delete',
    async prepare(api, databaseUrl) {
      const { owner, member, room } = await roomWithMember(api);
      const mine: Message[] = [];
      for (let index = 0; index < 4; index += 1) mine.push(await send(api, member, room.id, `m${index}`));
      const theirs = await send(api, owner, room.id, 'theirs');
      return {
        call: (index) => api('DELETE', `${CHANNELS}/${room.id}/messages/${mine[index]!.id}`, { token: member.token }),
        unaffected: () => api('DELETE', `${CHANNELS}/${room.id}/messages/${theirs.id}`, { token: owner.token }),
        sideEffect: count(databaseUrl, 'messages WHERE deleted_at IS NULL'),
      };
    },
  },
  {
    budget: 'typing',
    async prepare(api) {
      const { owner, member, room } = await roomWithMember(api);
      return {
        call: () => api('POST', `${CHANNELS}/${room.id}/typing`, { token: member.token }),
        unaffected: () => api('POST', `${CHANNELS}/${room.id}/typing`, { token: owner.token }),
      };
    },
  },
  {
    budget: 'read_state',
    async prepare(api) {
      const { owner, member, room } = await roomWithMember(api);
      const message = await send(api, owner, room.id, 'read me');
      return {
        call: () => api('POST', `${CHANNELS}/${room.id}/read`, { token: member.token, body: { message_id: message.id } }),
        unaffected: () => api('POST', `${CHANNELS}/${room.id}/read`, { token: owner.token, body: { message_id: message.id } }),
      };
    },
  },
  {
    budget: 'search',
    async prepare(api) {
      const [user, other] = [await register(api), await register(api)];
      return {
        call: () => api('GET', '/api/v1/messages/search?q=hello', { token: user.token }),
        unaffected: () => api('GET', '/api/v1/messages/search?q=hello', { token: other.token }),
      };
    },
  },
  {
    budget: 'channel_create',
    async prepare(api, databaseUrl) {
      const [user, other] = [await register(api), await register(api)];
      return {
        call: (index) => api('POST', CHANNELS, { token: user.token, body: { type: 'room', name: `room-${index}`, visibility: 'public' } }),
        unaffected: () => api('POST', CHANNELS, { token: other.token, body: { type: 'room', name: 'other', visibility: 'public' } }),
        sideEffect: count(databaseUrl, 'channels'),
      };
    },
  },
  {
    budget: 'guild_create',
    async prepare(api, databaseUrl) {
      const [user, other] = [await register(api), await register(api)];
      return {
        call: (index) => api('POST', '/api/v1/guilds', { token: user.token, body: { name: `Guild ${index}` } }),
        unaffected: () => api('POST', '/api/v1/guilds', { token: other.token, body: { name: 'Other' } }),
        sideEffect: count(databaseUrl, 'guilds'),
      };
    },
  },
  {
    budget: 'invite_create',
    async prepare(api, databaseUrl) {
      const { owner, guild } = await createGuild(api);
      const { owner: otherOwner, guild: otherGuild } = await createGuild(api);
      return {
        call: () => api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token }),
        unaffected: () => api('POST', `/api/v1/guilds/${otherGuild.id}/invites`, { token: otherOwner.token }),
        sideEffect: count(databaseUrl, 'guild_invites'),
      };
    },
  },
  {
    budget: 'invite_use',
    async prepare(api, databaseUrl) {
      const { owner, guild } = await createGuild(api);
      const code = (await api('POST', `/api/v1/guilds/${guild.id}/invites`, { token: owner.token })).body.code as string;
      const joiners = await Promise.all([0, 1, 2, 3].map(() => register(api)));
      return {
        call: (index) => api('POST', `/api/v1/invites/${code}`, { token: joiners[index]!.token }),
        sideEffect: count(databaseUrl, 'guild_members'),
      };
    },
  },
  {
    budget: 'membership',
    async prepare(api, databaseUrl) {
      const owner = await register(api);
      const [user, other] = [await register(api), await register(api)];
      const room = await createRoom(api, owner, { visibility: 'public' });
      return {
        // Join, leave, join, ...: a user may add themself to a public room and remove themself.
        call: (index) =>
          api(index % 2 === 0 ? 'PUT' : 'DELETE', `${CHANNELS}/${room.id}/members/${user.user.id}`, { token: user.token }),
        unaffected: () => api('PUT', `${CHANNELS}/${room.id}/members/${other.user.id}`, { token: other.token }),
        sideEffect: count(databaseUrl, 'channel_members'),
      };
    },
  },
  {
    budget: 'settings',
    async prepare(api, databaseUrl) {
      const [user, other] = [await register(api), await register(api)];
      const room = await createRoom(api, user);
      const otherRoom = await createRoom(api, other);
      return {
        call: (index) => api('PATCH', `${CHANNELS}/${room.id}`, { token: user.token, body: { name: `renamed-${index}` } }),
        unaffected: () => api('PATCH', `${CHANNELS}/${otherRoom.id}`, { token: other.token, body: { name: 'other-renamed' } }),
        sideEffect: async () => (await queryDatabase(databaseUrl, 'SELECT name FROM channels WHERE id = $1', [room.id]))[0],
      };
    },
  },
];

const expectSuccess = (t: Test, response: ApiResponse, what: string, passStatus?: number) =>
  passStatus === undefined
    ? t.ok(response.status >= 200 && response.status < 300, `${what}: ${response.status} ${response.status >= 300 ? response.text : ''}`)
    : t.equal(response.status, passStatus, `${what}: ${response.status}`);

for (const family of families) {
  t.test(`${family.budget}: ${LIMIT} pass with X-RateLimit-*, then 429 with Retry-After until the window resets`, async (t) => {
    let now = 1_000_000;
    const { api, databaseUrl } = await build(
      t,
      { ...adminOverrides, RATE_LIMITS: { [family.budget]: { limit: LIMIT, windowMs: WINDOW_MS } } },
      { clock: () => now },
    );
    const { call, unaffected, sideEffect } = await family.prepare(api, databaseUrl);

    for (let index = 0; index < LIMIT; index += 1) {
      const response = await call(index);
      expectSuccess(t, response, `request ${index + 1}`, family.passStatus);
      t.equal(response.headers.get('x-ratelimit-limit'), String(LIMIT), 'X-RateLimit-Limit');
      t.equal(response.headers.get('x-ratelimit-remaining'), String(LIMIT - index - 1), 'X-RateLimit-Remaining');
      t.equal(response.headers.get('x-ratelimit-reset'), String(WINDOW_MS / 1000), 'X-RateLimit-Reset: seconds until the window resets');
      t.equal(response.headers.get('retry-after'), null, 'no Retry-After on a success');
    }

    now += 10_000;
    const before = await sideEffect?.();
    const limited = await call(LIMIT);
    t.equal(limited.status, 429, `request ${LIMIT + 1} is refused`);
    t.match(limited.headers.get('content-type'), /^application\/problem\+json/);
    t.match(limited.body, { status: 429, code: 'rate_limited', type: 'https://parley.dev/problems/rate_limited' });
    t.match(limited.body.detail, new RegExp(`^Rate limit ${family.budget} \\(${LIMIT} per ${WINDOW_MS / 1000} s\\) exceeded; retry in 20 s\\.$`));
    t.equal(limited.headers.get('retry-after'), '20', 'Retry-After: seconds until the window resets');
    t.equal(limited.headers.get('x-ratelimit-limit'), String(LIMIT));
    t.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    t.equal(limited.headers.get('x-ratelimit-reset'), '20');
    if (sideEffect) t.same(await sideEffect(), before, 'the refused request changed nothing');
    t.equal((await call(LIMIT)).status, 429, 'still refused within the window');

    if (unaffected) expectSuccess(t, await unaffected(), 'someone else is not limited', family.passStatus);

    now += WINDOW_MS; // past the window
    const again = await call(LIMIT);
    expectSuccess(t, again, 'a new window', family.passStatus);
    t.equal(again.headers.get('x-ratelimit-remaining'), String(LIMIT - 1), 'a fresh count');
  });
}

t.test('every budget an operation spends has a family above', async (t) => {
  t.same(
    Object.keys(defaultBudgets).filter((name) => name !== 'presence' && !families.some((family) => family.budget === name)),
    [],
    'presence is a gateway-only budget (test/gateway/rate-limits.test.ts)',
  );
});

t.test('an operation spending two budgets reports the one with the fewest requests left', async (t) => {
  const { api } = await build(t, {
    RATE_LIMITS: { message_send: { limit: 3, windowMs: 5000 }, message_send_total: { limit: 10, windowMs: 10_000 } },
  });
  const user: Registered = await register(api);
  const rooms = [await createRoom(api, user, { name: 'a' }), await createRoom(api, user, { name: 'b' })];
  const sendTo = (room: { id: string }) => api('POST', `${CHANNELS}/${room.id}/messages`, { token: user.token, body: { content: 'x' } });
  const first = await sendTo(rooms[0]!);
  t.equal(first.headers.get('x-ratelimit-limit'), '3', 'the per-channel budget is the tighter one');
  t.equal(first.headers.get('x-ratelimit-remaining'), '2');
  for (let index = 0; index < 8; index += 1) await sendTo(rooms[1]!);
  const later = await sendTo(rooms[0]!);
  t.equal(later.status, 201, 'channel a still has room, and so has the total (just)');
  t.equal(later.headers.get('x-ratelimit-limit'), '10', 'now the total is the tighter one');
  t.equal(later.headers.get('x-ratelimit-remaining'), '0', '2 in a, 8 in b (5 of them refused, but counted)');
  const refused = await sendTo(rooms[0]!);
  t.equal(refused.status, 429);
  t.equal(refused.headers.get('x-ratelimit-limit'), '10', 'refused by the total, although channel a has room');
});

t.test('operations outside the table answer without X-RateLimit-* headers', async (t) => {
  const { api } = await build(t);
  const user = await register(api);
  for (const url of ['/api/v1/users/@me', '/api/v1/channels', '/health/live']) {
    const response = await api('GET', url, { token: user.token });
    t.equal(response.status, 200, url);
    t.equal(response.headers.get('x-ratelimit-limit'), null, `${url}: no X-RateLimit-Limit`);
  }
});
