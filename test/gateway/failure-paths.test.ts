// Gateway failure paths: a database error inside a frame is an `internal_error` frame and the
// session goes on; an unexpected failure while authorizing closes 4000 (unknown error).
import t from 'tap';
import { queryDatabase } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom } from '../helpers/chat.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';

t.test('the database failing a frame: internal_error with its ref, and the socket stays usable', async (t) => {
  const { api, baseUrl, databaseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);
  // The database refuses one statement (this test database only): a stand-in for any failure of ours.
  await queryDatabase(
    databaseUrl,
    `CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN IF NEW.content = 'fail' THEN RAISE EXCEPTION 'the database failed'; END IF; RETURN NEW; END $$;
     CREATE TRIGGER fail_insert BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION fail_insert();`,
  );
  const failed = await client.request({ type: 'send_message', ref: 'f', channel_id: room.id, content: 'fail' });
  t.match(failed, { type: 'error', ref: 'f', code: 'internal_error' }, 'an internal_error frame for that frame');
  t.notMatch(JSON.stringify(failed), /the database failed/, 'the database error is not shown to the client');
  const sent = await client.request({ type: 'send_message', ref: 'ok', channel_id: room.id, content: 'fine' });
  t.match(sent, { type: 'ack', ref: 'ok', message: { content: 'fine' } }, 'the next frame works');
  t.match(await client.next('message_created'), { message: { content: 'fine' } }, 'and its event arrives');
  await client.sync();
  t.equal(client.closeInfo, undefined, 'the socket stayed open');
  const stored = await queryDatabase<{ content: string }>(databaseUrl, 'SELECT content FROM messages WHERE channel_id = $1', [room.id]);
  t.same(stored, [{ content: 'fine' }], 'nothing of the failed send was stored');
});

t.test('a failure while authorizing closes 4000 (unknown error); a later connection works', async (t) => {
  const { api, baseUrl, databaseUrl } = await build(t);
  const ada = await register(api);
  // The channel list a ready needs cannot be read (this test database only).
  await queryDatabase(databaseUrl, 'ALTER TABLE channel_members RENAME TO channel_members_away');
  const client = await connect(t, baseUrl, { name: 'unlucky' });
  await client.next('hello');
  client.send({ type: 'authorization', ref: 'a', token: ada.token });
  const closed = await client.closedWith();
  t.equal(closed.code, 4000, 'closed 4000');
  t.equal(client.frames.filter((frame) => frame.type === 'ready').length, 0, 'never ready');

  await queryDatabase(databaseUrl, 'ALTER TABLE channel_members_away RENAME TO channel_members');
  const { ready } = await connectReady(t, baseUrl, ada.token, { name: 'later' });
  t.equal(ready.user.id, ada.user.id, 'once the database answers again, a connection gets ready');
});

t.test('a plain HTTP GET /api/v1/ws (no upgrade) is a 404 problem that points at the gateway', async (t) => {
  const { api } = await build(t);
  const response = await api('GET', '/api/v1/ws');
  t.equal(response.status, 404);
  t.match(response.headers.get('content-type'), /^application\/problem\+json/);
  t.equal(response.body.code, 'not_found');
  t.match(response.body.detail, /WebSocket/, 'the detail says to connect with a WebSocket client');
});
