import type { Config } from '../config.ts';
import { PresenceSnapshots, type PresenceSnapshot, type VisibleStatus } from '../domain/presence-snapshots.ts';
import type { SharedEventBus } from '../bus/shared-event-bus.ts';
import type { PresenceScope } from '../gateway/gateway.ts';
import type { PresenceChange } from '../gateway/presence.ts';

/** What this needs from the local gateway's presence tracker. */
export interface LocalPresence {
  presenceScope: PresenceScope | undefined;
  announceRemotePresence(change: PresenceChange, channelIds: string[]): void;
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
  /** What this instance's sessions were last told of each user not offline (presence_updated). */
  readonly #shown = new Map<string, VisibleStatus>();

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
    this.#unsubscribe = this.#bus.onPresence((instanceId, snapshot) => this.#snapshots.put(instanceId, snapshot, this.#now()));
    // presence_updated frames cross instances: a local change goes to the others, and each side
    // tells its sessions the user's status over all instances, only when that moved (a user who
    // leaves one instance but is online on another stays online for everyone).
    this.#gateway.presenceScope = {
      local: (change, channelIds) => {
        this.#bus.publishPresenceChange({ user_id: change.userId, status: change.status, last_seen_at: change.lastSeenAt, channel_ids: channelIds });
        return this.#shownChange(change);
      },
    };
    this.#unsubscribeChanges = this.#bus.onPresenceChange((instanceId, message) => {
      this.#snapshots.apply(instanceId, message.user_id, message.status, this.#now());
      const shown = this.#shownChange({ userId: message.user_id, status: message.status, lastSeenAt: message.last_seen_at });
      if (shown) this.#gateway.announceRemotePresence(shown, message.channel_ids);
    });
    this.#timer = setInterval(() => this.#bus.publishPresence(this.local()), this.#heartbeatMs);
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
  #shownChange(change: PresenceChange): PresenceChange | null {
    // This user's local status only (not a whole local snapshot: a mass reconnect would be quadratic).
    const local = this.#gateway.presence.visibleStatus(change.userId);
    const mine: PresenceSnapshot = { connected: [], visible: local === 'offline' ? {} : { [change.userId]: local } };
    const status = this.#snapshots.visibleStatus(change.userId, mine, this.#now());
    if ((this.#shown.get(change.userId) ?? 'offline') === status) return null;
    if (status === 'offline') this.#shown.delete(change.userId);
    else this.#shown.set(change.userId, status);
    // Still online elsewhere: "now", as for any connected, visible user.
    return { userId: change.userId, status, lastSeenAt: status === change.status ? change.lastSeenAt : this.#now() };
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
