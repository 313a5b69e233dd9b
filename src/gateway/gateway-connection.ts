import type { FastifyBaseLogger } from 'fastify';
import type { RawData } from 'ws';
import type { ClientFrame, ErrorCode, Message, ServerFrame, User } from '../../generated/asyncapi-types.ts';
import { clientFrameValidators, isClientFrameType } from '../../generated/asyncapi-validators.js';
import type { Config } from '../config.ts';
import { fieldErrors } from '../plugins/errors-plugin.ts';
import { isDatabaseUnavailable } from '../db/database-errors.ts';
import { gatewayErrorCode, ProblemError, UNAVAILABLE_RETRY_AFTER_S, type FieldError } from '../errors.ts';
import { outboundVerdict } from '../domain/outbound-budget.ts';
import { frameBudgets } from '../domain/rate-limit-budgets.ts';
import { rateLimitedDetail, type RateLimiter } from '../rate-limits/rate-limiter.ts';
import { exceedsJsonDepth } from '../domain/json-depth.ts';
import { findUnstorableText } from '../domain/storable-text.ts';
import type { AuthContext } from '../services/auth-service.ts';
import { FrameRateLimiter } from './frame-rate-limiter.ts';
import type { GatewayChat } from './gateway-chat.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { CloseCode } from './gateway-protocol.ts';
import type { GatewaySession, SessionSink } from './gateway-session.ts';
import type { GatewaySocket, SocketOwner } from './gateway-socket.ts';
import { frameBytes, wsFrame, type OutboundEvent } from './outbound-event.ts';
import type { SettablePresenceStatus } from './presence.ts';
import type { SessionRegistry } from './session-registry.ts';

/**
 * What a connection needs from the gateway that accepted it (gateway.ts implements it): settings,
 * the services its frames call, the session registry, and the lifecycle calls back.
 */
export interface ConnectionHost {
  readonly config: Pick<
    Config,
    | 'WS_RATE_LIMIT_FRAMES'
    | 'WS_RATE_LIMIT_WINDOW_MS'
    | 'WS_HEARTBEAT_INTERVAL_MS'
    | 'WS_RESUME_WINDOW_MS'
    | 'WS_AUTH_TIMEOUT_MS'
    | 'WS_MAX_BUFFERED_BYTES'
    | 'WS_MAX_FRAME_BYTES'
  >;
  readonly auth: { authenticate(token: string): Promise<AuthContext> };
  readonly chat: GatewayChat;
  readonly rateLimiter: RateLimiter;
  readonly registry: SessionRegistry;
  readonly resumeLimits: { maxEvents: number; windowMs: number };
  readonly metrics: Pick<GatewayMetrics, 'framesOut' | 'frameIn' | 'closed'>;
  readonly log: Pick<FastifyBaseLogger, 'error' | 'warn' | 'debug'>;
  /** The user as they see themself, or null when gone or deactivated. */
  loadUser(userId: string): Promise<User | null>;
  isExpired(session: GatewaySession, now: number): boolean;
  setPresence(userId: string, status: SettablePresenceStatus): void;
  /** The connection became ready (authenticated or resumed). */
  connectionReady(connection: GatewayConnection, storedLastSeenAt: string | null): void;
  /** The connection closed (either side), once. */
  connectionClosed(connection: GatewayConnection, wasReady: boolean, code: number): void;
  /** The TCP socket is gone: the connection's slot in the caps is free. */
  socketGone(connection: GatewayConnection): void;
}

type State = 'open' | 'authenticating' | 'ready' | 'closed';

const TEXT = { binary: false } as const;
const OPEN = 1;

const IDLE: Promise<void> = Promise.resolve();

function onAuthTimeout(connection: GatewayConnection): void {
  if (connection.state === 'open') connection.close(CloseCode.notAuthenticated, 'authorization timeout');
}

/** The user id string of the registry (one per user) instead of this login's copy from the database. */
function sharingUserId(auth: AuthContext, userId: string): AuthContext {
  return { userId, sessionId: auth.sessionId, role: auth.role };
}

const validRef = (ref: unknown): ref is string => typeof ref === 'string' && ref.length <= 64;

/**
 * One WebSocket connection's state machine: `hello`, authentication (upgrade credentials, an
 * `authorization` frame or `resume`), then frames in, events out, until it closes.
 *
 * Frames are checked as they arrive (rate, size, JSON, type, schema); frames that need the
 * database run one after another, in arrival order, so a client's sends commit in the order sent.
 */
