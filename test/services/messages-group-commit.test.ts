import pg from 'pg';
import t from 'tap';
import type { Test } from 'tap';
import { recordEvents } from '../../src/events/event-bus.ts';
import { queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';
import { createGuild, MISSING_ID } from '../helpers/guilds.ts';
import { waitFor } from '../helpers/poll.ts';

const messagesOf = (channelId: string) => `/api/v1/channels/${channelId}/messages`;

/**
 * Locks a channel's row from another connection, so a send batch touching it waits (holding the
 * send transaction) until the returned release is called.
 */
async function holdChannel(t: Test, databaseUrl: string, channelId: string): Promise<() => Promise<void>> {
  const holder = new pg.Client({ connectionString: databaseUrl });
  await holder.connect();
  t.teardown(() => holder.end());
  await holder.query('BEGIN');
  await holder.query('SELECT id FROM channels WHERE id = $1 FOR UPDATE', [channelId]);
  return async () => {
    await holder.query('COMMIT');
  };
}

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
  const { app, api, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 2 });
  const ada = await register(api);
  const [room, other, gate] = [
    await createRoom(api, ada, { name: 'ordered' }),
    await createRoom(api, ada, { name: 'other' }),
    await createRoom(api, ada, { name: 'gate' }),
  ];
  // A send held on the gate channel's row lock keeps the one send transaction busy until both
  // channels have a send queued, so batches surely form (else distinct transactions prove nothing).
  const release = await holdChannel(t, databaseUrl, gate.id);
  const gated = api('POST', messagesOf(gate.id), { token: ada.token, body: { content: 'gated' } });
  await waitFor(() => app.messagesService.sendQueue().inFlight === 1, 'the gated send holds the one send transaction');
  const pending = Promise.all(
    Array.from({ length: 20 }, (_, index) =>
      api('POST', messagesOf(index % 2 === 0 ? room.id : other.id), { token: ada.token, body: { content: `m${index}` } }),
    ),
  );
  await waitFor(() => app.messagesService.sendQueue().queued >= 2, 'a send of each channel queued behind it');
  await release();
  t.equal((await gated).status, 201);
  const responses = await pending;
  t.same(
    responses.map((response) => response.status),
    responses.map(() => 201),
  );
  const transactionsOf = async (channelId: string) =>
    (
      await queryDatabase<{ tx: string }>(databaseUrl, 'SELECT xmin::text AS tx FROM messages WHERE channel_id = $1', [channelId])
    ).map((row) => row.tx);
  const roomTransactions = await transactionsOf(room.id);
  t.equal(roomTransactions.length, 10);
  t.equal(new Set(roomTransactions).size, 10, "no two of one channel's messages were committed in one transaction");
  // The sends did share transactions across the two channels (else the check above proves nothing).
  const all = [...roomTransactions, ...(await transactionsOf(other.id))];
  t.ok(new Set(all).size < all.length, `20 messages in ${new Set(all).size} transactions: batches formed`);

  // Sequential sends to one channel, while concurrent sends to another keep batches forming:
  // each is stored after the one before it (ids and history in submission order).
  const background = Promise.all(
    Array.from({ length: 20 }, (_, index) => api('POST', messagesOf(other.id), { token: ada.token, body: { content: `bg${index}` } })),
  );
  const sequential: string[] = [];
  for (let index = 0; index < 10; index += 1) {
    const response = await api('POST', messagesOf(room.id), { token: ada.token, body: { content: `s${index}` } });
    t.equal(response.status, 201);
    sequential.push(response.body.id as string);
  }
  await background;
  const history = await api('GET', `${messagesOf(room.id)}?limit=10`, { token: ada.token });
  t.same(
    (history.body.items as { content: string }[]).map((message) => message.content),
    Array.from({ length: 10 }, (_, index) => `s${9 - index}`),
    'history (newest first) holds the sequential sends in reverse submission order',
  );
  const ids = sequential.map((id) => BigInt(id));
  t.ok(
    ids.every((id, index) => index === 0 || id > ids[index - 1]!),
    'each sequential send got a larger id than the one submitted before it',
  );
});

t.test('a send the database refuses fails alone: its batch is retried send by send', async (t) => {
  const { app, api, databaseUrl } = await build(t, { DATABASE_POOL_SIZE: 2 });
  // A stand-in for any statement error a single message could cause (this test database only).
  // Each attempt at the poison bumps a sequence (sequences are not rolled back): tried in a batch
  // with others and then alone makes 2; a poison that had a batch to itself would be tried once.
  await queryDatabase(
    databaseUrl,
    `CREATE SEQUENCE poison_attempts;
     CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN IF NEW.content = 'poison' THEN PERFORM nextval('poison_attempts'); RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$;
     CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();`,
  );
  const ada = await register(api);
  const gate = await createRoom(api, ada, { name: 'gate' });
  const rooms = await Promise.all(Array.from({ length: 8 }, (_, index) => createRoom(api, ada, { name: `poison-${index}` })));
  const contents = rooms.map((_, index) => (index === 5 ? 'poison' : `fine ${index}`));

  // One send transaction at a time (pool of 2): a send held on the gate channel's row lock keeps
  // the others queued, so all eight go into the next batch together, the poison among them.
  const release = await holdChannel(t, databaseUrl, gate.id);
  const gated = api('POST', messagesOf(gate.id), { token: ada.token, body: { content: 'gated' } });
  await waitFor(() => app.messagesService.sendQueue().inFlight === 1, 'the gated send holds the one send transaction');
  const pending = Promise.all(
    rooms.map((room, index) => api('POST', messagesOf(room.id), { token: ada.token, body: { content: contents[index] } })),
  );
  await waitFor(() => app.messagesService.sendQueue().queued === rooms.length, 'the eight sends are queued behind it');
  await release();
  t.equal((await gated).status, 201);
  const responses = await pending;
  t.same(
    responses.map((response) => response.status),
    contents.map((content) => (content === 'poison' ? 500 : 201)),
    'only the refused send fails',
  );
  const stored = await queryDatabase<{ content: string }>(
    databaseUrl,
    'SELECT content FROM messages WHERE author_id = $1 AND channel_id <> $2 ORDER BY content',
    [ada.user.id, gate.id],
  );
  t.same(
    stored.map((row) => row.content),
    contents.filter((content) => content !== 'poison').sort(),
    'every other message is stored once',
  );
  const [attempts] = await queryDatabase<{ attempts: string }>(databaseUrl, 'SELECT last_value::text AS attempts FROM poison_attempts');
  t.equal(attempts!.attempts, '2', 'the poison was tried in a batch with the other sends, then alone');
});
