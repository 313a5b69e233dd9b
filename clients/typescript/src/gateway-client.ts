import { backoffDelay, type BackoffOptions } from './backoff.ts';
import { ParleyGatewayError } from './errors.ts';
import type {
  AckFrame,
  ClientFrame,
  ErrorFrame,
  HelloFrame,
  Message,
  ReadyFrame,
  ServerFrame,
  ServerFrameByType,
  SettablePresenceStatus,
} from './generated/asyncapi.ts';
import { MessageCursor } from './message-cursor.ts';
import type { ParleyClient } from './rest-client.ts';

/** The part of the WebSocket API the gateway uses: the browser's and Node's global WebSocket fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

/** Timers and randomness, injectable so tests control reconnect delays. */
export interface GatewayClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
  random(): number;
}

export interface GatewayOptions {
  /** Opens a socket; default `new WebSocket(url)` (global). */
  webSocket?: WebSocketFactory;
  backoff?: BackoffOptions;
  clock?: Partial<GatewayClock>;
  /**
   * Catch up on each channel's history at connect and after an unresumable disconnect, so that
   * `message` sees every message exactly once (default true). False: live frames only.
   */
  catchUp?: boolean;
}

/** SDK-level events, next to one event per server frame type. */
export interface GatewaySdkEvents {
  /**
   * Every message of the user's channels exactly once, in each channel's history order: live
   * `message_created` frames, frames replayed by `resume`, and messages fetched from history after
   * an unresumable disconnect (`recovered: true`), with copies dropped.
   */
  message: { message: Message; recovered: boolean };
  /** The connection is usable: after `ready` (fresh session) or `resumed`. */
  connected: { resumed: boolean; replayed: number };
  /** The socket closed; `willReconnect` tells whether the client tries again. */
  disconnected: { code: number; reason: string; willReconnect: boolean };
  /** The client gave up for good (closed by the app, or a close code that retrying cannot fix). */
  closed: { error: ParleyGatewayError | null };
}

export type GatewayEventMap = ServerFrameByType & GatewaySdkEvents;
export type GatewayEventType = keyof GatewayEventMap;
type Listener<K extends GatewayEventType> = (event: GatewayEventMap[K]) => void;

export type GatewayState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'closed';

/** Close codes after which reconnecting would fail the same way (a client bug or a refusal). */
const FATAL_CLOSE_CODES = new Set([4001, 4002, 4003, 4005]);
const AUTH_FAILED = 4004;
const INVALID_SEQ = 4007;
const OPEN = 1;

interface PendingSend {
  frame: Extract<ClientFrame, { type: 'send_message' }> & { ref: string };
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
}

interface PendingCommand {
  resolve: (frame: AckFrame) => void;
  reject: (error: Error) => void;
}

/**
 * The gateway client: connects with the stored access token, sends `ping` every
 * `heartbeat_interval_ms`, and after a dropped connection reconnects with backoff and `resume`s the
 * session (the server replays every missed event). When the session cannot be resumed it starts a
 * fresh one and fetches each channel's missed messages from history. `sendMessage` carries a
 * nonce and is sent again after a reconnect until acked: the server stores one copy per nonce.
 */
export class ParleyGateway {
  readonly #client: ParleyClient;
  readonly #open: WebSocketFactory;
  readonly #backoff: BackoffOptions;
  readonly #clock: GatewayClock;
  readonly #catchUp: boolean;
  readonly #listeners = new Map<GatewayEventType, Set<Listener<any>>>();
  readonly #cursor = new MessageCursor();
  readonly #pendingSends = new Map<string, PendingSend>();
  readonly #pendingCommands = new Map<string, PendingCommand>();

  #state: GatewayState = 'idle';
  #socket: WebSocketLike | null = null;
  /** The `session_id` of the current connection's `hello`: a fresh session there gets this id. */
  #helloId: string | null = null;
  /** The resumable session: its id and the highest seq the app has been given. */
  #sessionId: string | null = null;
  #lastSeq = 0;
  #attempt = 0;
  #refs = 0;
  #retryTimer: unknown = null;
  #heartbeatTimer: unknown = null;
  #authRetried = false;
  /** Events held back while history is fetched (so live copies come after the recovered ones). */
  #held: ServerFrame[] | null = null;
  /** A catch-up is owed (set at a fresh session; cleared when one completes). */
  #catchUpOwed = false;
  #channels = new Set<string>();
  #firstConnect: { resolve: (ready: ReadyFrame) => void; reject: (error: Error) => void } | null = null;
  #ready: ReadyFrame | null = null;

