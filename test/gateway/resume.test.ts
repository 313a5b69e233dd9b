// Resume: after a forced disconnect the session keeps recording; `resume` replays exactly the
// missed events (messages, edits, deletes) in order with their seqs, then `resumed`, then live
// events continue the sequence. Unknown/expired sessions: invalid_session; a never-sent seq: 4007.
import t from 'tap';
import type { ServerFrame } from '../../generated/asyncapi-types.ts';
import { build, register, type TestApp } from '../helpers/build.ts';
import { createRoom, join, send } from '../helpers/chat.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';
import { waitFor } from '../helpers/poll.ts';

const describe = (frame: ServerFrame): string => {
  switch (frame.type) {
    case 'message_created':
    case 'message_updated':
      return `${frame.type}:${frame.message.content}`;
    case 'message_deleted':
      return `${frame.type}:${frame.message_id}`;
    default:
      return frame.type;
  }
};

/** The server saw the connection go: its gateway session is detached (resumable), or gone. */
const detached = (app: TestApp['app'], sessionId: string) => () => [...app.gateway.registry.sessions()].find((session) => session.id === sessionId)?.attached !== true;

t.test('resume after a forced disconnect replays exactly the missed events, in order, then continues', async (t) => {
  const { app, api, baseUrl } = await build(t, { PRESENCE_GRACE_MS: 0 });
  const ada = await register(api);
  const bob = await register(api);
  const room = await createRoom(api, ada);
  await join(api, room.id, bob);
  const { client: first, hello } = await connectReady(t, baseUrl, bob.token, { name: 'first' });

  const m1 = await send(api, ada, room.id, 'one');
  const m2 = await send(api, ada, room.id, 'two');
  await first.next((frame) => frame.type === 'message_created' && frame.message.id === m2.id);
  const processed = first.lastSeq;
  t.ok(processed >= 2, `seq so far ${processed}`);

  await first.drop();
  await waitFor(detached(app, hello.session_id), 'the server saw the drop');
  // While bob is away: a message, an edit, a delete, and a message over the socket by ada.
  const m3 = await send(api, ada, room.id, 'three');
  await api('PATCH', `/api/v1/channels/${room.id}/messages/${m1.id}`, { token: ada.token, body: { content: 'one (edited)' } });
  await api('DELETE', `/api/v1/channels/${room.id}/messages/${m2.id}`, { token: ada.token });
  const { client: adaWs } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });
  const sent = await adaWs.request({ type: 'send_message', ref: 's', channel_id: room.id, content: 'four' });
  t.equal(sent.type, 'ack');

  const second = await connect(t, baseUrl, { name: 'second', lastSeq: processed });
  const secondHello = await second.next('hello');
  t.not(secondHello.session_id, hello.session_id, 'a new connection announces a new id (discarded on resume)');
  const resumed = await second.request({ type: 'resume', ref: 'r', token: bob.token, session_id: hello.session_id, seq: processed });
  t.equal(resumed.type, 'resumed');
  const replayed = second.events();
  t.equal(resumed.type === 'resumed' && resumed.replayed, replayed.length, 'resumed counts the replayed events');
  t.same(
    replayed.map(describe).filter((entry) => !entry.startsWith('presence')),
    ['message_created:three', 'message_updated:one (edited)', `message_deleted:${m2.id}`, 'message_created:four'],
    'exactly the missed messages, edits and deletes, in order',
  );
  t.equal((replayed[0] as { seq: number }).seq, processed + 1, 'the replay starts right after the processed seq');
  t.notOk(second.frames.some((frame) => frame.type === 'ready'), 'no ready on resume');

  // Live events continue the same sequence (the client helper fails on any gap or duplicate).
  await send(api, ada, room.id, 'five');
  const live = await second.next((frame) => frame.type === 'message_created' && frame.message.content === 'five');
  t.equal((live as { seq: number }).seq, second.lastSeq);
  const history = await api('GET', `/api/v1/channels/${room.id}/messages?after=0`, { token: bob.token });
  t.same(
    history.body.items.map((item: { content: string }) => item.content).reverse(),
    ['one (edited)', 'three', 'four', 'five'],
    'REST history agrees',
  );
  void m3;
});

t.test('resume replays from any retained seq, also 0; the session survives several reconnects', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client, hello } = await connectReady(t, baseUrl, ada.token);
  await send(api, ada, room.id, 'a');
  await send(api, ada, room.id, 'b');
  await client.next((frame) => frame.type === 'message_created' && frame.message.content === 'b');
  await client.drop();

  const again = await connect(t, baseUrl, { lastSeq: 0, name: 'again' });
  await again.next('hello');
  const reply = await again.request({ type: 'resume', ref: 'r', token: ada.token, session_id: hello.session_id, seq: 0 });
  t.match(reply, { type: 'resumed' });
  t.same(again.events('message_created').map(describe), ['message_created:a', 'message_created:b'], 'everything from seq 1');
  await again.drop();

  const third = await connect(t, baseUrl, { lastSeq: again.lastSeq, name: 'third' });
  await third.next('hello');
  t.match(await third.request({ type: 'resume', ref: 'r', token: ada.token, session_id: hello.session_id, seq: again.lastSeq }), {
    type: 'resumed',
    replayed: 0,
  });
  t.same(await third.request({ type: 'send_message', ref: 'm', channel_id: room.id, content: 'c' }).then((f) => f.type), 'ack');
});