export class GatewayConnection implements SessionSink, SocketOwner {
  readonly #host: ConnectionHost;
  readonly socket: GatewaySocket;
  /** The session id announced in `hello` (used when this connection authenticates). */
  readonly helloId: string;
  /** The client's address (its slot in the connection caps). */
  readonly ip: string;
  state: State = 'open';
  session: GatewaySession | null = null;
  auth: AuthContext | null = null;
  /** Date.now() of the last client frame. */
  lastFrameAt: number;
  /** A protocol ping is outstanding. */
  awaitingPong = false;
  readonly #limiter: FrameRateLimiter;
  #authTimer: NodeJS.Timeout | null = null;
  /** The frames in progress, or IDLE (one promise shared by every idle connection). */
  #queue: Promise<void> = IDLE;
  /** Bytes a resume replay queued at once, allowed over the buffer limit until read (outbound-budget.ts). */
  #backlog = 0;
  #replaying = false;

  constructor(host: ConnectionHost, socket: GatewaySocket, helloId: string, ip: string) {
    this.#host = host;
    this.socket = socket;
    this.helloId = helloId;
    this.ip = ip;
    this.lastFrameAt = Date.now();
    const { config } = host;
    this.#limiter = new FrameRateLimiter(config.WS_RATE_LIMIT_FRAMES, config.WS_RATE_LIMIT_WINDOW_MS);
  }

  /** Sends `hello`, then authenticates with the upgrade credentials or waits for a frame. */
  start(upgradeToken: string | null): void {
    const { config } = this.#host;
    this.socket.attach(this);
    this.send({
      type: 'hello',
      session_id: this.helloId,
      heartbeat_interval_ms: config.WS_HEARTBEAT_INTERVAL_MS,
      resume_window_ms: config.WS_RESUME_WINDOW_MS,
    });
    if (upgradeToken !== null) {
      this.state = 'authenticating';
      this.#enqueueAuthorize(upgradeToken);
    } else {
      this.#authTimer = setTimeout(onAuthTimeout, config.WS_AUTH_TIMEOUT_MS, this);
      this.#authTimer.unref();
    }
  }

