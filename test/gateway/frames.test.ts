// Frame checks and limits: 4002 (invalid JSON, not an object, binary, over 16 KiB), 4001 (unknown
// type), schema errors as `error` frames (the session stays open), 4008 (rate), 4009 (heartbeat).
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';

t.test('invalid payloads close 4002, unknown types close 4001', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const cases: Array<{ name: string; send: (client: Awaited<ReturnType<typeof connect>>) => void; code: number }> = [
    { name: 'invalid JSON', send: (c) => c.sendRaw('{"type": "ping"'), code: 4002 },
    { name: 'a JSON array', send: (c) => c.sendRaw('[{"type":"ping"}]'), code: 4002 },
    { name: 'a JSON string', send: (c) => c.sendRaw('"ping"'), code: 4002 },
    { name: 'null', send: (c) => c.sendRaw('null'), code: 4002 },
    { name: 'a binary frame', send: (c) => c.sendRaw(Buffer.from('{"type":"ping"}'), { binary: true }), code: 4002 },
    {
      name: 'a frame over 16 KiB',
      send: (c) => c.sendRaw(JSON.stringify({ type: 'ping', ref: 'x'.repeat(16 * 1024) })),
      code: 4002,
    },
    { name: 'invalid UTF-8', send: (c) => c.sendRaw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), code: 4002 },
    { name: 'an unknown type', send: (c) => c.send({ type: 'dance' }), code: 4001 },
    { name: 'a server frame type', send: (c) => c.send({ type: 'pong' }), code: 4001 },
    { name: 'no type', send: (c) => c.send({ ref: 'x' }), code: 4001 },
    { name: 'a non-string type', send: (c) => c.send({ type: 42 }), code: 4001 },
  ];
  for (const { name, send, code } of cases) {
    const { client } = await connectReady(t, baseUrl, ada.token, { name });
    send(client);
    t.equal((await client.closedWith()).code, code, `${name} closes ${code}`);
  }
});

t.test('a frame of exactly 16 KiB is accepted', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client } = await connectReady(t, baseUrl, ada.token);
  const skeleton = JSON.stringify({ type: 'ping', ref: '' });
  // ref is limited to 64 characters, so the padding goes into insignificant whitespace.
  const frame = skeleton.replace('{', `{${' '.repeat(16 * 1024 - skeleton.length)}`);
  t.equal(Buffer.byteLength(frame), 16 * 1024);
  client.sendRaw(frame);
  t.same(await client.next('pong'), { type: 'pong', ref: '' });
});

t.test('a frame that breaks its schema gets an error frame with its ref; the session stays open', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client, ready } = await connectReady(t, baseUrl, ada.token);
  const channelId = ready.channel_ids[0]!;
  const cases: Array<{ frame: Record<string, unknown>; field: string }> = [
    { frame: { type: 'send_message', ref: 'm1', channel_id: channelId }, field: '/content' },
    { frame: { type: 'send_message', ref: 'm2', channel_id: channelId, content: 'x'.repeat(4001) }, field: '/content' },
    { frame: { type: 'send_message', ref: 'm3', channel_id: channelId, content: 'hi', admin: true }, field: '/admin' },
    { frame: { type: 'send_message', ref: 'm4', channel_id: channelId, content: 'hi', nonce: 'n'.repeat(65) }, field: '/nonce' },
    { frame: { type: 'join', ref: 'j1', channel_id: 'general' }, field: '/channel_id' },
    { frame: { type: 'presence_update', ref: 'p1', status: 'away' }, field: '/status' },
    { frame: { type: 'mark_read', ref: 'r1', channel_id: channelId }, field: '/message_id' },
    { frame: { type: 'resume', ref: 'x1', token: ada.token, session_id: 'short', seq: 0 }, field: '/session_id' },
  ];
  for (const { frame, field } of cases) {
    const reply = await client.request(frame as Record<string, unknown> & { ref: string });
    t.equal(reply.type, 'error', `${frame.ref}: error frame`);
    if (reply.type !== 'error') continue;
    t.equal(reply.code, 'validation_failed');
    t.ok(reply.errors?.some((error) => error.field === field), `${frame.ref}: names ${field}`, { errors: reply.errors });
  }
  client.send({ type: 'ping', ref: 'x'.repeat(65) });
  const error = await client.next('error');
  t.notOk('ref' in error, 'an invalid ref is not echoed');
  t.same(await client.request({ type: 'ping', ref: 'still-open' }), { type: 'pong', ref: 'still-open' }, 'still open');
});

