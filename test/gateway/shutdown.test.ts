// Shutdown (SIGTERM -> app.close()): frames in progress finish and their replies go out, then every
// socket closes with 1012 so clients reconnect and resume.
import t from 'tap';
import { build, register, TEST_METRICS_TOKEN } from '../helpers/build.ts';
import { createRoom } from '../helpers/chat.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';

t.test('app close: queued frames are flushed, then 1012', async (t) => {
  const { app, api, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);
  const waiting = await connect(t, baseUrl, { name: 'unauthenticated' });
  await waiting.next('hello');

  // Sends in flight when the shutdown starts are committed and acknowledged before the close.
  for (let index = 0; index < 5; index += 1) {
    client.send({ type: 'send_message', ref: `m${index}`, channel_id: room.id, content: `last words ${index}` });
  }
  // The pong proves the five frames reached the server (pings are answered on arrival, sends queue).
  await client.request({ type: 'ping', ref: 'received' });
  t.ok(client.frames.filter((frame) => frame.type === 'ack').length < 5, 'sends still in progress when the shutdown starts');
  const closing = app.close();
  const closed = await client.closedWith(10_000);
  t.equal(closed.code, 1012, 'service restart');
  const acks = client.frames.filter((frame) => frame.type === 'ack');
  t.equal(acks.length, 5, 'every queued send was acknowledged before the close');
  t.equal(client.events('message_created').length, 5, 'and its event delivered');
  t.equal((await waiting.closedWith()).code, 1012, 'unauthenticated sockets close with 1012 too');
  await closing;
});

t.test('metrics: sessions, frames in and out by type, closes by code, fan-out latency', async (t) => {
  const { api, baseUrl } = await build(t, { METRICS_TOKEN: TEST_METRICS_TOKEN });
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);
  await client.request({ type: 'send_message', ref: 'm', channel_id: room.id, content: 'measured' });
  const doomed = await connect(t, baseUrl);
  doomed.sendRaw('not json');
  await doomed.closedWith();

  const metrics = (await api('GET', '/metrics', { token: TEST_METRICS_TOKEN })).text;
  t.match(metrics, /parley_ws_sessions 1\b/, 'one connected session');
  t.match(metrics, /parley_ws_frames_in_total\{type="send_message"\} 1\b/);
  t.match(metrics, /parley_ws_frames_out_total\{type="message_created"\} 1\b/);
  t.match(metrics, /parley_ws_frames_out_total\{type="ack"\} 1\b/);
  t.match(metrics, /parley_ws_frames_out_total\{type="hello"\} 2\b/);
  t.match(metrics, /parley_ws_closes_total\{code="4002"\} 1\b/);
  t.match(metrics, /parley_ws_fanout_latency_seconds_count 1\b/);
  // Observed, not timed: how fast a fan-out is belongs in `npm run bench`, not in a test.
  const latency = Number(/^parley_ws_fanout_latency_seconds_sum (\S+)$/m.exec(metrics)?.[1]);
  t.ok(Number.isFinite(latency) && latency >= 0, `the fan-out latency was recorded (${latency} s)`);
  t.match(metrics, /parley_ws_fanout_latency_seconds_bucket\{le="\+Inf"\} 1\b/, 'in the histogram');
});
