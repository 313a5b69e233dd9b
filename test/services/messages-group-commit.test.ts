import t from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import { queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';
import { createGuild, MISSING_ID } from '../helpers/guilds.ts';

const messagesOf = (channelId: string) => `/api/v1/channels/${channelId}/messages`;

// DATABASE_POOL_SIZE 2 leaves one send transaction at a time, so concurrent sends queue up and
// are committed in shared transactions: every outcome below is decided inside a batch.
t.test('concurrent sends share transactions; each is decided, acked and announced on its own', async (t) => {
  const { app, api, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 2 });
  const [ada, stranger] = [await register(api), await register(api)];
  const rooms = await Promise.all(Array.from({ length: 12 }, (_, index) => createRoom(api, ada, { name: `batch-${index}` })));
  const secret = await createRoom(api, ada, { name: 'secret', visibility: 'private' });
  const guild = await createGuild(api, ada);
  const earlier = await send(api, ada, rooms[0]!.id, 'first, with a nonce', { nonce: 'n-1' });
  const recorder = recordEvents(app.events);

  const post = (token: string, channelId: string, body: Record<string, unknown>) => api('POST', messagesOf(channelId), { token, body });
  const [valid, refused] = await Promise.all([
    Promise.all([
      ...rooms.map((room, index) => post(ada.token, room.id, { content: `batched ${index}` })),
      post(ada.token, guild.generalId, { content: 'in the guild' }),
    ]),
    Promise.all([
      post(stranger.token, rooms[1]!.id, { content: 'not joined' }),
      post(stranger.token, secret.id, { content: 'not invited' }),
      post(stranger.token, guild.generalId, { content: 'not a guild member' }),
      post(ada.token, MISSING_ID, { content: 'nowhere' }),
      post(ada.token, secret.id, { content: 'bad reply', reply_to_id: earlier.id }),
      post(ada.token, rooms[0]!.id, { content: 'a retry', nonce: 'n-1' }),
    ]),
  ]);

  t.same(
    valid.map((response) => response.status),
    valid.map(() => 201),
    'every valid send is stored',
  );
  valid.forEach((response, index) => {
    t.equal(response.body.content, index < rooms.length ? `batched ${index}` : 'in the guild', `send ${index} got its own message back`);
  });
  t.same(
    refused.map((response) => [response.status, response.body.code]),
    [
      [403, 'forbidden'],
      [404, 'not_found'],
      [404, 'not_found'],
      [404, 'not_found'],
      [400, 'validation_failed'],
      [200, undefined],
    ],
    'each refused send gets its own answer',
  );
  t.equal(refused[5]!.body.id, earlier.id, 'the nonce retry returns the earlier message');

  const stored = await queryDatabase<{ id: string; channel_id: string; content: string; tx: string }>(
    databaseUrl,
    `SELECT id::text, channel_id::text, content, xmin::text AS tx FROM messages WHERE author_id = $1 AND id <> $2 ORDER BY id`,
    [ada.user.id, earlier.id],
  );
  t.same(
    stored.map((row) => row.content).sort(),
    valid.map((response) => response.body.content as string).sort(),
    'exactly the accepted messages are stored, nothing of the refused ones',
  );
  const transactions = new Set(stored.map((row) => row.tx));
  t.ok(transactions.size < stored.length, `${stored.length} messages were committed in ${transactions.size} transactions`);
  t.same(
    recorder.events.map((event) => (event.type === 'message.created' ? event.message.id : event.type)).sort(),
    valid.map((response) => response.body.id as string).sort(),
    'one message.created per stored message, none for the refused sends',
  );

  const channels = await queryDatabase<{ id: string; last_message_id: string }>(
    databaseUrl,
    'SELECT id::text, last_message_id::text FROM channels WHERE id = ANY($1::int8[])',
    [rooms.map((room) => room.id)],
  );
  const lastOf = new Map(channels.map((row) => [row.id, row.last_message_id]));
  rooms.forEach((room, index) => t.equal(lastOf.get(room.id), valid[index]!.body.id, `room ${index} points at its new last message`));
});

t.test('sends to one channel never share a batch and keep their order under group commit', async (t) => {
  const { api } = await build(t, { DATABASE_POOL_SIZE: 2 });
  const ada = await register(api);
  const [room, other] = [await createRoom(api, ada, { name: 'ordered' }), await createRoom(api, ada, { name: 'other' })];
  const responses = await Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      api('POST', messagesOf(index % 2 === 0 ? room.id : other.id), { token: ada.token, body: { content: `m${index}` } }),
    ),
  );
  t.same(
    responses.map((response) => response.status),
    responses.map(() => 201),
  );
  const history = await api('GET', `${messagesOf(room.id)}?limit=50`, { token: ada.token });
  const ids = (history.body.items as { id: string }[]).map((message) => BigInt(message.id));
  t.equal(ids.length, 10);
  t.same(
    ids,
    [...ids].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)),
    'history is strictly ordered by id',
  );
  t.equal(new Set(ids).size, 10, 'no id is allocated twice');
});

t.test('a send the database refuses fails alone: its batch is retried send by send', async (t) => {
  const { api, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 2 });
  // A stand-in for any statement error a single message could cause (this test database only).
  await queryDatabase(
    databaseUrl,
    `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN IF NEW.content = 'poison' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$;
     CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();`,
  );
  const ada = await register(api);
  const rooms = await Promise.all(Array.from({ length: 8 }, (_, index) => createRoom(api, ada, { name: `poison-${index}` })));
  const contents = rooms.map((_, index) => (index === 5 ? 'poison' : `fine ${index}`));
  const responses = await Promise.all(
    rooms.map((room, index) => api('POST', messagesOf(room.id), { token: ada.token, body: { content: contents[index] } })),
  );
  t.same(
    responses.map((response) => response.status),
    contents.map((content) => (content === 'poison' ? 500 : 201)),
    'only the refused send fails',
  );
  const stored = await queryDatabase<{ content: string }>(databaseUrl, 'SELECT content FROM messages WHERE author_id = $1 ORDER BY content', [
    ada.user.id,
  ]);
  t.same(
    stored.map((row) => row.content),
    contents.filter((content) => content !== 'poison').sort(),
    'every other message is stored once',
  );
});
