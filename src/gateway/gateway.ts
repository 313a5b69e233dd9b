import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { User } from '../../generated/asyncapi-types.ts';
import type { Config } from '../config.ts';
import { ConnectionCaps } from '../domain/connection-caps.ts';
import type { DomainEvent } from '../events/domain-events.ts';
import type { EventBus } from '../events/event-bus.ts';
import type { AuthContext } from '../services/auth-service.ts';
import type { RateLimiter } from '../rate-limits/rate-limiter.ts';
import type { GatewayChat } from './gateway-chat.ts';
import { GatewayConnection, type ConnectionHost } from './gateway-connection.ts';
import { createGatewayMetrics, type GatewayMetrics } from './gateway-metrics.ts';
import type { ChannelAudience, GatewayUsers } from './gateway-ports.ts';
import { CloseCode } from './gateway-protocol.ts';
import type { GatewaySession } from './gateway-session.ts';
import type { GatewaySocket } from './gateway-socket.ts';
import { EventRouter, type EventDelivery } from './event-routing.ts';
import { outboundEvent, type OutboundEvent } from './outbound-event.ts';
import { PresenceTracker, type PresenceChange, type SettablePresenceStatus } from './presence.ts';
import { SessionRegistry, type FirstRecipient, type UserSubscriptions } from './session-registry.ts';

/**
 * Everything the gateway uses from the rest of the application, built before it (src/app.ts):
 * it imports no repository, and from the services only types.
 */
/** See Gateway.presenceScope. */
export interface PresenceScope {
  local(change: PresenceChange, channelIds: string[]): PresenceChange | null;
}

export interface GatewayDeps {
  config: Config;
  /** The bus domain events arrive on, after commit. */
  events: Pick<EventBus, 'subscribe'>;
  auth: { authenticate(token: string): Promise<AuthContext> };
  /** Who may read which channel (src/services/gateway-access.ts). */
  audience: ChannelAudience;
  /** Loading users, storing last_seen_at (src/services/gateway-access.ts). */
  users: GatewayUsers;
  /** What the frames do: the same service calls as REST (gateway-chat.ts). */
  chat: GatewayChat;
  /** The REST API's limiter: frames spend the same budgets as their operations. */
  rateLimiter: RateLimiter;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
}

/** How long a revocation is remembered for connections that were authenticating when it happened. */
const REVOCATION_MEMORY_MS = 60_000;
/** Shutdown: how long to wait for in-flight frames, then for close handshakes. */
const DRAIN_TIMEOUT_MS = 3_000;
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * The real-time gateway of this process: every connection, the session registry, presence, and
 * the fan-out of domain events (published after commit) to the sessions subscribed to them.
 */
export class Gateway implements ConnectionHost, EventDelivery {
  readonly config: Config;
  readonly auth: GatewayDeps['auth'];
  readonly rateLimiter: RateLimiter;
  readonly metrics: GatewayMetrics;
  readonly log: FastifyBaseLogger;
  readonly registry: SessionRegistry;
  readonly presence: PresenceTracker;
  readonly connections = new Set<GatewayConnection>();
  /**
   * WS_MAX_CONNECTIONS and WS_MAX_CONNECTIONS_PER_IP: a slot is taken in `accept` and given back
   * when the socket is gone (GatewayConnection.socketClosed), whichever side or path closed it.
   */
  readonly caps: ConnectionCaps;
  readonly resumeLimits: { maxEvents: number; windowMs: number };
  readonly router: EventRouter;
  readonly chat: GatewayChat;
  readonly #events: GatewayDeps['events'];
  readonly #users: GatewayUsers;
  readonly #audience: ChannelAudience;
  #unsubscribe: (() => void) | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #sweeps = 0;
  #stopping = false;
  readonly #graceTimers = new Map<string, { timer: NodeJS.Timeout; channelIds: string[] }>();

  constructor(deps: GatewayDeps) {
    this.config = deps.config;
    this.auth = deps.auth;
    this.chat = deps.chat;
    this.#users = deps.users;
    this.#audience = deps.audience;
    this.rateLimiter = deps.rateLimiter;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.#events = deps.events;
    this.resumeLimits = { maxEvents: deps.config.WS_RESUME_MAX_EVENTS, windowMs: deps.config.WS_RESUME_WINDOW_MS };
    const { audience } = deps;
    this.registry = new SessionRegistry((userId) => audience.readableChannels(userId));
    this.presence = new PresenceTracker(deps.config.PRESENCE_GRACE_MS);
    this.router = new EventRouter({ registry: this.registry, audience, users: deps.users, delivery: this, log: deps.log });
    this.caps = new ConnectionCaps(deps.config.WS_MAX_CONNECTIONS, deps.config.WS_MAX_CONNECTIONS_PER_IP);
  }

