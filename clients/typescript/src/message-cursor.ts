/**
 * Per-channel position of the newest message the app has been given. Message ids are decimal
 * strings, time-ordered and handed out per channel in commit order, so "newer than what the app
 * has" is a numeric comparison; the gateway uses it to drop a copy it already delivered and to ask
 * history for what came `after` it.
 */
export function compareIds(a: string, b: string): number {
  // Decimal strings without leading zeros: a longer one is larger; else compare as text.
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export class MessageCursor {
  readonly #last = new Map<string, string>();

  /** The newest message id given to the app in the channel, if known. */
  last(channelId: string): string | undefined {
    return this.#last.get(channelId);
  }

  /** The channels with a known position. */
  channels(): string[] {
    return [...this.#last.keys()];
  }

  /** Records `messageId` as given if it is newer; false when the app already has it (or newer). */
  advance(channelId: string, messageId: string): boolean {
    const last = this.#last.get(channelId);
    if (last !== undefined && compareIds(messageId, last) <= 0) return false;
    this.#last.set(channelId, messageId);
    return true;
  }

  /** Sets a starting point (newest id at connect, or "0" for an empty channel) unless one is known. */
  baseline(channelId: string, messageId: string): void {
    const last = this.#last.get(channelId);
    if (last === undefined || compareIds(messageId, last) > 0) this.#last.set(channelId, messageId);
  }

  forget(channelId: string): void {
    this.#last.delete(channelId);
  }
}