t.test('a resume of a session still attached takes it over: the old connection is closed', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client: old, hello } = await connectReady(t, baseUrl, ada.token, { name: 'old' });
  const fresh = await connect(t, baseUrl, { name: 'fresh' });
  await fresh.next('hello');
  t.match(await fresh.request({ type: 'resume', ref: 'r', token: ada.token, session_id: hello.session_id, seq: 0 }), { type: 'resumed' });
  t.equal((await old.closedWith()).code, 1000, 'the old connection is closed normally');
});

t.test('unknown, foreign and expired sessions get invalid_session and the connection stays usable', async (t) => {
  const { app, api, baseUrl } = await build(t, { WS_RESUME_WINDOW_MS: 300 });
  const ada = await register(api);
  const bob = await register(api);
  const { client: adaWs, hello } = await connectReady(t, baseUrl, ada.token, { name: 'ada' });

  const stranger = await connect(t, baseUrl, { name: 'bob' });
  await stranger.next('hello');
  t.same(await stranger.request({ type: 'resume', ref: 'u', token: bob.token, session_id: 'unknownsession1', seq: 0 }), {
    type: 'invalid_session',
    ref: 'u',
    resumable: false,
  });
  t.same(
    await stranger.request({ type: 'resume', ref: 'f', token: bob.token, session_id: hello.session_id, seq: 0 }),
    { type: 'invalid_session', ref: 'f', resumable: false },
    "another user's session",
  );
  t.match(await stranger.request({ type: 'authorization', ref: 'a', token: bob.token }), { type: 'ready' }, 'then authorization works');

  await adaWs.drop();
  await waitFor(detached(app, hello.session_id), 'the server saw the drop');
  // The window runs out on the sweep's clock: sweep at a time just past it (not a sleep).
  const session = [...app.gateway.registry.sessions()].find((candidate) => candidate.id === hello.session_id)!;
  app.gateway.sweep(session.detachedAt + 300);
  t.ok(app.gateway.registry.session(hello.session_id), 'at the end of the window the session is kept');
  app.gateway.sweep(session.detachedAt + 301);
  t.notOk(app.gateway.registry.session(hello.session_id), 'past it the sweep drops the session');
  const late = await connect(t, baseUrl, { name: 'late' });
  await late.next('hello');
  t.same(
    await late.request({ type: 'resume', ref: 'l', token: ada.token, session_id: hello.session_id, seq: adaWs.lastSeq }),
    { type: 'invalid_session', ref: 'l', resumable: false },
    'after the resume window',
  );
  t.match(await late.request({ type: 'authorization', ref: 'a', token: ada.token }), { type: 'ready' });
});

t.test('events older than the retained count are a gap: invalid_session', async (t) => {
  const { api, baseUrl } = await build(t, { WS_RESUME_MAX_EVENTS: 3 });
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client, hello } = await connectReady(t, baseUrl, ada.token);
  await client.drop();
  for (const content of ['1', '2', '3', '4', '5']) await send(api, ada, room.id, content);
  const again = await connect(t, baseUrl, { name: 'again' });
  await again.next('hello');
  t.match(await again.request({ type: 'resume', ref: 'r', token: ada.token, session_id: hello.session_id, seq: 0 }), {
    type: 'invalid_session',
    resumable: false,
  });
});

t.test('a seq the server never sent closes 4007; a bad token in resume closes 4004', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client, hello } = await connectReady(t, baseUrl, ada.token);
  await client.drop();
  const future = await connect(t, baseUrl);
  await future.next('hello');
  future.send({ type: 'resume', token: ada.token, session_id: hello.session_id, seq: 99 });
  t.equal((await future.closedWith()).code, 4007);

  const badToken = await connect(t, baseUrl);
  await badToken.next('hello');
  badToken.send({ type: 'resume', token: 'not-a-token', session_id: hello.session_id, seq: 0 });
  t.equal((await badToken.closedWith()).code, 4004);
});

t.test('a logged-out session cannot be resumed', async (t) => {
  const { app, api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client, hello } = await connectReady(t, baseUrl, ada.token);
  await client.drop();
  await waitFor(detached(app, hello.session_id), 'the server saw the drop');
  const second = await api('POST', '/api/v1/auth/login', { body: { login: ada.user.username, password: ada.password } });
  await api('POST', '/api/v1/auth/logout', { token: ada.token });
  const again = await connect(t, baseUrl);
  await again.next('hello');
  t.match(
    await again.request({ type: 'resume', ref: 'r', token: second.body.access_token, session_id: hello.session_id, seq: 0 }),
    { type: 'invalid_session', resumable: false },
    'the gateway session ended with its auth session',
  );
});