  /** Subscribes to the event bus and starts the heartbeat/expiry sweep. */
  start(): void {
    this.#unsubscribe = this.#events.subscribe((event) => this.handleEvent(event));
    this.#sweepTimer = setInterval(() => this.sweep(Date.now()), this.sweepIntervalMs);
    this.#sweepTimer.unref();
  }

  /** A quarter of the shortest period the sweep enforces (heartbeat, resume window). */
  get sweepIntervalMs(): number {
    const { WS_HEARTBEAT_INTERVAL_MS: heartbeat, WS_RESUME_WINDOW_MS: window } = this.config;
    return Math.max(10, Math.min(5_000, Math.floor(Math.min(heartbeat, window) / 4)));
  }

  // ───────────────────────────── connections

  newSessionId(): string {
    return randomBytes(18).toString('base64url');
  }

  /**
   * A socket was upgraded on GET /api/v1/ws from `ip`. `token`: upgrade credentials, if any.
   * Over a connection cap it is closed at once with 1013 (try again later), before `hello`: the
   * close code reaches browsers, which cannot read the status of a refused upgrade.
   */
  accept(socket: GatewaySocket, token: string | null, ip: string): void {
    const refused = this.caps.open(ip);
    if (refused !== null) {
      this.metrics.closed(CloseCode.tryAgainLater);
      socket.close(CloseCode.tryAgainLater, refused === 'per_ip' ? 'too many connections from this address' : 'too many connections');
      return;
    }
    const connection = new GatewayConnection(this, socket, this.newSessionId(), ip);
    this.connections.add(connection);
    connection.start(token);
    if (this.#stopping) connection.close(CloseCode.serviceRestart, 'service restart');
  }

  loadUser(userId: string): Promise<User | null> {
    return this.#users.self(userId);
  }

  isExpired(session: GatewaySession, now: number): boolean {
    return !session.attached && now - session.detachedAt > this.config.WS_RESUME_WINDOW_MS;
  }

  /** A connection became ready (authenticated or resumed). */
  connectionReady(connection: GatewayConnection, storedLastSeenAt: string | null): void {
    const userId = connection.session!.userId;
    const stored = storedLastSeenAt ? Date.parse(storedLastSeenAt) : null;
    const change = this.presence.connect(userId, Date.now(), stored);
    if (change) this.#announcePresence(change, null);
  }

  /** A connection closed (either side). Its session detaches and stays resumable, unless revoked. */
  connectionClosed(connection: GatewayConnection, wasReady: boolean, code: number): void {
    this.connections.delete(connection);
    const session = connection.session;
    if (!session || session.sink !== connection) return;
    session.sink = null;
    session.detachedAt = Date.now();
    if (code === CloseCode.authenticationFailed) this.registry.removeSession(session);
    if (wasReady) this.#presenceDisconnect(session.userId);
  }

  /** The TCP socket is gone (GatewayConnection.socketClosed): its slot in the caps is free. */
  socketGone(connection: GatewayConnection): void {
    this.caps.close(connection.ip);
  }

  /**
   * The shared bus may have lost events (src/bus/shared-event-bus.ts): every session is forgotten
   * and every socket closed with 1012, so clients reconnect, get invalid_session on resume and
   * catch up through history `after` rather than carry on with a silent gap.
   */
  invalidateSessions(reason: string): void {
    this.log.warn({ reason, connections: this.connections.size }, 'gateway sessions invalidated');
    for (const session of [...this.registry.sessions()]) this.registry.removeSession(session);
    for (const connection of [...this.connections]) connection.close(CloseCode.serviceRestart, 'resync');
  }

  get sessionCount(): number {
    let count = 0;
    for (const connection of this.connections) if (connection.state === 'ready') count += 1;
    return count;
  }

  // ───────────────────────────── presence

  setPresence(userId: string, status: SettablePresenceStatus): void {
    const change = this.presence.setStatus(userId, status, Date.now());
    if (change) this.#announcePresence(change, null);
  }

  #presenceDisconnect(userId: string): void {
    const now = Date.now();
    const deadline = this.presence.disconnect(userId, now);
    if (deadline === null) return;
    // Remember who shared a channel with the user now: their subscriptions may be gone by the deadline.
    this.#armGraceTimer(userId, deadline, this.registry.channelIdsOf(userId));
  }

