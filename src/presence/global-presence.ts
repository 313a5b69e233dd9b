import type { Config } from '../config.ts';
import { PresenceSnapshots, type PresenceSnapshot, type VisibleStatus } from '../domain/presence-snapshots.ts';
import { changedUsers, ShownPresence } from '../domain/shown-presence.ts';
import type { SharedEventBus } from '../bus/shared-event-bus.ts';
import type { PresenceScope } from '../gateway/gateway.ts';
import type { PresenceChange } from '../gateway/presence.ts';

/** How many expired instances are remembered (for a comeback); the oldest is forgotten first. */
const MAX_GONE_INSTANCES = 1024;

/** What this needs from the local gateway's presence tracker. */
export interface LocalPresence {
  presenceScope: PresenceScope | undefined;
  /** `channelIds` null: not known here (the gateway looks the user's channels up). */
  announceRemotePresence(change: PresenceChange, channelIds: string[] | null): void;
  presence: {
    trackedUsers(): Array<{ userId: string; connected: boolean }>;
    visibleOnlineUserIds(): string[];
    visibleStatus(userId: string): VisibleStatus;
  };
}

/**
 * Presence of every instance for `GET /users/online` and the statistics: this instance's tracker
 * plus the snapshots the others send over the shared bus every PRESENCE_HEARTBEAT_MS, each
 * forgotten PRESENCE_TTL_MS after it arrived (a killed instance's users go offline then).
 *
 * Each instance tells its own sessions (`presence_updated`) whenever a user's status over all
 * instances moves: on a change message, on a heartbeat that differs from the last one, and when a
 * snapshot expires (checked every heartbeat) — so a killed instance's users are announced offline
 * by every other instance, once each, unless they are still online on another instance.
 */
export class GlobalPresence {
  readonly #gateway: LocalPresence;
  readonly #bus: SharedEventBus;
  readonly #heartbeatMs: number;
  readonly #snapshots: PresenceSnapshots;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #unsubscribeChanges: (() => void) | undefined;
  /** What this instance's sessions were last told of each user (presence_updated). */
  readonly #shown = new ShownPresence();
  /**
   * The channels of each user shown online, from the change messages (where they were online):
   * whom to tell when they go offline with an instance that can no longer say so.
   */
  readonly #channels = new Map<string, string[]>();
  /** Instances whose snapshot expired: if one comes back (it was only silent), its users are announced again. */
  readonly #gone = new Set<string>();
  /** Instances whose heartbeat arrived since they were last seen gone (or ever). */
  readonly #heard = new Set<string>();

