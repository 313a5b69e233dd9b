import type { Test } from 'tap';
import WebSocket from 'ws';
import type { ServerFrame, ServerFrameByType, ServerFrameType } from '../../generated/asyncapi-types.ts';
import { isServerFrameType, serverEventFrameTypes, serverFrameValidators } from '../../generated/asyncapi-validators.js';
import { documentedCloseCodes } from './contract.ts';

/**
 * A real `ws` client for gateway tests. Every frame the server sends is checked against
 * asyncapi.yaml (type known, schema valid, JSON text) and the test fails on any violation; event
 * frames must carry consecutive `seq`s (no gap, no duplicate); every close code the server sends
 * must be one asyncapi.yaml documents.
 */
export interface ConnectOptions {
  /** `?token=` */
  token?: string;
  /** `Authorization: Bearer` */
  bearer?: string;
  /** `Cookie: parley_access=...` */
  cookie?: string;
  /** Extra query string (without `?`), e.g. `resume=1`. */
  query?: string;
  /** The seq the client has processed (when resuming): the next event must be seq + 1. */
  lastSeq?: number;
  /** Name in failure messages. */
  name?: string;
  /** `autoPong: false` makes the client ignore protocol pings (a dead peer). */
  autoPong?: boolean;
  /** The client's source address, e.g. `127.0.0.2` (another IP on the loopback network). */
  localAddress?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

const eventTypes = new Set<string>(serverEventFrameTypes);
/**
 * Codes `ws` reports for a close without a code on the wire: 1005 (a close frame without a code)
 * and 1006 (no close frame: the TCP connection ended, e.g. this client dropped it). RFC 6455
 * forbids sending either, so they are not in the spec's table.
 */
const noCodeOnTheWire = new Set([1005, 1006]);
type Predicate = (frame: ServerFrame) => boolean;
type Matcher<T extends ServerFrameType> = T | Predicate;

export class GatewayClient {
  readonly t: Test;
  readonly socket: WebSocket;
  readonly name: string;
  /** Every frame received, in order. */
  readonly frames: ServerFrame[] = [];
  /** The highest seq received. */
  lastSeq: number;
  readonly opened: Promise<void>;
  readonly closed: Promise<CloseInfo>;
  closeInfo: CloseInfo | undefined;
  #taken = new Set<number>();
  #waiters: Array<() => void> = [];
  #syncs = 0;

  constructor(t: Test, url: string, headers: Record<string, string>, options: ConnectOptions) {
    this.t = t;
    this.name = options.name ?? 'client';
    this.lastSeq = options.lastSeq ?? 0;
    this.socket = new WebSocket(url, {
      headers,
      autoPong: options.autoPong ?? true,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        if (!documentedCloseCodes.has(code) && !noCodeOnTheWire.has(code)) {
          this.t.fail(`${this.name}: close code ${code} (${this.closeInfo.reason}) is not documented in asyncapi.yaml`);
        }
        resolve(this.closeInfo);
        this.#wake();
      });
    });
    this.socket.on('error', () => {});
    this.socket.on('message', (data, isBinary) => this.#receive(data as Buffer, isBinary));
  }