  constructor(client: ParleyClient, options: GatewayOptions = {}) {
    this.#client = client;
    this.#open = options.webSocket ?? ((url) => new globalThis.WebSocket(url) as unknown as WebSocketLike);
    this.#backoff = options.backoff ?? {};
    this.#catchUp = options.catchUp ?? true;
    this.#clock = {
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
      now: () => Date.now(),
      random: () => Math.random(),
      ...options.clock,
    };
  }

  get state(): GatewayState {
    return this.#state;
  }

  /** The user and channels of the current session (from the last `ready`). */
  get session(): { sessionId: string | null; lastSeq: number; ready: ReadyFrame | null } {
    return { sessionId: this.#sessionId, lastSeq: this.#lastSeq, ready: this.#ready };
  }

  // ───────────────────────────── events

  on<K extends GatewayEventType>(type: K, listener: Listener<K>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => this.off(type, listener);
  }

  off<K extends GatewayEventType>(type: K, listener: Listener<K>): void {
    this.#listeners.get(type)?.delete(listener);
  }

  #emit<K extends GatewayEventType>(type: K, event: GatewayEventMap[K]): void {
    for (const listener of [...(this.#listeners.get(type) ?? [])]) {
      try {
        listener(event);
      } catch (error) {
        // A throwing listener must not break delivery to the others or the protocol state.
        globalThis.queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  // ───────────────────────────── lifecycle

  /** Opens the connection; resolves with the first `ready`. Reconnects on its own afterwards. */
  connect(): Promise<ReadyFrame> {
    if (this.#state !== 'idle') return Promise.reject(new ParleyGatewayError('invalid_state', `connect() in state ${this.#state}`));
    this.#state = 'connecting';
    return new Promise((resolve, reject) => {
      this.#firstConnect = { resolve, reject };
      // Positions first, then the session: what commits in between is fetched after `ready`.
      const start = this.#catchUp ? this.#baseline() : Promise.resolve();
      start.then(
        () => {
          if (this.#state === 'connecting') this.#dial();
        },
        (error: unknown) => this.#finish(error instanceof ParleyGatewayError ? error : new ParleyGatewayError('history_failed', String(error))),
      );
    });
  }

  /** Closes for good: pending sends are rejected; no reconnect. */
  close(): void {
    this.#finish(null);
  }

  #dial(): void {
    this.#state = 'connecting';
    // `?resume=1` makes the server ignore upgrade credentials (a browser sends the access cookie
    // by itself): every connection then authenticates with a frame, `authorization` or `resume`.
    const url = `${this.#client.baseUrl.replace(/^http/, 'ws')}/api/v1/ws?resume=1`;
    let socket: WebSocketLike;
    try {
      socket = this.#open(url);
    } catch (error) {
      this.#scheduleReconnect();
      return;
    }
    this.#socket = socket;
    this.#helloId = null;
    let lastFrameAt = this.#clock.now();
    socket.onmessage = (event) => {
      if (this.#socket !== socket) return;
      lastFrameAt = this.#clock.now();
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(event.data)) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === 'hello') {
        this.#helloId = frame.session_id;
        this.#emit('hello', frame);
        this.#startHeartbeat(socket, frame, () => lastFrameAt);
        void this.#authenticate(socket);
      } else this.#receive(socket, frame);
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket) return;
      this.#dropped(event.code, event.reason);
    };
    socket.onerror = () => {};
  }

  /** `resume` the session if there is one, else `authorization` for a new one. */
  async #authenticate(socket: WebSocketLike): Promise<void> {
    const token = await this.#client.accessToken();
    if (this.#socket !== socket) return;
    if (token === null) {
      this.#finish(new ParleyGatewayError('not_authenticated', 'no access token: log in first'));
      return;
    }
    if (this.#sessionId !== null) {
      this.#write(socket, { type: 'resume', ref: this.#ref('resume'), token, session_id: this.#sessionId, seq: this.#lastSeq });
    } else {
      this.#write(socket, { type: 'authorization', ref: this.#ref('auth'), token });
    }
  }

  #startHeartbeat(socket: WebSocketLike, hello: HelloFrame, lastFrameAt: () => number): void {
    const interval = hello.heartbeat_interval_ms;
    const beat = () => {
      if (this.#socket !== socket) return;
      // Nothing at all from the server for two intervals (not even the pong): a dead connection.
      if (this.#clock.now() - lastFrameAt() > interval * 2) {
        this.#abandon(socket, 4009, 'no frame from the server within two heartbeat intervals');
        return;
      }
      this.#write(socket, { type: 'ping' });
      this.#heartbeatTimer = this.#clock.setTimeout(beat, interval);
    };
    if (this.#heartbeatTimer !== null) this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = this.#clock.setTimeout(beat, interval);
  }

  /** Stops listening to a socket and handles it as dropped (it may never report its close). */
  #abandon(socket: WebSocketLike, code: number, reason: string): void {
    try {
      socket.close(1000);
    } catch {
      // already closing
    }
    if (this.#socket === socket) this.#dropped(code, reason);
  }

  #dropped(code: number, reason: string): void {
    this.#socket = null;
    if (this.#heartbeatTimer !== null) this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    // Held events were never given to the app, and #lastSeq does not count them: the resume
    // replays them. A catch-up in progress stays owed.
    this.#held = null;
    for (const pending of this.#pendingCommands.values()) {
      pending.reject(new ParleyGatewayError('disconnected', 'the connection dropped before the reply', { closeCode: code }));
    }
    this.#pendingCommands.clear();
    if (this.#state === 'closed') return;
    if (FATAL_CLOSE_CODES.has(code)) {
      this.#emit('disconnected', { code, reason, willReconnect: false });
      this.#finish(new ParleyGatewayError('fatal_close', `the server closed the connection with ${code} ${reason}`, { closeCode: code }));
      return;
    }
    if (code === INVALID_SEQ) this.#sessionId = null;
    if (code === AUTH_FAILED) {
      // The token expired or was revoked: renew once; if that fails, the session is over.
      if (this.#authRetried) {
        this.#emit('disconnected', { code, reason, willReconnect: false });
        this.#finish(new ParleyGatewayError('fatal_close', 'authentication failed', { closeCode: code }));
        return;
      }
      this.#authRetried = true;
      this.#emit('disconnected', { code, reason, willReconnect: true });
      this.#state = 'waiting';
      void this.#client.refresh().then(
        (tokens) => {
          if (this.#state !== 'waiting') return;
          if (tokens === null) this.#finish(new ParleyGatewayError('fatal_close', 'authentication failed and the refresh token was refused', { closeCode: code }));
          else this.#dial();
        },
        () => this.#scheduleReconnect(),
      );
      return;
    }
    this.#emit('disconnected', { code, reason, willReconnect: true });
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed') return;
    this.#state = 'waiting';
    const delay = backoffDelay(this.#attempt, () => this.#clock.random(), this.#backoff);
    this.#attempt += 1;
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = null;
      if (this.#state === 'waiting') this.#dial();
    }, delay);
  }

  #finish(error: ParleyGatewayError | null): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    if (this.#retryTimer !== null) this.#clock.clearTimeout(this.#retryTimer);
    if (this.#heartbeatTimer !== null) this.#clock.clearTimeout(this.#heartbeatTimer);
    const socket = this.#socket;
    this.#socket = null;
    if (socket && socket.readyState <= OPEN) socket.close(1000);
    const reason = error ?? new ParleyGatewayError('closed', 'the gateway client was closed');
    for (const pending of this.#pendingSends.values()) pending.reject(reason);
    this.#pendingSends.clear();
    for (const pending of this.#pendingCommands.values()) pending.reject(reason);
    this.#pendingCommands.clear();
    this.#firstConnect?.reject(reason);
    this.#firstConnect = null;
    this.#emit('closed', { error });
  }

  // ───────────────────────────── frames in

  #receive(socket: WebSocketLike, frame: ServerFrame): void {
    switch (frame.type) {
      case 'ready':
        this.#onReady(socket, frame);
        return;
      case 'resumed':
        this.#emit('resumed', frame);
        this.#online(socket, true, frame.replayed);
        return;
      case 'invalid_session':
        this.#emit('invalid_session', frame);
        if (frame.resumable) {
          // The session is still attached to a closing connection: ask again shortly.
          this.#clock.setTimeout(() => {
            if (this.#socket === socket) void this.#authenticate(socket);
          }, backoffDelay(0, () => this.#clock.random(), this.#backoff));
        } else {
          // Gone for good: a new session on this same connection, then history fills the gap.
          this.#sessionId = null;
          void this.#authenticate(socket);
        }
        return;
      case 'ack':
      case 'error':
        this.#reply(frame);
        this.#emit(frame.type, frame as never);
        return;
      default:
        if ('seq' in frame && typeof frame.seq === 'number') {
          if (this.#held !== null) this.#held.push(frame);
          else this.#event(frame);
        } else {
          this.#emit(frame.type, frame as never);
        }
    }
  }

  #onReady(socket: WebSocketLike, ready: ReadyFrame): void {
    this.#sessionId = this.#helloId;
    this.#lastSeq = 0;
    this.#ready = ready;
    this.#channels = new Set(ready.channel_ids);
    this.#catchUpOwed = this.#catchUp;
    this.#emit('ready', ready);
    this.#online(socket, false, 0);
  }

  /** Authenticated (fresh or resumed): catch up if owed, then resend unacked messages. */
  #online(socket: WebSocketLike, resumed: boolean, replayed: number): void {
    this.#attempt = 0;
    this.#authRetried = false;
    // 'ready' only once missed messages are in: commands wait for the catch-up (sends queue).
    const done = () => {
      if (this.#socket !== socket) return;
      this.#state = 'ready';
      for (const pending of this.#pendingSends.values()) this.#write(socket, pending.frame);
      if (this.#ready && this.#firstConnect) {
        this.#firstConnect.resolve(this.#ready);
        this.#firstConnect = null;
      }
      this.#emit('connected', { resumed, replayed });
    };
    if (!this.#catchUpOwed) {
      done();
      return;
    }
    this.#held = [];
    void this.#fetchMissed(socket).then(
      () => {
        if (this.#socket !== socket) return;
        this.#catchUpOwed = false;
        const held = this.#held ?? [];
        this.#held = null;
        for (const frame of held) this.#event(frame);
        done();
      },
      () => {
        // History could not be read (network): start over on a new connection.
        if (this.#socket === socket) this.#abandon(socket, 1006, 'history catch-up failed');
      },
    );
  }

  /** An event frame, in seq order: count it, then give it to the app (messages at most once). */
  #event(frame: ServerFrame): void {
    this.#lastSeq = (frame as { seq: number }).seq;
    if (frame.type === 'message_created') {
      const fresh = this.#cursor.advance(frame.message.channel_id, frame.message.id);
      if (!fresh) return;
      this.#emit('message_created', frame);
      this.#emit('message', { message: frame.message, recovered: false });
      return;
    }
    if (frame.type === 'member_joined' && frame.user.id === this.#ready?.user.id) this.#channels.add(frame.channel_id);
    if (frame.type === 'channel_created') this.#channels.add(frame.channel.id);
    this.#emit(frame.type, frame as never);
  }

  /**
   * For every channel with a known position, the messages after it (oldest first). A channel
   * without one (joined during the session, with no message seen yet) starts at its first live
   * message: a baseline taken now could skip live events that are held back meanwhile.
   */
  async #fetchMissed(socket: WebSocketLike): Promise<void> {
    for (const channelId of this.#cursor.channels()) {
      if (!this.#channels.has(channelId)) {
        this.#cursor.forget(channelId);
        continue;
      }
      let after = this.#cursor.last(channelId)!;
      for (;;) {
        if (this.#socket !== socket) return;
        const { data, response } = await this.#client.rest.GET('/api/v1/channels/{channel_id}/messages', {
          params: { path: { channel_id: channelId }, query: { after, limit: 100 } },
        });
        if (response.status === 403 || response.status === 404) break;
        if (!data) throw new ParleyGatewayError('history_failed', `history of ${channelId}: HTTP ${response.status}`);
        const oldestFirst = [...data.items].reverse();
        for (const message of oldestFirst) {
          if (this.#cursor.advance(channelId, message.id)) this.#emit('message', { message, recovered: true });
        }
        if (!data.has_more || oldestFirst.length === 0) break;
        after = oldestFirst[oldestFirst.length - 1]!.id;
      }
    }
  }

  /** Records the newest message of each channel as its position ("0" when it has none). */
  async #baseline(): Promise<void> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.#client.unwrap(
        this.#client.rest.GET('/api/v1/users/@me/channels', { params: { query: { limit: 100, ...(cursor ? { cursor } : {}) } } }),
      );
      for (const channel of page.items) {
        if (this.#cursor.last(channel.id) === undefined) this.#cursor.baseline(channel.id, channel.last_message?.id ?? '0');
      }
      if (page.next_cursor === null) return;
      cursor = page.next_cursor;
    }
  }

  #reply(frame: AckFrame | ErrorFrame): void {
    const ref = frame.ref;
    if (ref === undefined) return;
    const send = this.#pendingSends.get(ref);
    if (send) {
      if (frame.type === 'error' && frame.code === 'rate_limited') {
        // A refused frame changed nothing: send it again when the budget's window resets (a
        // reconnect meanwhile resends it anyway, so only this connection's timer acts).
        const socket = this.#socket;
        this.#clock.setTimeout(() => {
          if (socket && this.#socket === socket && this.#state === 'ready' && this.#pendingSends.get(ref) === send) this.#write(socket, send.frame);
        }, frame.retry_after_ms ?? 1000);
        return;
      }
      this.#pendingSends.delete(ref);
      if (frame.type === 'ack' && frame.message) send.resolve(frame.message);
      else if (frame.type === 'error') send.reject(errorOf(frame));
      return;
    }
    const command = this.#pendingCommands.get(ref);
    if (command) {
      this.#pendingCommands.delete(ref);
      if (frame.type === 'ack') command.resolve(frame);
      else command.reject(errorOf(frame));
    }
  }

  // ───────────────────────────── frames out

  #ref(prefix: string): string {
    this.#refs += 1;
    return `${prefix}-${this.#refs}`;
  }

  #write(socket: WebSocketLike, frame: ClientFrame): void {
    if (socket.readyState === OPEN) socket.send(JSON.stringify(frame));
  }

  /**
   * Sends a message; resolves with the stored message once the server has committed it. The
   * frame carries a nonce (yours, or a random one) and is sent again after every reconnect until
   * it is acked: the server answers a repeated nonce with the message it already stored.
   */
  sendMessage(channelId: string, content: string, options: { nonce?: string; replyToId?: string } = {}): Promise<Message> {
    if (this.#state === 'closed') return Promise.reject(new ParleyGatewayError('closed', 'the gateway client was closed'));
    const ref = this.#ref('send');
    const frame: PendingSend['frame'] = {
      type: 'send_message',
      ref,
      channel_id: channelId,
      content,
      nonce: options.nonce ?? newNonce(),
      ...(options.replyToId !== undefined ? { reply_to_id: options.replyToId } : {}),
    };
    return new Promise((resolve, reject) => {
      this.#pendingSends.set(ref, { frame, resolve, reject });
      if (this.#state === 'ready' && this.#held === null && this.#socket) this.#write(this.#socket, frame);
    });
  }

  /** `join` a public room. */
  join(channelId: string): Promise<AckFrame> {
    return this.#command({ type: 'join', channel_id: channelId });
  }

  leave(channelId: string): Promise<AckFrame> {
    return this.#command({ type: 'leave', channel_id: channelId });
  }

  typing(channelId: string): Promise<AckFrame> {
    return this.#command({ type: 'typing', channel_id: channelId });
  }

  markRead(channelId: string, messageId: string): Promise<AckFrame> {
    return this.#command({ type: 'mark_read', channel_id: channelId, message_id: messageId });
  }

  setPresence(status: SettablePresenceStatus): Promise<AckFrame> {
    return this.#command({ type: 'presence_update', status });
  }

  /** Commands other than sends are not retried: a drop rejects them with `disconnected`. */
  #command(frame: Extract<ClientFrame, { type: 'join' | 'leave' | 'typing' | 'mark_read' | 'presence_update' }>): Promise<AckFrame> {
    const socket = this.#socket;
    if (this.#state !== 'ready' || !socket) return Promise.reject(new ParleyGatewayError('disconnected', 'not connected'));
    const ref = this.#ref(frame.type);
    return new Promise((resolve, reject) => {
      this.#pendingCommands.set(ref, { resolve, reject });
      this.#write(socket, { ...frame, ref });
    });
  }
}

function errorOf(frame: ErrorFrame): ParleyGatewayError {
  return new ParleyGatewayError(frame.code, frame.message, frame.errors ? { errors: frame.errors } : {});
}

/** A random nonce (at most 64 characters, as the gateway allows). */
export function newNonce(): string {
  const crypto = globalThis.crypto;
  if (crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}
