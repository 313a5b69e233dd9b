// Memory per gateway client is bounded: a client that stops reading while its channel receives 4 KB
// messages is closed with 4010 (slow consumer) once WS_MAX_BUFFERED_BYTES of frames wait for it,
// instead of the server buffering without limit. The other members get every message, in order;
// the slow session stays resumable and its resume replays what it had not read. A client that never
// reads again is destroyed after WS_CLOSE_TIMEOUT_MS, which frees its buffer.
import { once } from 'node:events';
import t from 'tap';
import type { Test } from 'tap';
import type { ServerFrame } from '../../generated/asyncapi-types.ts';
import { build, register, TEST_METRICS_TOKEN, type Registered, type TestApp } from '../helpers/build.ts';
import { createRoom, join, send } from '../helpers/chat.ts';
import { connect, connectReady, type GatewayClient } from '../helpers/gateway-client.ts';

const LIMIT = 64 * 1024;
/** Bound on the traffic a test generates (about 12 MB): far more than socket buffers and LIMIT hold. */
const MAX_MESSAGES = 3_000;
const BATCH = 20;

/** Message `index`: 4000 characters, numbered so order can be checked. */
const contentOf = (index: number) => `m${index} `.padEnd(4000, 'x');
const contents = (frames: ServerFrame[]) =>
  frames.flatMap((frame) => (frame.type === 'message_created' ? [frame.message.content.split(' ')[0]!] : []));

/** The server side of the client whose `hello` announced `sessionId`. */
function serverConnection(app: TestApp['app'], sessionId: string) {
  const found = [...app.gateway.connections].find((connection) => connection.helloId === sessionId);
  if (!found) throw new Error(`no server connection for ${sessionId}`);
  return found;
}

interface Flood {
  sent: number;
  /** The largest server-side bufferedAmount of the slow connection, sampled right after every fan-out. */
  maxBuffered: number;
  rssBefore: number;
  rssAfter: number;
}

/**
 * Sends 4 KB messages into the room (BATCH at a time) until the slow connection is closed by the
 * server or MAX_MESSAGES were sent, sampling the connection's buffer after every event's fan-out.
 */
async function flood(t: Test, built: TestApp, author: Registered, roomId: string, slow: ReturnType<typeof serverConnection>): Promise<Flood> {
  const result: Flood = { sent: 0, maxBuffered: 0, rssBefore: process.memoryUsage().rss, rssAfter: 0 };
  const stop = built.app.events.subscribe(() => {
    result.maxBuffered = Math.max(result.maxBuffered, slow.socket.bufferedAmount);
  });
  t.teardown(stop);
  while (!slow.isClosed() && result.sent < MAX_MESSAGES) {
    const batch = Array.from({ length: BATCH }, (_, offset) => contentOf(result.sent + offset));
    result.sent += BATCH;
    await Promise.all(batch.map((content) => send(built.api, author, roomId, content)));
  }
  stop();
  result.rssAfter = process.memoryUsage().rss;
  t.comment(
    `sent ${result.sent} messages; slow connection's buffer peaked at ${result.maxBuffered} bytes (limit ${LIMIT}); ` +
      `test process RSS ${(result.rssBefore / 1048576).toFixed(1)} -> ${(result.rssAfter / 1048576).toFixed(1)} MiB`,
  );
  return result;
}

async function setUp(t: Test, overrides: Parameters<typeof build>[1]) {
  // No heartbeat timeout during the flood (the clients here send no pings; a loaded machine is slow).
  const built = await build(t, {
    WS_MAX_BUFFERED_BYTES: LIMIT,
    WS_RESUME_MAX_EVENTS: MAX_MESSAGES + 100,
    WS_HEARTBEAT_INTERVAL_MS: 600_000,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    ...overrides,
  });
  const { api, baseUrl } = built;
  const [ada, bob, cat] = await Promise.all([register(api), register(api), register(api)]);
  const room = await createRoom(api, ada!);
  await join(api, room.id, bob!);
  await join(api, room.id, cat!);
  const { client: slow, hello } = await connectReady(t, baseUrl, bob!.token, { name: 'slow' });
  const { client: reader } = await connectReady(t, baseUrl, cat!.token, { name: 'reader' });
  const server = serverConnection(built.app, hello.session_id);
  // Stop reading: the server's writes fill the kernel's socket buffers, then its own.
  slow.socket.pause();
  return { built, ...built, ada: ada!, bob: bob!, room, slow, reader, server, sessionId: hello.session_id };
}

/** Resumes `sessionId` on a new connection from the last seq `previous` processed; returns it. */
async function resumeFrom(t: Test, baseUrl: string, bob: Registered, sessionId: string, previous: GatewayClient) {
  const again = await connect(t, baseUrl, { name: 'resumed', lastSeq: previous.lastSeq });
  await again.next('hello');
  const reply = await again.request({ type: 'resume', ref: 'r', token: bob.token, session_id: sessionId, seq: previous.lastSeq });
  t.equal(reply.type, 'resumed', 'the session is resumable after the slow-consumer close');
  return again;
}

