/**
 * Baseline for the idle-sessions and fan-out scenarios: the simplest WebSocket server doing the
 * same visible work as Parley's gateway, with nothing else. Every connection gets `hello` and
 * `ready` (pre-serialised), `ping` is answered by `pong`, and `send_message` is broadcast to every
 * connection (one room) as one `message_created` frame serialised once, then acknowledged.
 * No authentication, no database, no per-session sequence numbers.
 *
 *   node bench/baselines/bare-ws-server.ts --port=9000 [--frame-bytes=518]
 * `--frame-bytes`: every `message_created` frame is made exactly this many bytes long (the content
 * is padded or cut after its `bench#n#` mark), the size of Parley's frame measured in the same run,
 * so both servers write the same bytes per delivery.
 * Prints one JSON line {"ready":true,"port":...} when listening.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';

const port = Number(process.argv.find((arg) => arg.startsWith('--port='))?.slice(7) ?? 0);
const frameBytes = Number(process.argv.find((arg) => arg.startsWith('--frame-bytes='))?.slice(14) ?? 0);

const author = {
  id: '7262148410531840001',
  username: 'bench_sender',
  display_name: 'Bench sender',
  role: 'client',
  active: true,
  created_at: '2026-11-21T05:12:50.123Z',
  updated_at: '2026-11-21T05:12:50.123Z',
  last_seen_at: null,
};
const channelId = '7262148410531840100';
const hello = Buffer.from(
  JSON.stringify({ type: 'hello', session_id: 'bare_0000000000', heartbeat_interval_ms: 30000, resume_window_ms: 120000 }),
);
const ready = Buffer.from(JSON.stringify({ type: 'ready', user: author, channel_ids: [channelId] }));
const pong = Buffer.from('{"type":"pong"}');
// Buffers are sent as text frames, like Parley's JSON frames.
const TEXT = { binary: false } as const;

const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 16 * 1024 });
let sequence = 0n;
const epoch = 1735689600000n;

server.on('connection', (socket) => {
  socket.send(hello, TEXT);
  socket.send(ready, TEXT);
  socket.on('message', (data: Buffer, isBinary) => {
    if (isBinary) return socket.close(4002);
    let frame: { type?: string; ref?: string; content?: string; nonce?: string };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return socket.close(4002);
    }
    if (frame.type === 'ping') {
      socket.send(frame.ref === undefined ? pong : JSON.stringify({ type: 'pong', ref: frame.ref }), TEXT);
    } else if (frame.type === 'send_message') {
      const id = (((BigInt(Date.now()) - epoch) << 22n) | (sequence++ % 4194304n)).toString();
      const message = {
        id,
        channel_id: channelId,
        author,
        content: String(frame.content ?? ''),
        nonce: frame.nonce ?? null,
        reply_to_id: null,
        created_at: new Date().toISOString(),
        edited_at: null,
      };
      // Serialised once, written to every socket as the same buffer.
      let text = JSON.stringify({ type: 'message_created', seq: 1, message });
      const missing = frameBytes > 0 ? frameBytes - Buffer.byteLength(text) : 0;
      if (missing !== 0) {
        // Pad or cut the content (ASCII in the benchmark; at most down to its `bench#n# ` mark).
        const mark = message.content.indexOf('# ', 6) + 2;
        message.content = missing > 0 ? message.content + 'x'.repeat(missing) : message.content.slice(0, Math.max(mark, message.content.length + missing));
        text = JSON.stringify({ type: 'message_created', seq: 1, message });
      }
      const event = Buffer.from(text);
      for (const client of server.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(event, TEXT);
      }
      socket.send(JSON.stringify({ type: 'ack', ref: frame.ref, message }));
    } else {
      socket.send(JSON.stringify({ type: 'ack', ref: frame.ref }));
    }
  });
});

server.on('listening', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  console.log(JSON.stringify({ ready: true, port: actual, pid: process.pid, id: randomUUID() }));
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    for (const client of server.clients) client.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