  #armGraceTimer(userId: string, deadline: number, channelIds: string[]): void {
    const previous = this.#graceTimers.get(userId);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => this.#presenceExpire(userId), Math.max(0, deadline - Date.now()));
    timer.unref();
    this.#graceTimers.set(userId, { timer, channelIds });
  }

  #presenceExpire(userId: string): void {
    const entry = this.#graceTimers.get(userId);
    this.#graceTimers.delete(userId);
    const now = Date.now();
    const expiry = this.presence.expire(userId, now);
    if (!expiry) {
      // Timers may fire a millisecond early: still in the grace period, so wait for the rest of it.
      const deadline = this.presence.graceDeadline(userId);
      if (deadline !== null && !this.#stopping) this.#armGraceTimer(userId, deadline, entry?.channelIds ?? []);
      return;
    }
    if (expiry.persist) {
      this.#users
        .setLastSeen(userId, new Date(expiry.lastSeenAt).toISOString())
        .catch((error: unknown) => this.log.warn({ err: error, userId }, 'could not store last_seen_at'));
    }
    if (expiry.change) this.#announcePresence(expiry.change, entry?.channelIds ?? null);
  }

  /**
   * Where presence is shared between instances (src/presence/global-presence.ts): told of each
   * change here, it answers what this instance's sessions should see (the user may still be online
   * on another instance: then nothing) and passes the change on. Unset: this process is all there is.
   */
  presenceScope: PresenceScope | undefined;

  /** A local presence change: `presence_updated` to every other user sharing a channel with the user. */
  #announcePresence(change: PresenceChange, channelIds: string[] | null): void {
    if (!this.presenceScope) {
      this.#deliverPresence(change, channelIds);
      return;
    }
    const shown = this.presenceScope.local(change, channelIds ?? this.registry.channelIdsOf(change.userId));
    if (shown) this.#deliverPresence(shown, channelIds);
  }

  /**
   * Another instance's presence change, as this instance's sessions should see it (`channelIds`:
   * the user's; null when not known here, e.g. a user of an instance that died before this one
   * heard of them: then the user's channels are read from the database).
   */
  announceRemotePresence(change: PresenceChange, channelIds: string[] | null): void {
    if (channelIds !== null || this.registry.subscriptionsOf(change.userId)?.loaded || this.registry.sessionCount === 0) {
      this.#deliverPresence(change, channelIds);
      return;
    }
    this.#audience
      .readableChannels(change.userId)
      .then((channels) => this.#deliverPresence(change, channels.map((channel) => channel.id)))
      .catch((error: unknown) => this.log.warn({ err: error, userId: change.userId }, 'could not announce presence: channels unknown'));
  }

  #deliverPresence(change: PresenceChange, channelIds: string[] | null): void {
    let recipients: Set<UserSubscriptions>;
    if (this.registry.subscriptionsOf(change.userId)?.loaded) {
      recipients = this.registry.usersSharingChannelsWith(change.userId);
    } else {
      recipients = new Set();
      for (const channelId of channelIds ?? []) {
        for (const other of this.registry.usersInChannel(channelId) ?? []) if (other.userId !== change.userId) recipients.add(other);
      }
    }
    if (recipients.size === 0) return;
    const event = outboundEvent('presence_updated', {
      user_id: change.userId,
      status: change.status,
      last_seen_at: change.lastSeenAt === null ? null : new Date(change.lastSeenAt).toISOString(),
    });
    this.#sent(event, this.registry.deliverToUsers(recipients, event));
  }

  onlineUserCount(): number {
    return this.presence.connectedUserCount();
  }

  visibleOnlineUserIds(): string[] {
    return this.presence.visibleOnlineUserIds();
  }

  // ───────────────────────────── events

  handleEvent(event: DomainEvent): void {
    if (event.type === 'sessions.revoked') {
      this.revoke(event.user_id, event.session_ids);
      return;
    }
    this.router.route(event);
  }

  /** Delivers an event to a channel's subscribers and records the metrics. */
  deliverToChannel(channelId: string, event: OutboundEvent, exceptUserId?: string, first?: FirstRecipient): void {
    this.#sent(event, this.registry.deliverToChannel(channelId, event, exceptUserId, first));
  }

  deliverToUsers(users: Iterable<UserSubscriptions>, event: OutboundEvent): void {
    this.#sent(event, this.registry.deliverToUsers(users, event));
  }

  #sent(event: OutboundEvent, count: number): void {
    if (count === 0) return;
    this.metrics.framesOut(event.type, count);
    this.metrics.fanoutLatency((performance.now() - event.publishedAt) / 1000);
  }

  /** Sessions ended: their sockets close with 4004 and the gateway sessions are forgotten. */
  revoke(userId: string, sessionIds: string[] | 'all'): void {
    const now = Date.now();
    this.registry.noteRevocation(userId, sessionIds, now, REVOCATION_MEMORY_MS);
    const affected = (authSessionId: string) => sessionIds === 'all' || sessionIds.includes(authSessionId);
    for (const connection of [...this.connections]) {
      if (connection.auth?.userId === userId && affected(connection.auth.sessionId)) {
        connection.close(CloseCode.authenticationFailed, 'session revoked');
      }
    }
    for (const session of [...this.registry.sessionsOf(userId)]) {
      if (!session.attached && affected(session.authSessionId)) this.registry.removeSession(session);
    }
  }

  // ───────────────────────────── timers

  /** Heartbeat timeouts, protocol pings, resume-window expiry. */
  sweep(now: number): void {
    this.#sweeps += 1;
    const { WS_HEARTBEAT_INTERVAL_MS: heartbeat } = this.config;
    const pingRound = this.#sweeps % Math.max(1, Math.round(heartbeat / this.sweepIntervalMs)) === 0;
    for (const connection of [...this.connections]) {
      if (connection.state === 'closed') continue;
      if (now - connection.lastFrameAt > heartbeat * 1.5) {
        connection.close(CloseCode.heartbeatTimeout, 'heartbeat timeout');
        continue;
      }
      if (pingRound) {
        if (connection.awaitingPong) {
          connection.terminate();
          continue;
        }
        connection.awaitingPong = true;
        connection.socket.ping();
      }
    }
    for (const session of [...this.registry.sessions()]) {
      if (this.isExpired(session, now)) this.registry.removeSession(session);
      else session.events.prune(now);
    }
    this.registry.pruneRevocations(now, REVOCATION_MEMORY_MS);
  }

  // ───────────────────────────── shutdown

  /**
   * Graceful stop: no new connections, let frames in progress finish (their acks go out), then
   * close every socket with 1012 after what was queued, and store last_seen_at of who was online.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    await withTimeout(Promise.all([...this.connections].map((connection) => connection.drained())), DRAIN_TIMEOUT_MS);
    this.#unsubscribe?.();
    const sockets = [...this.connections].map((connection) => connection.socket);
    const closed = Promise.all(
      sockets.map((socket) => (socket.readyState === 3 ? undefined : new Promise((resolve) => socket.once('close', resolve)))),
    );
    for (const connection of [...this.connections]) connection.close(CloseCode.serviceRestart, 'service restart');
    if (!(await withTimeout(closed, CLOSE_TIMEOUT_MS))) for (const socket of sockets) socket.terminate();
    for (const { timer } of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
    const seen = this.presence.trackedUsers().filter((user) => user.persist).map((user) => user.userId);
    if (seen.length > 0) {
      await this.#users
        .setLastSeenMany(seen, new Date().toISOString())
        .catch((error: unknown) => this.log.warn({ err: error }, 'could not store last_seen_at at shutdown'));
    }
  }
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = promise.then(() => true as const, () => true as const);
  const result = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return result;
}

/** Builds the gateway with its Prometheus metrics (registered on `metricsClient`'s registry). */
export function createGateway(deps: Omit<GatewayDeps, 'metrics'> & { metricsClient: Parameters<typeof createGatewayMetrics>[0] }): Gateway {
  const { metricsClient, ...rest } = deps;
  let gateway: Gateway | undefined;
  const metrics = createGatewayMetrics(metricsClient, {
    sessions: () => gateway?.sessionCount ?? 0,
    connections: () => gateway?.connections.size ?? 0,
  });
  gateway = new Gateway({ ...rest, metrics });
  return gateway;
}
