import t from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import type { ApiClient, Registered } from '../helpers/build.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, join, sendMany, type Message } from '../helpers/chat.ts';

const messagesOf = (channelId: string) => `/api/v1/channels/${channelId}/messages`;
const ids = (items: { id: string }[]) => items.map((item) => item.id);
const isStrictlyDescending = (values: string[]) => values.every((value, index) => index === 0 || BigInt(values[index - 1]!) > BigInt(value));

interface Page {
  status: number;
  body: { items: Message[]; has_more: boolean };
}

async function history(api: ApiClient, user: Registered, channelId: string, query: string): Promise<Page> {
  return api('GET', `${messagesOf(channelId)}${query ? `?${query}` : ''}`, { token: user.token });
}

/** Walks `after` from a starting id to the end; returns the ids oldest first. */
async function walkAfter(api: ApiClient, user: Registered, channelId: string, from: string, limit: number) {
  const seen: string[] = [];
  let cursor = from;
  for (;;) {
    const page = await history(api, user, channelId, `after=${cursor}&limit=${limit}`);
    if (page.status !== 200) throw new Error(`history failed: ${page.status}`);
    const oldestFirst = ids(page.body.items).reverse();
    seen.push(...oldestFirst);
    if (!page.body.has_more) return seen;
    cursor = oldestFirst.at(-1)!;
  }
}

t.test('walking a 250-message channel both ways returns each message exactly once, in order', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const sent = ids(await sendMany(api, ada, room.id, 250));
  t.ok(isStrictlyDescending([...sent].reverse()), 'ids grow with every send');
  const newestFirst = [...sent].reverse();

  for (const limit of [3, 7, 50, 100]) {
    // Backwards from the newest with `before`.
    const backwards: string[] = [];
    let page = await history(api, ada, room.id, `limit=${limit}`);
    let pages = 1;
    backwards.push(...ids(page.body.items));
    while (page.body.has_more) {
      page = await history(api, ada, room.id, `before=${backwards.at(-1)}&limit=${limit}`);
      t.ok(page.body.items.length <= limit);
      backwards.push(...ids(page.body.items));
      pages += 1;
    }
    t.same(backwards, newestFirst, `before, limit ${limit}: every message once, newest first`);
    t.equal(pages, Math.ceil(250 / limit), `before, limit ${limit}: no empty trailing page`);

    // Forwards from the beginning with `after`.
    const forwards = await walkAfter(api, ada, room.id, '0', limit);
    t.same(forwards, sent, `after, limit ${limit}: every message once, oldest first`);
  }

  const defaults = await history(api, ada, room.id, '');
  t.equal(defaults.body.items.length, 50, 'default limit 50');
  t.same(ids(defaults.body.items), newestFirst.slice(0, 50), 'newest first');
  t.equal(defaults.body.has_more, true);
  const oldest = await history(api, ada, room.id, `before=${sent[1]}`);
  t.same(ids(oldest.body.items), [sent[0]], 'the last page');
  t.equal(oldest.body.has_more, false);
  const newest = await history(api, ada, room.id, `after=${sent[248]}`);
  t.same(ids(newest.body.items), [sent[249]]);
  t.equal(newest.body.has_more, false);
  const beyond = await history(api, ada, room.id, `after=${sent[249]}`);
  t.same(beyond.body, { items: [], has_more: false }, 'nothing after the newest');
});

t.test('around: the message itself and about half on each side', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const m = ids(await sendMany(api, ada, room.id, 20));
  const cases: Array<[string, string, number, string[], boolean]> = [
    ['middle, odd limit', m[10]!, 5, [m[12]!, m[11]!, m[10]!, m[9]!, m[8]!], true],
    ['middle, even limit', m[10]!, 4, [m[11]!, m[10]!, m[9]!, m[8]!], true],
    ['limit 1 is the message itself', m[10]!, 1, [m[10]!], true],
    ['the oldest: filled from the newer side', m[0]!, 5, [m[4]!, m[3]!, m[2]!, m[1]!, m[0]!], true],
    ['the newest: filled from the older side', m[19]!, 5, [m[19]!, m[18]!, m[17]!, m[16]!, m[15]!], true],
    ['a window wider than the channel', m[10]!, 100, [...m].reverse(), false],
    ['an id between two messages', (BigInt(m[10]!) + 1n).toString(), 4, [m[12]!, m[11]!, m[10]!, m[9]!], true],
    ['before every message', '1', 3, [m[2]!, m[1]!, m[0]!], true],
  ];
  for (const [what, around, limit, expected, hasMore] of cases) {
    const page = await history(api, ada, room.id, `around=${around}&limit=${limit}`);
    t.equal(page.status, 200, what);
    t.same(ids(page.body.items), expected, what);
    t.equal(page.body.has_more, hasMore, `${what}: has_more`);
  }
  const deleted = m[10]!;
  t.equal((await api('DELETE', `${messagesOf(room.id)}/${deleted}`, { token: ada.token })).status, 204);
  const aroundDeleted = await history(api, ada, room.id, `around=${deleted}&limit=3`);
  t.same(ids(aroundDeleted.body.items), [m[12]!, m[11]!, m[9]!], 'a deleted anchor is simply absent');
});