  #receive(data: Buffer, isBinary: boolean): void {
    const { t, name } = this;
    if (isBinary) t.fail(`${name}: the server sent a binary frame`);
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString('utf8'));
    } catch {
      t.fail(`${name}: the server sent invalid JSON: ${data.toString('utf8').slice(0, 200)}`);
      return;
    }
    const type = (frame as { type?: unknown }).type;
    if (!isServerFrameType(type)) {
      t.fail(`${name}: unknown server frame type ${String(type)}`);
      return;
    }
    const validate = serverFrameValidators[type];
    if (!validate(frame)) {
      t.fail(`${name}: ${type} frame breaks asyncapi.yaml`, { frame, errors: validate.errors });
    }
    const typed = frame as ServerFrame;
    if (eventTypes.has(type)) {
      const seq = (typed as { seq: number }).seq;
      if (seq !== this.lastSeq + 1) t.fail(`${name}: ${type} has seq ${seq}, expected ${this.lastSeq + 1}`);
      this.lastSeq = seq;
    }
    this.frames.push(typed);
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  #find<T extends ServerFrameType>(matcher: Matcher<T>): number {
    const predicate: Predicate = typeof matcher === 'string' ? (frame) => frame.type === matcher : matcher;
    return this.frames.findIndex((frame, index) => !this.#taken.has(index) && predicate(frame));
  }

  /** Waits for the first not-yet-taken frame matching the type or predicate, and takes it. */
  next<T extends ServerFrameType>(matcher: T, timeoutMs?: number): Promise<ServerFrameByType[T]>;
  next(matcher: Predicate, timeoutMs?: number): Promise<ServerFrame>;
  async next(matcher: Matcher<ServerFrameType>, timeoutMs = 5_000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.#find(matcher);
      if (index !== -1) {
        this.#taken.add(index);
        return this.frames[index]!;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closeInfo) {
        throw new Error(
          `${this.name}: no ${typeof matcher === 'string' ? matcher : 'matching'} frame` +
            `${this.closeInfo ? ` (closed ${this.closeInfo.code} ${this.closeInfo.reason})` : ` within ${timeoutMs} ms`}; got ` +
            JSON.stringify(this.frames.map((frame) => frame.type)),
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Event frames (with seq) received so far, optionally only of some types. */
  events(...types: ServerFrameType[]): ServerFrame[] {
    return this.frames.filter((frame) => eventTypes.has(frame.type) && (types.length === 0 || types.includes(frame.type)));
  }

  /**
   * A barrier: a ping/pong round trip. The server writes a connection's frames in order, so every
   * frame it sent this connection before it answered the ping has arrived when the pong does.
   */
  async sync(): Promise<void> {
    this.#syncs += 1;
    const ref = `sync-${this.#syncs}`;
    const reply = await this.request({ type: 'ping', ref });
    if (reply.type !== 'pong') this.t.fail(`${this.name}: the sync ping got ${reply.type}`, { reply });
  }

  /**
   * Asserts that no frame matching has arrived by a ping/pong barrier (see `sync`), not by sleeping:
   * whatever the server did before it answered the ping (say, fanning out an event) is checked.
   */
  async expectNone(matcher: Matcher<ServerFrameType>, message: string): Promise<void> {
    await this.sync();
    const index = this.#find(matcher);
    this.t.equal(index, -1, message, { found: index === -1 ? null : this.frames[index] });
  }

  send(frame: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    this.socket.send(data, { binary: options.binary ?? false });
  }

  /** Sends a frame and waits for the reply carrying its `ref` (ack, error, pong, ready, resumed, invalid_session). */
  async request(frame: Record<string, unknown> & { ref: string }, timeoutMs?: number): Promise<ServerFrame> {
    this.send(frame);
    return this.next((reply) => (reply as { ref?: string }).ref === frame.ref && !eventTypes.has(reply.type), timeoutMs);
  }

  /** Waits for the server to close the connection. */
  async closedWith(timeoutMs = 5_000): Promise<CloseInfo> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: not closed within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes from the client side (normal closure) and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close(1000);
    await this.closed;
  }

  /** Drops the TCP connection without a close handshake (a network failure). */
  async drop(): Promise<void> {
    this.socket.terminate();
    await this.closed;
  }
}

export function gatewayUrl(baseUrl: string, query?: string): string {
  return `${baseUrl.replace(/^http/, 'ws')}/api/v1/ws${query ? `?${query}` : ''}`;
}

/** Opens a connection (and waits for it to open). Closed at the end of the test. */
export async function connect(t: Test, baseUrl: string, options: ConnectOptions = {}): Promise<GatewayClient> {
  const params = new URLSearchParams(options.query ?? '');
  if (options.token !== undefined) params.set('token', options.token);
  const headers: Record<string, string> = {};
  if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
  if (options.cookie !== undefined) headers.cookie = `parley_access=${options.cookie}`;
  const client = new GatewayClient(t, gatewayUrl(baseUrl, params.toString()), headers, options);
  t.teardown(() => {
    if (client.socket.readyState === WebSocket.OPEN || client.socket.readyState === WebSocket.CONNECTING) client.socket.terminate();
  });
  await client.opened;
  return client;
}

/** Connects with `?token=` and waits for `hello` and `ready`. */
export async function connectReady(t: Test, baseUrl: string, token: string, options: Omit<ConnectOptions, 'token'> = {}) {
  const client = await connect(t, baseUrl, { ...options, token });
  const hello = await client.next('hello');
  const ready = await client.next('ready');
  return { client, hello, ready };
}
