/**
 * The message timeline of one channel as the app shows it: pure functions, no DOM, no SDK, so
 * test/app/timeline.test.ts can table-test them. Confirmed messages are kept in id order (ids are
 * time-ordered snowflakes, unique per message); optimistic sends (`pending`) follow them in the
 * order they were typed, until the server's copy, found by its nonce, takes their place.
 */

export interface TimelineAuthor {
  id: string;
  username: string;
  display_name: string;
  role: string;
  last_seen_at: string | null;
}

export interface TimelineMessage {
  id: string;
  channel_id: string;
  author: TimelineAuthor;
  content: string;
  nonce: string | null;
  reply_to_id: string | null;
  created_at: string;
  edited_at: string | null;
  /** Shown before the server confirmed it (optimistic send); its id is local. */
  pending?: boolean;
  /** The send failed for good; the item stays so the text is not lost. */
  failed?: boolean;
}

/** Snowflakes are decimal strings without leading zeros: longer is larger, then compare text. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Puts a confirmed message into the timeline: it replaces the optimistic item with its nonce (the
 * ack and the message_created event may arrive in either order, and a resent frame reuses the nonce),
 * replaces an older copy with its id (an edit), or is inserted in id order. Never a duplicate.
 */
export function upsertMessage(list: readonly TimelineMessage[], message: TimelineMessage): TimelineMessage[] {
  const confirmed = list.filter((item) => !item.pending && item.id !== message.id);
  const pending = list.filter((item) => item.pending && !(message.nonce !== null && item.nonce === message.nonce));
  let index = confirmed.length;
  while (index > 0 && compareIds(confirmed[index - 1]!.id, message.id) > 0) index -= 1;
  confirmed.splice(index, 0, { ...message, pending: false, failed: false });
  return [...confirmed, ...pending];
}

/** Adds a page of history (any order, possibly overlapping what is shown). */
export function mergeMessages(list: readonly TimelineMessage[], page: readonly TimelineMessage[]): TimelineMessage[] {
  const byId = new Map<string, TimelineMessage>();
  for (const item of list) if (!item.pending) byId.set(item.id, item);
  for (const item of page) byId.set(item.id, { ...item, pending: false, failed: false });
  const pendingNonces = new Set(page.map((item) => item.nonce).filter((nonce): nonce is string => nonce !== null));
  const pending = list.filter((item) => item.pending && !(item.nonce !== null && pendingNonces.has(item.nonce)));
  return [...[...byId.values()].sort((a, b) => compareIds(a.id, b.id)), ...pending];
}

/** Adds an optimistic item for a send in flight. */
export function addPending(list: readonly TimelineMessage[], message: TimelineMessage): TimelineMessage[] {
  return [...list, { ...message, pending: true }];
}

export function markFailed(list: readonly TimelineMessage[], nonce: string): TimelineMessage[] {
  return list.map((item) => (item.pending && item.nonce === nonce ? { ...item, failed: true } : item));
}

export function removeMessage(list: readonly TimelineMessage[], id: string): TimelineMessage[] {
  return list.filter((item) => item.id !== id);
}

/** The newest confirmed message, the one a read marker points at. */
export function newestConfirmed(list: readonly TimelineMessage[]): TimelineMessage | undefined {
  for (let index = list.length - 1; index >= 0; index -= 1) if (!list[index]!.pending) return list[index];
  return undefined;
}

/** Whether two messages in a row read as one group (same author, within five minutes). */
export function continuesGroup(previous: TimelineMessage | undefined, message: TimelineMessage): boolean {
  if (!previous || previous.author.id !== message.author.id || message.reply_to_id) return false;
  return Date.parse(message.created_at) - Date.parse(previous.created_at) < 5 * 60_000;
}