t.test('history bounds: limit 1..100, at most one cursor, valid ids', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const cases: Array<[string, string[]]> = [
    ['limit=0', ['query /limit']],
    ['limit=101', ['query /limit']],
    ['limit=abc', ['query /limit']],
    ['before=1&after=2', ['query /before', 'query /after']],
    ['after=1&around=2', ['query /after', 'query /around']],
    ['before=1&around=2', ['query /before', 'query /around']],
    ['before=1&after=2&around=3', ['query /before', 'query /after', 'query /around']],
    ['before=abc', ['query /before']],
    ['around=-5', ['query /around']],
  ];
  for (const [query, fields] of cases) {
    const page = await api('GET', `${messagesOf(room.id)}?${query}`, { token: ada.token });
    t.equal(page.status, 400, query);
    t.equal(page.body.code, 'validation_failed', query);
    t.same(
      page.body.errors.map((error: { in: string; field: string }) => `${error.in} ${error.field}`).sort(),
      [...fields].sort(),
      `${query}: errors name ${fields.join(', ')}`,
    );
  }
  for (const limit of [1, 100]) {
    t.equal((await history(api, ada, room.id, `limit=${limit}`)).status, 200, `limit=${limit} is allowed`);
  }
  t.equal((await history(api, ada, '424242', '')).status, 404, 'unknown channel');
});

t.test('parallel senders: 8 clients x 50 messages over two server instances; after-walks from every id miss nothing', async (t) => {
  const { app, api, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 10 });
  // A second instance on the same database: across processes only the channel row lock orders ids.
  const second = await build(t, { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: 10 });
  const owner = await register(api);
  const room = await createRoom(api, owner);
  const clients = await Promise.all(Array.from({ length: 8 }, () => register(api)));
  for (const client of clients) await join(api, room.id, client);
  const recorder = recordEvents(app.events);
  const secondRecorder = recordEvents(second.app.events);

  // A reader polls with `after` while the writers run: it must see every message exactly once.
  let writing = true;
  const reader = (async () => {
    const seen: string[] = [];
    let cursor = '0';
    for (;;) {
      const done = !writing;
      const page = await history(api, owner, room.id, `after=${cursor}&limit=100`);
      const oldestFirst = ids(page.body.items).reverse();
      seen.push(...oldestFirst);
      if (oldestFirst.length > 0) cursor = oldestFirst.at(-1)!;
      if (done && !page.body.has_more) return seen;
    }
  })();

  const perClient = await Promise.all(
    clients.map(async (client, index) => {
      const mine: string[] = [];
      for (let count = 0; count < 50; count += 1) {
        const via = index % 2 === 0 ? api : second.api;
        const response = await via('POST', messagesOf(room.id), { token: client.token, body: { content: `client ${index} #${count}` } });
        if (response.status !== 201) throw new Error(`send failed: ${response.status} ${response.text}`);
        mine.push(response.body.id);
      }
      return mine;
    }),
  );
  writing = false;
  const readerSaw = await reader;
  recorder.stop();
  secondRecorder.stop();

  const all = [...new Set(perClient.flat())];
  t.equal(all.length, 400, '400 distinct message ids');
  for (const [index, mine] of perClient.entries()) {
    t.ok(isStrictlyDescending([...mine].reverse()), `client ${index}: its messages got growing ids`);
  }
  const oldestFirst = [...all].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  t.same(readerSaw, oldestFirst, 'the live after-reader saw every message exactly once, in id order');

  const createdIds = (events: typeof recorder.events) =>
    events.flatMap((event) => (event.type === 'message.created' ? [event.message.id] : []));
  const [publishedA, publishedB] = [createdIds(recorder.events), createdIds(secondRecorder.events)];
  t.equal(publishedA.length + publishedB.length, 400, 'each instance announced its own sends');
  t.same(publishedA, [...publishedA].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)), 'instance A published in id (= commit) order');
  t.same(publishedB, [...publishedB].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)), 'instance B published in id (= commit) order');

  // From every intermediate id, walking `after` returns exactly the later messages.
  const failures: string[] = [];
  let walks = 0;
  const starts = oldestFirst.map((id, index) => ({ id, index }));
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let next = starts.shift(); next; next = starts.shift()) {
        const walked = await walkAfter(api, owner, room.id, next.id, 100);
        const expected = oldestFirst.slice(next.index + 1);
        walks += 1;
        if (walked.length !== expected.length || walked.some((id, position) => id !== expected[position])) failures.push(next.id);
      }
    }),
  );
  t.equal(walks, 400, 'one after-walk from every message id');
  t.same(failures, [], 'every after-walk returned exactly the messages after its start');

  const backwards: string[] = [];
  let page = await history(api, owner, room.id, 'limit=100');
  backwards.push(...ids(page.body.items));
  while (page.body.has_more) {
    page = await history(api, owner, room.id, `before=${backwards.at(-1)}&limit=100`);
    backwards.push(...ids(page.body.items));
  }
  t.same(backwards, [...oldestFirst].reverse(), 'and the before-walk returns them all, newest first');
});