  /** Its own function: a closure made in `start` would keep the token for the socket's lifetime. */
  #enqueueAuthorize(token: string): void {
    this.#enqueue(() => this.#authorize(token, undefined));
  }

  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Settles when every queued frame has been handled. */
  drained(): Promise<void> {
    return this.#queue;
  }

  // ───────────────────────────── output

  send(frame: ServerFrame): void {
    if (this.socket.readyState !== OPEN) return;
    const text = JSON.stringify(frame);
    if (!this.#admits(Buffer.byteLength(text))) return;
    this.socket.send(text);
    this.#host.metrics.framesOut(frame.type, 1);
  }

  /**
   * The fan-out's hot path: pre-framed bytes straight to the TCP socket while ws has nothing of
   * its own queued (GatewaySocket.directStream), else through ws.
   */
  sendEvent(event: OutboundEvent, seq: number): void {
    if (this.socket.readyState !== OPEN) return;
    const raw = this.socket.directStream();
    if (raw) {
      const bytes = wsFrame(event, seq);
      if (this.#admits(bytes.length)) raw.write(bytes);
    } else {
      const bytes = frameBytes(event, seq);
      if (this.#admits(bytes.length)) this.socket.send(bytes, TEXT);
    }
  }

  /**
   * The outbound buffer limit (WS_MAX_BUFFERED_BYTES), checked before every write: a client that
   * does not read what it is sent would otherwise make the server buffer without bound. Past the
   * limit the connection closes with 4010 and nothing more is written; the session detaches and
   * keeps recording, so the client resumes and gets what it missed from the resume buffer. ws's
   * `bufferedAmount` counts the bytes queued in the process (the kernel's socket buffers come on
   * top, bounded by the OS); if the close frame cannot get through because the client still does
   * not read, ws destroys the socket after WS_CLOSE_TIMEOUT_MS (gateway-plugin.ts).
   */
  #admits(bytes: number): boolean {
    if (this.#replaying) return true;
    const verdict = outboundVerdict(this.socket.bufferedAmount, bytes, this.#host.config.WS_MAX_BUFFERED_BYTES, this.#backlog);
    if (verdict === 'fits') {
      this.#backlog = 0;
      return true;
    }
    if (verdict === 'backlog') return true;
    this.close(CloseCode.slowConsumer, 'slow consumer');
    return false;
  }

  /** `errors[]` of a frame name fields by JSON pointer into the frame, its only place: no `in`. */
  #error(code: ErrorCode, message: string, ref: unknown, errors?: readonly FieldError[], retryAfterMs?: number): void {
    this.send({
      type: 'error',
      ...(validRef(ref) ? { ref } : {}),
      code,
      message,
      ...(errors && errors.length > 0 ? { errors: errors.map(({ field, message: text }) => ({ field, message: text })) } : {}),
      ...(retryAfterMs !== undefined ? { retry_after_ms: retryAfterMs } : {}),
    });
  }

  /** Closes with a code of the contract (server side). Idempotent. */
  close(code: number, reason = ''): void {
    if (this.isClosed()) return;
    this.#finish(code);
    this.#host.metrics.closed(code);
    this.socket.close(code, reason);
  }

  pongReceived(): void {
    this.awaitingPong = false;
  }

  socketError(error: Error): void {
    this.#host.log.debug({ err: error }, 'websocket error');
  }

  /** Drops a connection whose TCP peer stopped answering (no close handshake possible). */
  terminate(): void {
    if (this.state !== 'closed') {
      this.#finish(1006);
      this.#host.metrics.closed(1006);
    }
    this.socket.terminate();
  }

  /** The socket closed (either side; `ws` emits this once, also after `close` and `terminate`). */
  socketClosed(code: number): void {
    // The connection's slot is held until the TCP socket is gone: a closing socket still holds
    // its queued frames (at most WS_CLOSE_TIMEOUT_MS).
    this.#host.socketGone(this);
    if (this.isClosed()) return;
    this.#finish(code);
    this.#host.metrics.closed(code);
  }

  /** Leaves every index; the session (if any) detaches and stays resumable. */
  #finish(code: number): void {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    if (this.#authTimer) clearTimeout(this.#authTimer);
    this.#authTimer = null;
    this.#host.connectionClosed(this, wasReady, code);
  }

  // ───────────────────────────── input

  /** A client frame arrived. */
  received(data: RawData, isBinary: boolean): void {
    if (this.isClosed()) return;
    const now = Date.now();
    this.lastFrameAt = now;
    if (!this.#limiter.hit(now)) {
      this.#host.metrics.frameIn('rate_limited');
      this.close(CloseCode.rateLimited, 'rate limited');
      return;
    }
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    if (isBinary || bytes.length > this.#host.config.WS_MAX_FRAME_BYTES) {
      this.#host.metrics.frameIn('invalid');
      this.close(CloseCode.invalidPayload, isBinary ? 'binary frames are not accepted' : 'frame too large');
      return;
    }
    const text = bytes.toString('utf8');
    // Before parsing: nothing after JSON.parse may face unbounded nesting (src/domain/json-depth.ts).
    if (exceedsJsonDepth(text)) {
      this.#host.metrics.frameIn('invalid');
      this.close(CloseCode.invalidPayload, 'frame nested too deep');
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.#host.metrics.frameIn('invalid');
      this.close(CloseCode.invalidPayload, 'invalid JSON');
      return;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      this.#host.metrics.frameIn('invalid');
      this.close(CloseCode.invalidPayload, 'a frame must be a JSON object');
      return;
    }
    const type = (frame as { type?: unknown }).type;
    if (!isClientFrameType(type)) {
      this.#host.metrics.frameIn('unknown');
      this.close(CloseCode.unknownType, 'unknown frame type');
      return;
    }
    this.#host.metrics.frameIn(type);
    const validate = clientFrameValidators[type];
    if (!validate(frame)) {
      this.#error(
        'validation_failed',
        `The ${type} frame is invalid.`,
        (frame as { ref?: unknown }).ref,
        fieldErrors(validate.errors ?? []),
      );
      return;
    }
    const unstorable = findUnstorableText(frame);
    if (unstorable !== null) {
      this.#error('validation_failed', `The ${type} frame is invalid.`, (frame as { ref?: unknown }).ref, [
        { field: unstorable.pointer, message: unstorable.message },
      ]);
      return;
    }
    this.#dispatch(frame as ClientFrame);
  }

  #dispatch(frame: ClientFrame): void {
    switch (frame.type) {
      case 'ping':
        this.send({ type: 'pong', ...(frame.ref !== undefined ? { ref: frame.ref } : {}) });
        return;
      case 'authorization':
        if (this.state !== 'open') return this.close(CloseCode.alreadyAuthenticated, 'already authenticated');
        this.state = 'authenticating';
        this.#enqueue(() => this.#authorize(frame.token, frame.ref));
        return;
      case 'resume':
        if (this.state !== 'open') return this.close(CloseCode.alreadyAuthenticated, 'already authenticated');
        this.state = 'authenticating';
        this.#enqueue(() => this.#resume(frame.token, frame.session_id, frame.seq, frame.ref));
        return;
      default:
        if (this.state === 'open') return this.close(CloseCode.notAuthenticated, 'not authenticated');
        this.#enqueue(() => this.#command(frame));
    }
  }

  #enqueue(task: () => Promise<void>): void {
    const queued = this.#queue
      .then(() => (this.isClosed() ? undefined : task()))
      .catch((error: unknown) => {
        // Authorizing or resuming while the database is away (the token or the user could not be
        // read): no verdict on the token, so not 4004; the client reconnects later (a session it
        // was resuming is kept).
        if (isDatabaseUnavailable(error)) {
          this.#host.log.warn({ err: error }, 'gateway authentication: the database is unavailable');
          this.close(CloseCode.tryAgainLater, 'database unavailable');
          return;
        }
        this.#host.log.error({ err: error }, 'gateway frame handler failed');
        this.close(CloseCode.unknownError, 'unknown error');
      });
    this.#queue = queued;
    // Drained: let go of the chain, so an idle connection keeps no promise of its own.
    void queued.then(() => {
      if (this.#queue === queued) this.#queue = IDLE;
    });
  }

  // ───────────────────────────── authentication

  async #authenticate(token: string): Promise<AuthContext | null> {
    try {
      return await this.#host.auth.authenticate(token);
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      this.close(CloseCode.authenticationFailed, 'authentication failed');
      return null;
    }
  }

  async #authorize(token: string, ref: string | undefined): Promise<void> {
    const startedAt = Date.now();
    const auth = await this.#authenticate(token);
    if (!auth || this.isClosed()) return;
    const { registry } = this.#host;
    const subscriptions = registry.acquire(auth.userId);
    let user;
    try {
      [user] = await Promise.all([this.#host.loadUser(auth.userId), subscriptions.ready]);
    } catch (error) {
      registry.release(subscriptions);
      throw error;
    }
    if (this.isClosed() || !user || registry.revokedSince(auth.userId, auth.sessionId, startedAt)) {
      registry.release(subscriptions);
      this.close(CloseCode.authenticationFailed, 'authentication failed');
      return;
    }
    // From here on everything is synchronous: no event can fall between `ready` and the subscription.
    const session = registry.createSession(subscriptions, this.helloId, auth.sessionId, this.#host.resumeLimits);
    this.auth = sharingUserId(auth, session.userId);
    this.send({
      type: 'ready',
      ...(ref !== undefined ? { ref } : {}),
      user,
      channel_ids: [...subscriptions.channels].sort(compareIds),
    });
    this.#attach(session);
    this.#host.connectionReady(this, user.last_seen_at);
  }

  async #resume(token: string, sessionId: string, seq: number, ref: string | undefined): Promise<void> {
    const startedAt = Date.now();
    const auth = await this.#authenticate(token);
    if (!auth || this.isClosed()) return;
    const { registry } = this.#host;
    const now = Date.now();
    const session = registry.session(sessionId);
    const refPart = ref !== undefined ? { ref } : {};
    if (
      !session ||
      session.userId !== auth.userId ||
      this.#host.isExpired(session, now) ||
      registry.revokedSince(auth.userId, session.authSessionId, startedAt)
    ) {
      this.state = 'open';
      this.send({ type: 'invalid_session', ...refPart, resumable: false });
      return;
    }
    const replay = session.events.since(seq, now);
    if (replay.kind === 'future') {
      this.close(CloseCode.invalidSeq, 'invalid seq');
      return;
    }
    if (replay.kind === 'expired') {
      this.state = 'open';
      this.send({ type: 'invalid_session', ...refPart, resumable: false });
      if (!session.attached) registry.removeSession(session);
      return;
    }
    // An older connection still holding the session (typically a half-open TCP connection the
    // server has not noticed yet) gives it up.
    const previous = session.sink;
    if (previous instanceof GatewayConnection && previous !== this) previous.close(CloseCode.normal, 'session resumed elsewhere');
    session.authSessionId = auth.sessionId;
    this.auth = sharingUserId(auth, session.userId);
    let seqOfEntry = replay.firstSeq;
    // The replay (at most WS_RESUME_MAX_EVENTS) is queued at once, over the buffer limit if need be:
    // the client is catching up, not slow. Live events may then add up to the limit on top of it.
    this.#replaying = true;
    try {
      for (const event of replay.entries) {
        this.sendEvent(event, seqOfEntry);
        this.#host.metrics.framesOut(event.type, 1);
        seqOfEntry += 1;
      }
      this.send({ type: 'resumed', ...refPart, replayed: replay.entries.length });
    } finally {
      this.#replaying = false;
    }
    this.#backlog = this.socket.bufferedAmount;
    this.#attach(session);
    this.#host.connectionReady(this, null);
  }

  #attach(session: GatewaySession): void {
    this.session = session;
    session.sink = this;
    session.detachedAt = 0;
    this.state = 'ready';
    if (this.#authTimer) clearTimeout(this.#authTimer);
    this.#authTimer = null;
  }

  // ───────────────────────────── commands

  async #command(frame: Exclude<ClientFrame, { type: 'ping' | 'authorization' | 'resume' }>): Promise<void> {
    const auth = this.auth;
    if (this.state !== 'ready' || !auth) return;
    const { chat } = this.#host;
    const ref = frame.ref !== undefined ? { ref: frame.ref } : {};
    try {
      // The budgets of the matching REST operations (one count for both): refused with an
      // `error` frame, the socket stays open (the per-connection frame limit above closes 4008).
      const budgets = frameBudgets[frame.type];
      if (budgets) {
        const { rateLimiter } = this.#host;
        const channel = 'channel_id' in frame ? frame.channel_id : undefined;
        const result = await rateLimiter.spend(budgets, { user: auth.userId, ...(channel !== undefined ? { channel } : {}) });
        if (!result.allowed) {
          this.#error('rate_limited', rateLimitedDetail(result, rateLimiter.budgets), frame.ref, undefined, result.resetMs);
          return;
        }
      }
      switch (frame.type) {
        case 'send_message': {
          // Acked once: in the middle of the fan-out when this process delivers the new message
          // (after the author's own sessions, before the rest of the channel), else when the send
          // returns (a nonce hit, an event held back by the bus or a gated channel).
          let acked = false;
          const ack = (message: Message) => {
            if (acked) return;
            acked = true;
            this.send({ type: 'ack', ...ref, message });
          };
          const message = await chat.sendMessage(
            auth,
            frame.channel_id,
            {
              content: frame.content,
              ...(frame.nonce !== undefined ? { nonce: frame.nonce } : {}),
              ...(frame.reply_to_id !== undefined ? { reply_to_id: frame.reply_to_id } : {}),
            },
            ack,
          );
          ack(message);
          return;
        }
        case 'join':
          await chat.join(auth, frame.channel_id);
          break;
        case 'leave':
          await chat.leave(auth, frame.channel_id);
          break;
        case 'typing':
          // Within the budget, repeats inside 5 s are acknowledged and not announced again.
          await chat.typing(auth, frame.channel_id);
          break;
        case 'mark_read':
          await chat.markRead(auth, frame.channel_id, frame.message_id);
          break;
        case 'presence_update':
          this.#host.setPresence(auth.userId, frame.status);
          break;
      }
      this.send({ type: 'ack', ...ref });
    } catch (error) {
      if (error instanceof ProblemError) {
        this.#error(gatewayErrorCode(error.code), error.message, frame.ref, error.errors);
        return;
      }
      // The database is away: the frame may be retried later (a send cut off at its COMMIT may
      // have been stored: its nonce makes the retry idempotent); the session stays usable.
      if (isDatabaseUnavailable(error)) {
        this.#host.log.warn({ err: error, frame: frame.type }, 'gateway command: the database is unavailable');
        this.#error('database_unavailable', 'The database is unavailable; retry later.', frame.ref, undefined, UNAVAILABLE_RETRY_AFTER_S * 1000);
        return;
      }
      // A failure of ours (a bug): the frame fails, the session stays usable.
      this.#host.log.error({ err: error, frame: frame.type }, 'gateway command failed');
      this.#error('internal_error', 'An unexpected error occurred.', frame.ref);
    }
  }
}

/** Snowflakes are decimal strings: shorter is smaller, then lexicographic. */
export function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
