import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { serverFrameValidators } from '../../generated/asyncapi-validators.js';
import { checkWsInternals, GatewaySocket, type SocketOwner } from '../../src/gateway/gateway-socket.ts';
import { frameBytes, outboundEvent, wsFrame } from '../../src/gateway/outbound-event.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readJson = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;

/** A bare ws server whose sockets are GatewaySockets (as the gateway plugin configures it), on loopback. */
async function socketPair(t: Test) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, WebSocket: GatewaySocket as never });
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection') as Promise<[GatewaySocket, { socket: Socket }]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  t.teardown(() => client.terminate());
  const [[socket, request]] = await Promise.all([accepted, once(client, 'open')]);
  t.teardown(() => socket.terminate());
  const messages: string[] = [];
  const waiting: Array<(text: string) => void> = [];
  client.on('message', (data: RawData) => {
    const text = (data as Buffer).toString('utf8');
    const next = waiting.shift();
    if (next) next(text);
    else messages.push(text);
  });
  const nextMessage = () => (messages.length > 0 ? Promise.resolve(messages.shift()!) : new Promise<string>((resolve) => waiting.push(resolve)));
  return { socket, client, tcp: request.socket, nextMessage };
}

t.test('the installed ws has the private fields GatewaySocket.directStream reads, and package.json pins its minor version', async (t) => {
  t.doesNotThrow(() => checkWsInternals());
  const installed = (readJson('node_modules/ws/package.json').version as string).split('.');
  const pinned = (readJson('package.json').dependencies as Record<string, string>).ws;
  t.equal(pinned, `~${installed[0]}.${installed[1]}.0`, 'ws pinned with ~ to the minor version this test runs on');
});

t.test('checkWsInternals refuses a ws without those fields, naming them (table)', async (t) => {
  class Socket {
    _socket = null;
    _sender = null;
  }
  class Sender {
    _state = 0;
    _queue: unknown[] = [];
  }
  class SocketWithoutSender {
    _socket = null;
  }
  class BusySender {
    _state = 2;
    _queue: unknown[] = [];
  }
  class SenderWithoutQueue {
    _state = 0;
  }
  const cases = [
    { name: 'a WebSocket without _sender', ws: { WebSocket: SocketWithoutSender, Sender }, missing: /WebSocket\._sender/ },
    { name: 'a Sender not idle at first', ws: { WebSocket: Socket, Sender: BusySender }, missing: /Sender\._state/ },
    { name: 'a Sender without _queue', ws: { WebSocket: Socket, Sender: SenderWithoutQueue }, missing: /Sender\._queue/ },
  ];
  for (const c of cases) {
    t.throws(() => checkWsInternals(c.ws), { message: c.missing }, c.name);
    t.throws(() => checkWsInternals(c.ws), { message: /installed ws \(\d+\.\d+\.\d+\).*package\.json pins.*directStream/ }, `${c.name}: says what to do`);
  }
  t.doesNotThrow(() => checkWsInternals({ WebSocket: Socket, Sender }), 'all fields present');
});

t.test('directStream: the TCP socket while ws has nothing queued; pre-framed bytes written to it arrive as a frame', async (t) => {
  const { socket, tcp, nextMessage } = await socketPair(t);
  t.equal(socket.directStream(), tcp, 'the upgraded TCP socket');
  const event = outboundEvent('typing_started', { channel_id: '1', user_id: '2', at: new Date(0).toISOString() });
  socket.directStream()!.write(wsFrame(event, 7));
  const text = await nextMessage();
  t.equal(text, frameBytes(event, 7).toString('utf8'));
  const frame = JSON.parse(text) as unknown;
  t.ok(serverFrameValidators.typing_started(frame), 'a typing_started frame of asyncapi.yaml');
  t.match(frame, { type: 'typing_started', seq: 7 });
});

t.test('directStream: null while ws has a send of its own in progress (a Blob), the TCP socket again after it', async (t) => {
  const { socket, tcp, nextMessage } = await socketPair(t);
  const sent = new Promise<void>((resolve, reject) => socket.send(new Blob(['from ws']), (error) => (error ? reject(error) : resolve())));
  t.equal(socket.directStream(), null, 'ws is reading the Blob: writes must go through ws to keep the order');
  await sent;
  t.equal(await nextMessage(), 'from ws');
  t.equal(socket.directStream(), tcp, 'idle again');
});

t.test('attach routes messages, pongs and the close to the owner; ws payload close codes become 4002', async (t) => {
  const { socket, client } = await socketPair(t);
  const seen: string[] = [];
  let closed: (code: number) => void = () => {};
  const closedCode = new Promise<number>((resolve) => {
    closed = resolve;
  });
  let ponged: () => void = () => {};
  const pong = new Promise<void>((resolve) => {
    ponged = resolve;
  });
  const owner: SocketOwner = {
    received: (data) => seen.push((data as Buffer).toString('utf8')),
    socketClosed: (code) => closed(code),
    pongReceived: () => ponged(),
    socketError: () => {},
  };
  socket.attach(owner);
  t.equal(socket.connection, owner);
  socket.ping();
  await pong;
  client.send('hi');
  // A round trip: the client's pong answers a ping sent after 'hi', so 'hi' has been received.
  socket.ping();
  await once(socket, 'pong');
  t.same(seen, ['hi']);
  const clientClose = once(client, 'close') as Promise<[number, Buffer]>;
  socket.close(1009, 'too big');
  const [code] = await clientClose;
  t.equal(code, 4002, '1009 from ws is the contract 4002');
  t.equal(await closedCode, 4002);
});
