/**
 * Per-channel ordering of events that crossed a shared bus (Redis or PostgreSQL NOTIFY), as pure
 * logic: the caller runs the timers and the database reads.
 *
 * Why: each instance publishes after its own commit, so two instances that committed messages m1
 * then m2 (the channel row lock orders the commits) may publish them m2 first. A message.created
 * event carries `prev` = the channel's last allocated id read under that row lock, i.e. the id of
 * the message (or event slot) committed just before it. The chain prev -> id is dense per channel,
 * so a receiver knows when something is missing:
 *
 * - an item whose `prev` is the last id delivered goes out at once (and unblocks what waited on it);
 * - a message whose id is at or below the last id delivered is a duplicate and is dropped (a gap
 *   fill already delivered it): nothing is delivered twice. An event slot (`event: true`) is never
 *   read back by a gap fill, so one that comes after the chain moved past it (its hold ran out) is
 *   delivered late rather than lost (a kick that never applied would leak the channel forever);
 * - otherwise it is held, with every later event of the channel behind it, until its predecessor
 *   arrives or the caller fills the gap from the database (`filled`) after a short hold.
 *
 * Guild-wide events (a kick, a role change) have a place in the chain of EVERY channel they affect
 * (`acceptAt` with several places): the event goes out once, when every one of those chains has
 * reached it, and each channel's later events wait behind it. So on every instance a message
 * committed after a kick is delivered after the kick has applied, whichever channel it is in.
 * There is no cycle of waits: the places were taken under the channel row locks in one
 * transaction, so across channels the places follow one commit order.
 *
 * Where a chain starts: `floor` is an id below every id allocated after this process started
 * listening (read from the database before subscribing). The first event of a channel whose
 * predecessor is above the floor may have an in-flight predecessor this process must still
 * deliver: the chain starts at the floor, and the gap (floor, first id) is waited for or read from
 * the database like any other gap. A predecessor at or below the floor was committed before this
 * process listened: the chain starts right there. Without a floor (null) a chain starts at its
 * first event's predecessor.
 *
 * Events without a sequence (typing, read receipts, ...) keep their arrival order relative to the
 * held ones: they queue behind a held message.
 */
export interface Sequenced {
  id: bigint;
  /** The message or event committed before this one in the channel; null for the channel's first. */
  prev: bigint | null;
  /** A slot event (edit, deletion, membership, guild-wide change), not a message: never gap-filled. */
  event?: boolean;
}

/** One channel's place of an item (a guild-wide event has several). */
export interface Place {
  channelId: string;
  seq: Sequenced | undefined;
}

/** A guild-wide event held in several channels: out when none of them is still short of it. */
interface Joint<T> {
  item: T;
  /** Channels whose chain has not reached the event yet. */
  waiting: Set<string>;
  channels: string[];
}

interface Held<T> {
  item: T;
  seq: Sequenced | undefined;
  joint?: Joint<T>;
}

interface ChannelState<T> {
  /** The last id delivered (null: the channel's start); the floor while `atFloor`. */
  last: bigint | null;
  /** No event delivered yet: `last` is the floor, and any item whose predecessor is at or below it starts the chain. */
  atFloor: boolean;
  queue: Held<T>[];
  /** When the head of the queue started waiting for its predecessor (the caller's clock). */
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
  readonly #floor: bigint | null;

  constructor(options: { floor?: bigint | null } = {}) {
    this.#floor = options.floor ?? null;
  }

  /**
   * An event of `channelId` arrived; returns what to deliver now, in order. `seq` for an event with
   * a place in the channel's chain (a message, an edit, ...), undefined for the rest.
   */
  accept(channelId: string, item: T, seq: Sequenced | undefined, now: number): T[] {
    return this.acceptAt([{ channelId, seq }], item, now);
  }