t.test('more than WS_RATE_LIMIT_FRAMES frames in the window closes 4008', async (t) => {
  const { api, baseUrl } = await build(t, { WS_RATE_LIMIT_FRAMES: 20, WS_RATE_LIMIT_WINDOW_MS: 60_000 });
  const ada = await register(api);
  const { client } = await connectReady(t, baseUrl, ada.token);
  for (let index = 0; index < 20; index += 1) client.send({ type: 'ping', ref: `p${index}` });
  await client.next((frame) => frame.type === 'pong' && frame.ref === 'p19');
  t.equal(client.closeInfo, undefined, '20 frames pass');
  client.send({ type: 'ping', ref: 'one-too-many' });
  t.equal((await client.closedWith()).code, 4008);
  t.notOk(client.frames.some((frame) => frame.type === 'pong' && frame.ref === 'one-too-many'), 'the 21st is not answered');
});

t.test('the default limit: 120 frames in 60 s pass, the 121st closes 4008', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client } = await connectReady(t, baseUrl, ada.token);
  for (let index = 0; index < 120; index += 1) client.send({ type: 'ping', ref: `p${index}` });
  await client.next((frame) => frame.type === 'pong' && frame.ref === 'p119');
  client.send({ type: 'ping' });
  t.equal((await client.closedWith()).code, 4008);
});

// The heartbeat tests drive the gateway's sweep by hand with chosen times: a 60 s interval keeps
// the real sweep (every 5 s, on the real clock) from acting within a test.
const HEARTBEAT_MS = 60_000;

t.test('heartbeat: frames keep the session; silence for more than 1.5 intervals closes 4009', async (t) => {
  const { app, api, baseUrl } = await build(t, { WS_HEARTBEAT_INTERVAL_MS: HEARTBEAT_MS });
  const ada = await register(api);
  const { client, hello } = await connectReady(t, baseUrl, ada.token);
  t.equal(hello.heartbeat_interval_ms, HEARTBEAT_MS);
  const [connection] = app.gateway.connections;
  for (let beat = 0; beat < 3; beat += 1) {
    const before = connection!.lastFrameAt;
    t.same(await client.request({ type: 'ping', ref: `hb${beat}` }), { type: 'pong', ref: `hb${beat}` });
    t.ok(connection!.lastFrameAt >= before, 'a frame moves the heartbeat forward');
    // Exactly 1.5 intervals of silence is still alive; the sync below proves the socket is open.
    app.gateway.sweep(connection!.lastFrameAt + HEARTBEAT_MS * 1.5);
    await client.sync();
  }
  t.equal(client.closeInfo, undefined, 'alive after 3 beats, each swept at 1.5 intervals of silence');
  app.gateway.sweep(connection!.lastFrameAt + HEARTBEAT_MS * 1.5 + 1);
  t.equal((await client.closedWith()).code, 4009, 'closed just past 1.5 intervals of silence');
});

t.test('the server sends protocol pings and drops a peer that stops answering them', async (t) => {
  const { app, api, baseUrl } = await build(t, { WS_HEARTBEAT_INTERVAL_MS: HEARTBEAT_MS });
  const ada = await register(api);
  const { client } = await connectReady(t, baseUrl, ada.token);
  // A peer that keeps sending frames but never answers protocol pings (its TCP side is broken).
  const { client: deaf } = await connectReady(t, baseUrl, ada.token, { autoPong: false, name: 'deaf' });
  let pings = 0;
  client.socket.on('ping', () => (pings += 1));
  let deafPings = 0;
  deaf.socket.on('ping', () => (deafPings += 1));
  // One ping round per heartbeat interval's worth of sweeps: this many sweeps hold exactly one.
  const pingRound = () => {
    for (let sweep = 0; sweep < Math.round(HEARTBEAT_MS / app.gateway.sweepIntervalMs); sweep += 1) app.gateway.sweep(Date.now());
  };
  pingRound();
  // The frame barrier: the client's automatic pong went out before its ping frame, so the server
  // has seen it; the deaf peer's frame shows the server saw its frame but no pong.
  await client.sync();
  await deaf.sync();
  t.equal(pings, 1, 'the answering peer got a protocol ping');
  t.equal(deafPings, 1, 'so did the deaf one');
  pingRound();
  const closed = await deaf.closedWith();
  t.equal(closed.code, 1006, 'the deaf peer is terminated at the next round without a close frame');
  await client.sync();
  t.equal(pings, 2, 'the answering peer got the next ping');
  t.equal(client.closeInfo, undefined, 'and stays', { closeInfo: client.closeInfo });
});
