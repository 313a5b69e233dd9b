/**
 * The REST calls the benchmark needs (registration, login, rooms, membership), through fetch.
 * Used for setup only; measured HTTP traffic goes through http-load.ts.
 */
export const BENCH_PASSWORD = 'Bench-pass-1';

export interface BenchUser {
  index: number;
  id: string;
  username: string;
  token: string;
}

async function call<T>(baseUrl: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep text
  }
  return { status: response.status, body: body as T };
}

async function expectStatus<T>(promise: Promise<{ status: number; body: T }>, statuses: number[], what: string): Promise<T> {
  const { status, body } = await promise;
  if (!statuses.includes(status)) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body).slice(0, 400)}`);
  return body;
}

interface TokenResponse {
  user: { id: string; username: string };
  access_token: string;
}

export const benchUsername = (index: number) => `bench_u${index}`;

/** Registers (or, when the account exists, logs in) users `from..to-1`, `concurrency` at a time. */
export async function mintUsers(baseUrl: string, from: number, to: number, concurrency = 8): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  let next = from;
  const worker = async () => {
    while (next < to) {
      const index = next++;
      const username = benchUsername(index);
      let { status, body } = await call<TokenResponse>(baseUrl, 'POST', '/api/v1/auth/register', {
        body: { username, email: `${username}@example.com`, password: BENCH_PASSWORD, display_name: `Bench ${index}` },
      });
      if (status === 409) ({ status, body } = await call<TokenResponse>(baseUrl, 'POST', '/api/v1/auth/login', { body: { login: username, password: BENCH_PASSWORD } }));
      if (status !== 201 && status !== 200) throw new Error(`register ${username}: HTTP ${status} ${JSON.stringify(body).slice(0, 300)}`);
      users.push({ index, id: body.user.id, username, token: body.access_token });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return users.sort((a, b) => a.index - b.index);
}

/** One login; returns the HTTP status (for the auth scenario, which times it). */
export async function login(baseUrl: string, loginName: string): Promise<number> {
  const { status } = await call(baseUrl, 'POST', '/api/v1/auth/login', { body: { login: loginName, password: BENCH_PASSWORD } });
  return status;
}

export async function createRoom(baseUrl: string, token: string, name: string, visibility: 'public' | 'private' = 'public'): Promise<string> {
  const channel = await expectStatus<{ id: string }>(
    call(baseUrl, 'POST', '/api/v1/channels', { token, body: { type: 'room', name, visibility } }),
    [201],
    `create room ${name}`,
  );
  return channel.id;
}

/** Adds `userId` to a room (a member adding someone, or a user joining a public room). */
export async function addMember(baseUrl: string, token: string, channelId: string, userId: string): Promise<void> {
  await expectStatus(call(baseUrl, 'PUT', `/api/v1/channels/${channelId}/members/${userId}`, { token }), [200, 201], `add member ${userId}`);
}

/** Runs `task` over `items`, `concurrency` at a time. */
export async function inBatches<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export async function getJson<T>(baseUrl: string, path: string, token?: string): Promise<T> {
  return expectStatus<T>(call<T>(baseUrl, 'GET', path, { token }), [200], `GET ${path}`);
}