  constructor(options: {
    gateway: LocalPresence;
    bus: SharedEventBus;
    config: Pick<Config, 'PRESENCE_HEARTBEAT_MS' | 'PRESENCE_TTL_MS'>;
    now?: () => number;
  }) {
    this.#gateway = options.gateway;
    this.#bus = options.bus;
    this.#heartbeatMs = options.config.PRESENCE_HEARTBEAT_MS;
    this.#snapshots = new PresenceSnapshots(options.config.PRESENCE_TTL_MS);
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.#unsubscribe = this.#bus.onPresence((instanceId, snapshot) => this.#heartbeat(instanceId, snapshot));
    // presence_updated frames cross instances: a local change goes to the others, and each side
    // tells its sessions the user's status over all instances, only when that moved (a user who
    // leaves one instance but is online on another stays online for everyone).
    this.#gateway.presenceScope = {
      local: (change, channelIds) => {
        this.#bus.publishPresenceChange({ user_id: change.userId, status: change.status, last_seen_at: change.lastSeenAt, channel_ids: channelIds });
        return this.#shownChange(change, channelIds);
      },
    };
    this.#unsubscribeChanges = this.#bus.onPresenceChange((instanceId, message) => {
      this.#snapshots.apply(instanceId, message.user_id, message.status, this.#now());
      const shown = this.#shownChange({ userId: message.user_id, status: message.status, lastSeenAt: message.last_seen_at }, message.channel_ids);
      if (shown) this.#gateway.announceRemotePresence(shown, message.channel_ids);
    });
    this.#timer = setInterval(() => {
      this.#bus.publishPresence(this.local());
      this.#expire();
    }, this.#heartbeatMs);
    this.#timer.unref();
    this.#bus.publishPresence(this.local());
  }

  /** A clean stop: the others forget this instance's users at once. */
  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#unsubscribeChanges?.();
    this.#gateway.presenceScope = undefined;
    this.#bus.publishPresence({ connected: [], visible: {} });
  }

  /** `change` as this instance's sessions should see it: the status over all instances, if it moved. */
  #shownChange(change: PresenceChange, channelIds: string[]): PresenceChange | null {
    const status = this.#statusOf(change.userId);
    if (status === 'offline') this.#channels.delete(change.userId);
    else if (channelIds.length > 0) this.#channels.set(change.userId, channelIds);
    if (this.#shown.settle(change.userId, status) === null) return null;
    // Still online elsewhere: "now", as for any connected, visible user.
    return { userId: change.userId, status, lastSeenAt: status === change.status ? change.lastSeenAt : this.#now() };
  }

  /** One user's status over all instances (only this user's local status: a mass reconnect stays linear). */
  #statusOf(userId: string): VisibleStatus {
    const local = this.#gateway.presence.visibleStatus(userId);
    const mine: PresenceSnapshot = { connected: [], visible: local === 'offline' ? {} : { [userId]: local } };
    return this.#snapshots.visibleStatus(userId, mine, this.#now());
  }

  /** Another instance's heartbeat: users it shows differently from its last one are settled. */
  #heartbeat(instanceId: string, snapshot: PresenceSnapshot): void {
    const previous = this.#snapshots.put(instanceId, snapshot, this.#now());
    // First heartbeat: its users' changes were announced as they happened (or before this instance
    // listened; then nothing was shown here, and a mass announcement now would only cost). A
    // comeback after expiry: all of them are news again.
    const gone = this.#gone.delete(instanceId);
    const first = !this.#heard.has(instanceId);
    this.#heard.add(instanceId);
    if (first && !gone) return;
    this.#settle(changedUsers([gone ? {} : (previous?.visible ?? {})], snapshot.visible), this.#now());
  }

  /**
   * Snapshots not refreshed for PRESENCE_TTL_MS: their instance died (kill -9) or is cut off. Their
   * users who are now offline everywhere are announced offline, last seen when the snapshot came.
   */
  #expire(): void {
    const expired = this.#snapshots.expire(this.#now());
    if (expired.length === 0) return;
    for (const { instanceId } of expired) {
      this.#heard.delete(instanceId);
      this.#gone.add(instanceId);
      // Instance ids are per process start: a long-lived instance sees many die; remember the latest.
      if (this.#gone.size > MAX_GONE_INSTANCES) this.#gone.delete(this.#gone.values().next().value!);
    }
    const lastSeenAt = Math.max(...expired.map((entry) => entry.at));
    this.#settle(changedUsers(expired.map((entry) => entry.snapshot.visible)), lastSeenAt);
  }

  /** Tells this instance's sessions of every user in `users` whose status over all instances moved. */
  #settle(users: Map<string, VisibleStatus>, lastSeenAt: number): void {
    for (const [userId, assumed] of users) {
      const status = this.#shown.settle(userId, this.#statusOf(userId), assumed);
      if (status === null) continue;
      const channelIds = this.#channels.get(userId) ?? null;
      if (status === 'offline') this.#channels.delete(userId);
      this.#gateway.announceRemotePresence({ userId, status, lastSeenAt: status === 'offline' ? lastSeenAt : this.#now() }, channelIds);
    }
  }

  local(): PresenceSnapshot {
    const { presence } = this.#gateway;
    const visible: PresenceSnapshot['visible'] = {};
    for (const userId of presence.visibleOnlineUserIds()) {
      const status = presence.visibleStatus(userId);
      if (status !== 'offline') visible[userId] = status;
    }
    return {
      connected: presence.trackedUsers().filter((user) => user.connected).map((user) => user.userId),
      visible,
    };
  }

  onlineUserCount(): number {
    return this.#snapshots.connectedCount(this.local(), this.#now());
  }

  visibleOnlineUserIds(): string[] {
    return this.#snapshots.visibleUserIds(this.local(), this.#now());
  }

  readonly presence = {
    visibleStatus: (userId: string): VisibleStatus => this.#snapshots.visibleStatus(userId, this.local(), this.#now()),
  };
}
