/**
 * Per-channel ordering of events that crossed a shared bus (Redis or PostgreSQL NOTIFY), as pure
 * logic: the caller runs the timers and the database reads.
 *
 * Why: each instance publishes after its own commit, so two instances that committed messages m1
 * then m2 (the channel row lock orders the commits) may publish them m2 first. A message.created
 * event carries `prev` = the channel's last allocated id read under that row lock, i.e. the id of
 * the message committed just before it. The chain prev -> id is dense per channel, so a receiver
 * knows when something is missing:
 *
 * - an item whose `prev` is the last id delivered goes out at once (and unblocks what waited on it);
 * - an item whose id is at or below the last id delivered is a duplicate and is dropped (a gap fill
 *   already delivered it): nothing is delivered twice;
 * - otherwise it is held, with every later event of the channel behind it, until its predecessor
 *   arrives or the caller fills the gap from the database (`filled`) after a short hold.
 *
 * Events without a sequence (edits, deletions, membership, typing, ...) keep their arrival order
 * relative to the held ones: they queue behind a held message.
 */
export interface Sequenced {
  id: bigint;
  /** The message committed before this one in the channel; null for the channel's first. */
  prev: bigint | null;
}

interface Held<T> {
  item: T;
  seq: Sequenced | undefined;
}

interface ChannelState<T> {
  /** The last message id delivered (null: none yet seen in this process). */
  last: bigint | null;
  queue: Held<T>[];
  /** When the head of the queue started waiting (the caller's clock). */
  blockedSince: number | null;
}

export interface Gap {
  channelId: string;
  /** Deliver what lies strictly between these ids (afterId null: from the start). */
  afterId: bigint | null;
  beforeId: bigint;
  since: number;
}

export class ChannelSequencer<T> {
  readonly #channels = new Map<string, ChannelState<T>>();

  /**
   * An event of `channelId` arrived; returns what to deliver now, in order. `seq` for a
   * message.created (a message with a place in history), undefined for the rest.
   */
  accept(channelId: string, item: T, seq: Sequenced | undefined, now: number): T[] {
    let state = this.#channels.get(channelId);
    if (!state) {
      // Nothing sequenced seen yet here (typing, presence, ...): nothing to hold it behind. It must
      // not start a chain either: an unknown start taken as "none" would hold the next message for
      // a gap fill from the beginning of the channel's history.
      if (!seq) return [item];
      // First sequenced event of this channel seen here: what was committed before it happened
      // before this process listened, so the chain starts at its predecessor.
      state = { last: seq.prev, queue: [], blockedSince: null };
      this.#channels.set(channelId, state);
    }
    if (seq && state.last !== null && seq.id <= state.last) return [];
    insertInOrder(state.queue, { item, seq });
    return this.#drain(state, now);
  }

  /**
   * The database answered the gap before `beforeId`: `items` are the messages committed between the
   * last delivered id and that held one (oldest first). They go out, then whatever waited behind them.
   */
  filled(channelId: string, items: { item: T; id: bigint }[], beforeId: bigint, now: number): T[] {
    const state = this.#channels.get(channelId);
    if (!state) return items.map((entry) => entry.item);
    const out: T[] = [];
    const head = state.queue[0]?.seq;
    for (const entry of items) {
      if (state.last !== null && entry.id <= state.last) continue;
      if (head && entry.id >= head.id) break;
      out.push(entry.item);
      state.last = entry.id;
    }
    // Whatever the database no longer has (deleted meanwhile) cannot be delivered: move on, but only
    // up to the message this read was for. While the read was out, that message may have gone out
    // and a later one become the head: skipping to the later one's predecessor would drop messages
    // this read never covered.
    if (head && head.id === beforeId) state.last = head.prev;
    out.push(...this.#drain(state, now));
    return out;
  }

  /** The channels whose head has waited since `before` or earlier: the caller fills them. */
  gaps(before: number): Gap[] {
    const gaps: Gap[] = [];
    for (const [channelId, state] of this.#channels) {
      const head = state.queue[0]?.seq;
      if (head && state.blockedSince !== null && state.blockedSince <= before) {
        gaps.push({ channelId, afterId: state.last, beforeId: head.id, since: state.blockedSince });
      }
    }
    return gaps;
  }

  /** Items held across all channels (tests, metrics). */
  get heldCount(): number {
    let count = 0;
    for (const state of this.#channels.values()) count += state.queue.length;
    return count;
  }

  /** Forget a channel (deleted): its held items are dropped. */
  forget(channelId: string): void {
    this.#channels.delete(channelId);
  }

  #drain(state: ChannelState<T>, now: number): T[] {
    const out: T[] = [];
    while (state.queue.length > 0) {
      const head = state.queue[0]!;
      if (head.seq) {
        if (state.last !== null && head.seq.id <= state.last) {
          state.queue.shift();
          continue;
        }
        if (head.seq.prev !== state.last) {
          if (state.blockedSince === null) state.blockedSince = now;
          return out;
        }
        state.last = head.seq.id;
      }
      state.queue.shift();
      state.blockedSince = null;
      out.push(head.item);
    }
    state.blockedSince = null;
    return out;
  }
}

/**
 * A sequenced item goes right before the first held message committed after it (its place in
 * history); otherwise at the end. Unsequenced items keep their arrival place, after what was held
 * when they came (an edit that arrived after a held message stays after it).
 */
function insertInOrder<T>(queue: Held<T>[], entry: Held<T>): void {
  const at = entry.seq ? queue.findIndex((held) => held.seq !== undefined && held.seq.id > entry.seq!.id) : -1;
  if (at === -1) queue.push(entry);
  else queue.splice(at, 0, entry);
}
