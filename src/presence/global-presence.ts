import type { Config } from '../config.ts';
import { PresenceSnapshots, type PresenceSnapshot, type VisibleStatus } from '../domain/presence-snapshots.ts';
import type { SharedEventBus } from '../bus/shared-event-bus.ts';

/** What this needs from the local gateway's presence tracker. */
export interface LocalPresence {
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
    this.#timer = setInterval(() => this.#bus.publishPresence(this.local()), this.#heartbeatMs);
    this.#timer.unref();
    this.#bus.publishPresence(this.local());
  }

  /** A clean stop: the others forget this instance's users at once. */
  stop(): void {
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    this.#bus.publishPresence({ connected: [], visible: {} });
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
