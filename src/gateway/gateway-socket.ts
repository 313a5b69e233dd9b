import { createRequire } from 'node:module';
import * as wsModule from 'ws';
import { WebSocket, type RawData } from 'ws';
import { CloseCode } from './gateway-protocol.ts';

/**
 * `ws` closes on its own with 1009 (frame over maxPayload) and 1007 (invalid UTF-8); the contract
 * says 4002 for both. The gateway itself never closes with these codes.
 */
const PAYLOAD_CLOSE_CODES = new Set([1007, 1009]);

/** What a socket's events go to (the gateway connection, gateway-connection.ts). */
export interface SocketOwner {
  received(data: RawData, isBinary: boolean): void;
  socketClosed(code: number): void;
  pongReceived(): void;
  /** Logged only: the socket is dropped by whoever listens for 'error' (gateway-plugin.ts). */
  socketError(error: Error): void;
}

// Listeners shared by every socket: `this` is the socket, which finds its owner.
function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  (this as GatewaySocket).connection?.received(data, isBinary);
}

function onSocketClose(this: WebSocket, code: number): void {
  (this as GatewaySocket).connection?.socketClosed(code);
}

function onSocketPong(this: WebSocket): void {
  (this as GatewaySocket).connection?.pongReceived();
}

/**
 * The private fields of `ws` that `directStream` reads (checked by `checkWsInternals` at start,
 * test/gateway/gateway-socket.test.ts; `ws` is pinned to the minor version that test ran on).
 */
interface WsInternals {
  _socket: NodeJS.WritableStream | null;
  _sender: { _state: number; _queue: unknown[] } | null;
}

/** Sender's `_state` when it is not busy compressing or reading a Blob (lib/sender.js DEFAULT). */
const SENDER_IDLE = 0;

/**
 * The server-side socket class the gateway's `ws` server creates (its `WebSocket` option). It
 * carries its connection, so every socket shares one listener function per event (which finds
 * the connection through `this`) instead of holding closures of its own: an idle session's memory
 * is mostly what `ws` and the TCP socket need.
 */
export class GatewaySocket extends WebSocket {
  connection: SocketOwner | null = null;

  /** Routes this socket's messages, close and pongs to `owner`. */
  attach(owner: SocketOwner): void {
    this.connection = owner;
    this.on('message', onSocketMessage);
    this.on('close', onSocketClose);
    this.on('pong', onSocketPong);
  }

  override close(code?: number, data?: string | Buffer): void {
    super.close(code !== undefined && PAYLOAD_CLOSE_CODES.has(code) ? CloseCode.invalidPayload : code, data);
  }

  /**
   * The fan-out's hot path: the TCP socket, when `ws` has nothing of its own queued (it queues only
   * for compression, which is off, and Blobs, which the gateway never sends), else null. Bytes
   * written to it (complete frames, outbound-event.ts wsFrame) go out in the same stream and order
   * as ws's own writes, one write per recipient. The only place that reads ws's private fields.
   */
  directStream(): NodeJS.WritableStream | null {
    const { _socket: raw, _sender: sender } = this as unknown as WsInternals;
    return raw && sender && sender._state === SENDER_IDLE && sender._queue.length === 0 ? raw : null;
  }
}

type Constructor = new (...args: never[]) => object;
/** ws exports its Sender class; @types/ws does not declare it. */
const { Sender } = wsModule as unknown as { Sender: Constructor };

/** The installed ws's version (for the error below). */
function wsVersion(): string {
  try {
    return (createRequire(import.meta.url)('ws/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Fails fast when the installed `ws` lacks the private fields `directStream` reads: a server
 * socket has `_socket` and `_sender`, a Sender starts idle (`_state` 0) with an empty `_queue`.
 * Called when the gateway plugin registers (the app does not start without them).
 */
export function checkWsInternals(ws: { WebSocket: Constructor; Sender: Constructor } = { WebSocket, Sender }): void {
  const missing: string[] = [];
  const socket = new (ws.WebSocket as unknown as new (address: null, protocols: undefined, options: object) => object)(null, undefined, {});
  for (const field of ['_socket', '_sender']) if (!(field in socket)) missing.push(`WebSocket.${field}`);
  const sender = new (ws.Sender as unknown as new (socket: object) => Record<string, unknown>)({});
  if (sender._state !== SENDER_IDLE) missing.push('Sender._state (0 when idle)');
  if (!Array.isArray(sender._queue)) missing.push('Sender._queue (an array)');
  if (missing.length > 0) {
    throw new Error(
      `The installed ws (${wsVersion()}) lacks private fields the gateway's fan-out reads (${missing.join(', ')}): ` +
        'install the version package.json pins, or update GatewaySocket.directStream (src/gateway/gateway-socket.ts) for this one.',
    );
  }
}
