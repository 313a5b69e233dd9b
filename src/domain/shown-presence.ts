import type { PresenceSnapshot, VisibleStatus } from './presence-snapshots.ts';

/**
 * What one instance's sessions were last told (`presence_updated`) of each user's status over all
 * instances, so that every move is announced exactly once by each instance, and nothing else is:
 * a user who goes offline on one instance but is online on another has not moved.
 */
export class ShownPresence {
  /** Users shown as not offline; absent means offline (or never announced here). */
  readonly #shown = new Map<string, Exclude<VisibleStatus, 'offline'>>();

  /**
   * The user's status over all instances is now `status`: returns it when this instance's sessions
   * must be told (it moved from what they were told), else null. `assumed` is what they may believe
   * of a user nothing was announced for here: one another instance's snapshot showed (connected
   * there before this instance heard of it).
   */
  settle(userId: string, status: VisibleStatus, assumed: VisibleStatus = 'offline'): VisibleStatus | null {
    const before = this.#shown.get(userId) ?? assumed;
    if (status === 'offline') this.#shown.delete(userId);
    else this.#shown.set(userId, status);
    return before === status ? null : status;
  }
}

/**
 * The users whose status may have moved when `before` (snapshots that were replaced or dropped)
 * became `after`, each with the status `before` showed (offline when absent): the `assumed` of
 * `ShownPresence.settle`. Users showing the same in both cannot have moved.
 */
export function changedUsers(
  before: ReadonlyArray<PresenceSnapshot['visible']>,
  after: PresenceSnapshot['visible'] = {},
): Map<string, VisibleStatus> {
  const changed = new Map<string, VisibleStatus>();
  for (const visible of before) {
    for (const [userId, status] of Object.entries(visible)) if (after[userId] !== status && !changed.has(userId)) changed.set(userId, status);
  }
  const shownBefore = (userId: string) => before.some((visible) => visible[userId] !== undefined);
  for (const userId of Object.keys(after)) if (!shownBefore(userId)) changed.set(userId, 'offline');
  return changed;
}
