/**
 * Presence, as pure logic (time is passed in; the gateway runs the grace timers).
 *
 * - A user is connected while they have at least one gateway connection.
 * - A new user starts `online`; `presence_update` sets online, idle, dnd or invisible.
 * - Others see the chosen status, except that `invisible` shows `offline`.
 * - When the last connection closes the user stays as they are for `graceMs` (a reconnect or a
 *   resume within it changes nothing); after it they are `offline` and their state is dropped.
 *
 * Every method returns the change others must be told about (the visible status moved), or null.
 */
export type SettablePresenceStatus = 'online' | 'idle' | 'dnd' | 'invisible';
export type VisiblePresenceStatus = 'online' | 'idle' | 'dnd' | 'offline';

export interface PresenceChange {
  userId: string;
  status: VisiblePresenceStatus;
  /** ms since the epoch: now for a user who is connected and visible; otherwise when last seen (null if never). */
  lastSeenAt: number | null;
}

interface UserPresence {
  connections: number;
  status: SettablePresenceStatus;
  /** Set while in the grace period after the last connection closed. */
  graceUntil: number | null;
  /** When the user was last connected (the last disconnect), or the stored value at first connect. */
  lastSeenAt: number | null;
  /** What others were last told. */
  visible: VisiblePresenceStatus;
}

export interface Expiry {
  /** When the user was last connected (to persist as users.last_seen_at). */
  lastSeenAt: number;
  /** False for invisible users: their last_seen_at is not moved (it would reveal them). */
  persist: boolean;
  change: PresenceChange | null;
}

export const visibleStatusOf = (status: SettablePresenceStatus): VisiblePresenceStatus =>
  status === 'invisible' ? 'offline' : status;

export class PresenceTracker {
  readonly #graceMs: number;
  readonly #users = new Map<string, UserPresence>();

  constructor(graceMs: number) {
    this.#graceMs = graceMs;
  }

  get graceMs(): number {
    return this.#graceMs;
  }

  /** A connection of the user became ready (new or resumed). */
  connect(userId: string, now: number, storedLastSeenAt: number | null = null): PresenceChange | null {
    const state = this.#users.get(userId);
    if (state) {
      state.connections += 1;
      state.graceUntil = null;
      return null;
    }
    this.#users.set(userId, {
      connections: 1,
      status: 'online',
      graceUntil: null,
      lastSeenAt: storedLastSeenAt,
      visible: 'online',
    });
    return { userId, status: 'online', lastSeenAt: now };
  }

  /**
   * A connection of the user closed. Returns the grace deadline when it was the last one (call
   * `expire` then), or null. With `graceMs` 0 the caller calls `expire(userId, now)` at once.
   */
  disconnect(userId: string, now: number): number | null {
    const state = this.#users.get(userId);
    if (!state || state.connections === 0) return null;
    state.connections -= 1;
    state.lastSeenAt = now;
    if (state.connections > 0) return null;
    state.graceUntil = now + this.#graceMs;
    return state.graceUntil;
  }

  /** The grace period may have ended: the user goes offline if they did not come back. */
  expire(userId: string, now: number): Expiry | null {
    const state = this.#users.get(userId);
    if (!state || state.connections > 0 || state.graceUntil === null || now < state.graceUntil) return null;
    this.#users.delete(userId);
    const lastSeenAt = state.lastSeenAt ?? now;
    const persist = state.status !== 'invisible';
    const change: PresenceChange | null =
      state.visible === 'offline' ? null : { userId, status: 'offline', lastSeenAt };
    return { lastSeenAt, persist, change };
  }

  /** The user chose a status (only while connected). */
  setStatus(userId: string, status: SettablePresenceStatus, now: number): PresenceChange | null {
    const state = this.#users.get(userId);
    if (!state || state.connections === 0) return null;
    state.status = status;
    const visible = visibleStatusOf(status);
    if (visible === state.visible) return null;
    state.visible = visible;
    return { userId, status: visible, lastSeenAt: visible === 'offline' ? state.lastSeenAt : now };
  }

  /** When a user in the grace period goes offline (null when connected or unknown). */
  graceDeadline(userId: string): number | null {
    const state = this.#users.get(userId);
    return state && state.connections === 0 ? state.graceUntil : null;
  }

  /** What others see now. */
  visibleStatus(userId: string): VisiblePresenceStatus {
    return this.#users.get(userId)?.visible ?? 'offline';
  }

  /** Users with at least one connection (invisible ones included): the `online` statistic. */
  connectedUserCount(): number {
    let count = 0;
    for (const state of this.#users.values()) if (state.connections > 0) count += 1;
    return count;
  }

  /** Users others currently see as not offline (connected or in grace, and not invisible). */
  visibleOnlineUserIds(): string[] {
    const ids: string[] = [];
    for (const [userId, state] of this.#users) if (state.visible !== 'offline') ids.push(userId);
    return ids;
  }

  /** Users whose state is kept (connected or in grace), with when they were last seen. */
  trackedUsers(): Array<{ userId: string; connected: boolean; persist: boolean }> {
    return [...this.#users].map(([userId, state]) => ({
      userId,
      connected: state.connections > 0,
      persist: state.status !== 'invisible',
    }));
  }
}
