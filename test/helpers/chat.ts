import { queryDatabase } from './accounts.ts';
import { register, type ApiClient, type Registered } from './build.ts';

/** Chat test helpers: each step asserts its own status so that a broken setup fails loudly. */
export async function expectStatus(response: Promise<{ status: number; text: string; body: any }>, statuses: number[], what: string) {
  const result = await response;
  if (!statuses.includes(result.status)) throw new Error(`${what}: expected ${statuses.join('/')}, got ${result.status} ${result.text}`);
  return result.body;
}

export interface Room {
  id: string;
  name: string;
  owner_id: string | null;
  visibility: 'public' | 'private';
  updated_at: string;
  [key: string]: unknown;
}

export function createRoom(
  api: ApiClient,
  owner: Registered,
  options: { name?: string; visibility?: 'public' | 'private'; description?: string } = {},
): Promise<Room> {
  const body = {
    type: 'room',
    name: options.name ?? 'book-club',
    visibility: options.visibility ?? 'public',
    ...(options.description !== undefined ? { description: options.description } : {}),
  };
  return expectStatus(api('POST', '/api/v1/channels', { token: owner.token, body }), [201], 'create room');
}

export function openDm(api: ApiClient, from: Registered, to: Registered): Promise<{ id: string; [key: string]: unknown }> {
  return expectStatus(
    api('POST', '/api/v1/channels', { token: from.token, body: { type: 'dm', recipient_id: to.user.id } }),
    [200, 201],
    'open DM',
  );
}

export async function join(api: ApiClient, channelId: string, user: Registered, by: Registered = user): Promise<void> {
  await expectStatus(api('PUT', `/api/v1/channels/${channelId}/members/${user.user.id}`, { token: by.token }), [200], 'add member');
}

export async function leave(api: ApiClient, channelId: string, user: Registered, by: Registered = user): Promise<void> {
  await expectStatus(api('DELETE', `/api/v1/channels/${channelId}/members/${user.user.id}`, { token: by.token }), [204], 'remove member');
}

export interface Message {
  id: string;
  channel_id: string;
  content: string;
  author: { id: string };
  [key: string]: unknown;
}

export function send(
  api: ApiClient,
  author: Registered,
  channelId: string,
  content: string,
  extra: { nonce?: string; reply_to_id?: string } = {},
): Promise<Message> {
  return expectStatus(
    api('POST', `/api/v1/channels/${channelId}/messages`, { token: author.token, body: { content, ...extra } }),
    [201],
    'send message',
  );
}

/** Sends `count` messages one after another; returns them oldest first. */
export async function sendMany(api: ApiClient, author: Registered, channelId: string, count: number, prefix = 'message'): Promise<Message[]> {
  const sent: Message[] = [];
  for (let index = 0; index < count; index += 1) sent.push(await send(api, author, channelId, `${prefix} ${index}`));
  return sent;
}

/** The id of the default `general` room, as a new account sees it. */
/**
 * `count` messages written straight into the table (ids after everything before, contents
 * `${prefix}1` … `${prefix}N`): volume a test needs without sending it through the API.
 */
export async function insertMessages(databaseUrl: string, channelId: string, authorId: string, prefix: string, count: number): Promise<void> {
  await queryDatabase(
    databaseUrl,
    `INSERT INTO messages (id, channel_id, author_id, content)
     SELECT next_id(), $1, $2, $3 || g FROM generate_series(1, $4) g`,
    [channelId, authorId, prefix, count],
  );
}

export async function generalId(api: ApiClient, user: Registered): Promise<string> {
  const page = await expectStatus(api('GET', '/api/v1/channels?q=general', { token: user.token }), [200], 'list public rooms');
  const general = (page.items as Room[]).find((room) => room.name === 'general' && room.owner_id === null);
  if (!general) throw new Error('no general room');
  return general.id;
}

/** Numeric comparison of snowflake strings. */
export const byIdDesc = (a: { id: string }, b: { id: string }) => (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0);

export const users = async (api: ApiClient, count: number): Promise<Registered[]> =>
  Promise.all(Array.from({ length: count }, () => register(api)));

/** Every message id of a channel after `after`, oldest first, read through REST history pages. */
export async function historyIds(api: ApiClient, channelId: string, token: string, after = '0'): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const page = await api('GET', `/api/v1/channels/${channelId}/messages?after=${after}&limit=100`, { token });
    const items = page.body.items.map((item: { id: string }) => item.id).reverse();
    ids.push(...items);
    if (!page.body.has_more) break;
    after = items.at(-1);
  }
  return ids;
}
