/**
 * Presence across instances, as pure logic (time is passed in). Each instance sends a snapshot of
 * its connected users every heartbeat; a snapshot counts until `ttlMs` after it arrived, so an
 * instance that dies without a goodbye stops counting within `ttlMs`, and a clean shutdown sends
 * an empty snapshot at once.
 */
export type VisibleStatus = 'online' | 'idle' | 'dnd' | 'offline';

export interface PresenceSnapshot {
  /** Users with at least one connection on the instance (invisible ones included). */
  connected: string[];
  /** Users others see as not offline, with the status they see. */
  visible: Record<string, Exclude<VisibleStatus, 'offline'>>;
}

/** A user with sessions on several instances shows the most "present" of their statuses. */
const rank: Record<VisibleStatus, number> = { offline: 0, idle: 1, dnd: 2, online: 3 };

export class PresenceSnapshots {
  readonly #ttlMs: number;
  readonly #snapshots = new Map<string, { snapshot: PresenceSnapshot; at: number }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** A heartbeat: the instance's whole snapshot. Returns the one it replaces (undefined for an instance not known). */
  put(instanceId: string, snapshot: PresenceSnapshot, now: number): PresenceSnapshot | undefined {
    const previous = this.#snapshots.get(instanceId);
    this.#snapshots.set(instanceId, { snapshot, at: now });
    return previous?.snapshot;
  }

  /**
   * One user's visible status moved on `instanceId` (a change message between heartbeats): its
   * snapshot says so at once, so a user who went offline there is not shown online until the next
   * heartbeat. The snapshot's age is kept (only a heartbeat proves the instance alive); an instance
   * not yet heard from gets a snapshot of this one user.
   */
  apply(instanceId: string, userId: string, status: VisibleStatus, now: number): void {
    const entry = this.#snapshots.get(instanceId) ?? { snapshot: { connected: [], visible: {} }, at: now };
    const visible = { ...entry.snapshot.visible };
    if (status === 'offline') delete visible[userId];
    else visible[userId] = status;
    this.#snapshots.set(instanceId, { snapshot: { ...entry.snapshot, visible }, at: entry.at });
  }

  /** The snapshots still alive (expired ones are left for `expire`, which reports them). */
  live(now: number): PresenceSnapshot[] {
    const alive: PresenceSnapshot[] = [];
    for (const entry of this.#snapshots.values()) if (now - entry.at < this.#ttlMs) alive.push(entry.snapshot);
    return alive;
  }

  /**
   * Drops the snapshots older than the TTL (their instance died without a goodbye) and returns
   * them, with when each arrived (the last moment its users are known to have been there): the
   * caller announces the users who are now offline everywhere. Each expired snapshot is returned once.
   */
  expire(now: number): Array<{ instanceId: string; snapshot: PresenceSnapshot; at: number }> {
    const expired: Array<{ instanceId: string; snapshot: PresenceSnapshot; at: number }> = [];
    for (const [instanceId, entry] of this.#snapshots) {
      if (now - entry.at < this.#ttlMs) continue;
      this.#snapshots.delete(instanceId);
      expired.push({ instanceId, ...entry });
    }
    return expired;
  }

  /** Users connected anywhere: this instance's `local` plus every live remote snapshot. */
  connectedCount(local: PresenceSnapshot, now: number): number {
    const users = new Set(local.connected);
    for (const snapshot of this.live(now)) for (const userId of snapshot.connected) users.add(userId);
    return users.size;
  }

  visibleUserIds(local: PresenceSnapshot, now: number): string[] {
    const users = new Set(Object.keys(local.visible));
    for (const snapshot of this.live(now)) for (const userId of Object.keys(snapshot.visible)) users.add(userId);
    return [...users];
  }

  visibleStatus(userId: string, local: PresenceSnapshot, now: number): VisibleStatus {
    let best: VisibleStatus = local.visible[userId] ?? 'offline';
    for (const snapshot of this.live(now)) {
      const status = snapshot.visible[userId];
      if (status && rank[status] > rank[best]) best = status;
    }
    return best;
  }
}