t.test('a client that stops reading is closed with 4010 at the buffer limit; others get every message; resume replays the rest', async (t) => {
  // A long close timeout: the client reads again before the server would give up on the handshake.
  const { built, api, baseUrl, ada, bob, room, slow, reader, server, sessionId } = await setUp(t, { WS_CLOSE_TIMEOUT_MS: 60_000 });
  const result = await flood(t, built, ada, room.id, server);

  t.ok(server.isClosed(), `the server closed the slow connection (after ${result.sent} messages)`);
  const frameBytes = 4000 + 1024;
  t.ok(result.maxBuffered <= LIMIT + frameBytes, `its buffer never exceeded the limit plus one frame (peak ${result.maxBuffered} bytes)`);

  // The client reads again: what was queued, then the close frame.
  slow.socket.resume();
  const closed = await slow.closedWith(20_000);
  t.equal(closed.code, 4010, 'closed with 4010 slow consumer');
  t.equal(closed.reason, 'slow consumer', 'with its reason');

  // Every other member received every message; a live sequence without gaps (checked by the client helper).
  const last = `m${result.sent - 1}`;
  const expected = Array.from({ length: result.sent }, (_, index) => `m${index}`);
  await reader.next((frame) => frame.type === 'message_created' && contents([frame])[0] === last, 20_000);
  const readerView = contents(reader.events('message_created'));
  t.same([...readerView].sort(), [...expected].sort(), 'the reading member received every message exactly once');

  // Resume: the replay continues exactly where the slow client stopped reading.
  const again = await resumeFrom(t, baseUrl, bob, sessionId, slow);
  const slowView = [...contents(slow.events('message_created')), ...contents(again.events('message_created'))];
  t.ok(contents(again.events('message_created')).length > 0, 'the resume replayed the messages the client had not read');
  t.same(slowView, readerView, 'read + replayed = what the other member saw, in the same order, no gap, no duplicate');

  const metrics = (await api('GET', '/metrics', { token: TEST_METRICS_TOKEN })).text;
  t.match(metrics, /parley_ws_closes_total\{code="4010"\} 1\b/, 'counted in parley_ws_closes_total');
});

t.test('a client that never reads again is destroyed after WS_CLOSE_TIMEOUT_MS; its session still resumes', async (t) => {
  const { built, baseUrl, ada, bob, room, slow, server, sessionId } = await setUp(t, { WS_CLOSE_TIMEOUT_MS: 200 });
  const socketClosed = server.socket.readyState === 3 ? Promise.resolve() : once(server.socket, 'close');
  const result = await flood(t, built, ada, room.id, server);
  t.ok(server.isClosed(), `the server closed the slow connection (after ${result.sent} messages)`);

  // The close frame cannot get through a client that does not read: the socket is destroyed instead.
  let timer: NodeJS.Timeout | undefined;
  const destroyed = await Promise.race([
    socketClosed.then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), 15_000);
    }),
  ]);
  clearTimeout(timer);
  t.ok(destroyed, 'the server-side socket closed although the client never answered the close');
  const raw = (server.socket as unknown as { _socket: { destroyed: boolean; writableLength: number } })._socket;
  t.ok(raw.destroyed, 'its TCP socket is destroyed (its buffer freed)');

  slow.socket.resume();
  await slow.closedWith(20_000);
  const again = await resumeFrom(t, baseUrl, bob, sessionId, slow);
  const replayed = contents(again.events('message_created'));
  const seen = [...contents(slow.events('message_created')), ...replayed];
  t.same([...seen].sort(), Array.from({ length: result.sent }, (_, index) => `m${index}`).sort(), 'read + replayed = every message');
  t.equal(new Set(seen).size, seen.length, 'no duplicates');
});

t.test('a resume that replays more than the limit at once is not a slow consumer', async (t) => {
  const missed = 500;
  const { api, baseUrl } = await build(t, { WS_MAX_BUFFERED_BYTES: LIMIT, WS_RESUME_MAX_EVENTS: missed + 100, WS_HEARTBEAT_INTERVAL_MS: 600_000 });
  const [ada, bob] = await Promise.all([register(api), register(api)]);
  const room = await createRoom(api, ada!);
  await join(api, room.id, bob!);
  const { client: first, hello } = await connectReady(t, baseUrl, bob!.token, { name: 'first' });
  await first.drop();
  // 6 MB missed (4000 three-byte characters a message): more than loopback's socket buffers take at
  // once (about 4 MB), so the replay, queued in one go, leaves far more than LIMIT in the process.
  const bigContentOf = (index: number) => `m${index} `.padEnd(4000, '€');
  for (let start = 0; start < missed; start += BATCH) {
    await Promise.all(Array.from({ length: BATCH }, (_, offset) => send(api, ada!, room.id, bigContentOf(start + offset))));
  }
  const again = await resumeFrom(t, baseUrl, bob!, hello.session_id, first);
  await send(api, ada!, room.id, bigContentOf(missed));
  await again.next((frame) => frame.type === 'message_created' && contents([frame])[0] === `m${missed}`, 20_000);
  t.equal(again.closeInfo, undefined, 'still open after the replay and a live message');
  const seen = [...contents(first.events('message_created')), ...contents(again.events('message_created'))];
  t.same([...seen].sort(), Array.from({ length: missed + 1 }, (_, index) => `m${index}`).sort(), 'every message once');
});