  /**
   * An event with a place in each of several channels (a guild-wide change); every place must
   * carry a seq when there are several. It goes out once, when every chain has reached it.
   */
  acceptAt(places: readonly Place[], item: T, now: number): T[] {
    if (places.length === 0) return [item];
    const joint: Joint<T> | undefined =
      places.length > 1 ? { item, waiting: new Set(places.map((place) => place.channelId)), channels: places.map((place) => place.channelId) } : undefined;
    const out: T[] = [];
    const touched: string[] = [];
    let late = false;
    for (const { channelId, seq } of places) {
      let state = this.#channels.get(channelId);
      if (!state) {
        // Nothing sequenced seen yet here (typing, presence, ...): nothing to hold it behind. It must
        // not start a chain either: an unknown start taken as "none" would hold the next message for
        // a gap fill from the beginning of the channel's history.
        if (!seq) return [item];
        state = this.#start(seq);
        this.#channels.set(channelId, state);
      }
      if (seq && state.last !== null && seq.id <= state.last) {
        // Behind the chain: before this process listened (at the floor), a duplicate message, or a
        // late slot event, which still goes out (once: no gap fill delivers events).
        const isLate = this.#isLateEvent(seq);
        late ||= isLate;
        if (joint) joint.waiting.delete(channelId);
        else if (isLate) out.push(item);
        continue;
      }
      insertInOrder(state.queue, joint ? { item, seq, joint } : { item, seq });
      touched.push(channelId);
    }
    // Every place was behind its chain: a late guild-wide event goes out now (one from before this
    // process listened does not).
    if (joint && touched.length === 0 && late) out.push(item);
    out.push(...this.#drainAll(touched, now));
    return out;
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
      state.atFloor = false;
    }
    // Whatever the database no longer has (deleted meanwhile, or a slot whose event never came)
    // cannot be delivered: move on, but only up to the item this read was for. While the read was
    // out, that item may have gone out and a later one become the head: skipping to the later
    // one's predecessor would drop messages this read never covered.
    if (head && head.id === beforeId) {
      state.last = head.prev;
      state.atFloor = false;
    }
    out.push(...this.#drainAll([channelId], now));
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

  /**
   * Forget a channel (deleted): its held items are dropped. A guild-wide event held there no longer
   * waits for it: returns what that releases in the other channels.
   */
  forget(channelId: string, now: number): T[] {
    const state = this.#channels.get(channelId);
    this.#channels.delete(channelId);
    if (!state) return [];
    const others = new Set<string>();
    for (const held of state.queue) {
      if (!held.joint) continue;
      held.joint.waiting.delete(channelId);
      for (const other of held.joint.channels) if (other !== channelId) others.add(other);
    }
    return this.#drainAll(others, now);
  }

  /** A slot event the chain moved past, committed after this process listened: deliver it late. */
  #isLateEvent(seq: Sequenced): boolean {
    return seq.event === true && (this.#floor === null || seq.id > this.#floor);
  }

  #start(seq: Sequenced): ChannelState<T> {
    const floor = this.#floor;
    // Committed before this process listened (or the channel's very first): the chain starts there.
    if (floor === null || seq.prev === null || seq.prev <= floor) {
      return { last: seq.prev, atFloor: false, queue: [], blockedSince: null };
    }
    // Its predecessor was committed after this process listened and may still be on its way.
    return { last: floor, atFloor: true, queue: [], blockedSince: null };
  }

  /** Drains the given channels, and every channel a completed guild-wide event releases. */
  #drainAll(channelIds: Iterable<string>, now: number): T[] {
    const out: T[] = [];
    const work = [...new Set(channelIds)];
    while (work.length > 0) {
      const channelId = work.shift()!;
      const state = this.#channels.get(channelId);
      if (state) out.push(...this.#drain(channelId, state, now, work));
    }
    return out;
  }

  #drain(channelId: string, state: ChannelState<T>, now: number, work: string[]): T[] {
    const out: T[] = [];
    while (state.queue.length > 0) {
      const head = state.queue[0]!;
      if (head.seq) {
        if (state.last !== null && head.seq.id <= state.last && !state.atFloor) {
          // A gap fill moved the chain past it while it waited: a message was delivered by the
          // fill; an event was not, so it goes out now (late rather than never).
          state.queue.shift();
          if (head.joint) {
            head.joint.waiting.delete(channelId);
            out.push(...this.#complete(head.joint, work));
          } else if (this.#isLateEvent(head.seq)) out.push(head.item);
          continue;
        }
        const reached =
          head.seq.prev === state.last || (state.atFloor && (head.seq.prev === null || (state.last !== null && head.seq.prev <= state.last)));
        if (!reached) {
          if (state.blockedSince === null) state.blockedSince = now;
          return out;
        }
        if (head.joint) {
          head.joint.waiting.delete(channelId);
          state.blockedSince = null;
          // Parked: this chain is there, others are not yet. Not a gap: nothing to read.
          if (head.joint.waiting.size > 0) return out;
          out.push(...this.#complete(head.joint, work));
          continue;
        }
        state.last = head.seq.id;
        state.atFloor = false;
      }
      state.queue.shift();
      state.blockedSince = null;
      out.push(head.item);
    }
    state.blockedSince = null;
    return out;
  }

  /**
   * A guild-wide event no chain is short of any more: out once, and every channel parked on it
   * moves past it (those other than the one draining now are drained next).
   */
  #complete(joint: Joint<T>, work: string[]): T[] {
    if (joint.waiting.size > 0) return [];
    for (const channelId of joint.channels) {
      const state = this.#channels.get(channelId);
      const head = state?.queue[0];
      if (!state || head?.joint !== joint) continue;
      state.queue.shift();
      state.last = head.seq!.id;
      state.atFloor = false;
      state.blockedSince = null;
      if (!work.includes(channelId)) work.push(channelId);
    }
    return [joint.item];
  }
}

/**
 * A sequenced item goes right before the first held item committed after it (its place in
 * history); otherwise at the end. Unsequenced items keep their arrival place, after what was held
 * when they came (an edit that arrived after a held message stays after it).
 */
function insertInOrder<T>(queue: Held<T>[], entry: Held<T>): void {
  const at = entry.seq ? queue.findIndex((held) => held.seq !== undefined && held.seq.id > entry.seq!.id) : -1;
  if (at === -1) queue.push(entry);
  else queue.splice(at, 0, entry);
}
