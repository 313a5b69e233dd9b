/**
 * The bounded per-session event log behind `resume`. Pure (time is passed in).
 *
 * Every event sent (or, while disconnected, recorded) for a session gets the next `seq`; the
 * buffer keeps the newest events, at most `maxEvents` of them and none older than `windowMs`.
 * Because seqs are consecutive, an entry's seq is implied by its position: the buffer stores
 * only references to the shared, pre-serialized event (one pointer per event per session), so
 * an idle session costs nothing and a busy one 8 bytes per retained event.
 */
export interface TimedEntry {
  /** When the event was recorded (ms, the same clock as `now`). */
  readonly at: number;
}

export type ReplayResult<T> =
  /** Every event with a seq greater than the one asked for, oldest first (possibly none). */
  | { kind: 'ok'; entries: T[]; firstSeq: number }
  /** Events after `seq` were already dropped (too old or over the count bound): gap. */
  | { kind: 'expired' }
  /** `seq` is greater than the last seq handed out: the client claims an event never sent. */
  | { kind: 'future' };

const NO_EVENTS: never[] = [];

export class ResumeBuffer<T extends TimedEntry> {
  readonly #maxEvents: number;
  readonly #windowMs: number;
  /** Ring storage, grown on demand up to maxEvents (an idle session allocates nothing: the
   * empty ring is shared, never written; the first push replaces it). */
  #ring: (T | undefined)[] = NO_EVENTS;
  #head = 0;
  #size = 0;
  #lastSeq = 0;

  constructor(maxEvents: number, windowMs: number) {
    if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new RangeError('maxEvents must be a positive integer');
    this.#maxEvents = maxEvents;
    this.#windowMs = windowMs;
  }

  /** The seq of the newest event (0 before the first). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Number of retained events. */
  get size(): number {
    return this.#size;
  }

  /** The seq of the oldest retained event (lastSeq + 1 when empty). */
  get firstSeq(): number {
    return this.#lastSeq - this.#size + 1;
  }

  /** Records an event and returns its seq. */
  push(entry: T, now: number): number {
    this.prune(now);
    if (this.#size === this.#maxEvents) this.#dropOldest();
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) % this.#ring.length] = entry;
    this.#size += 1;
    this.#lastSeq += 1;
    return this.#lastSeq;
  }

  /** Drops events older than the window. */
  prune(now: number): void {
    const oldestAllowed = now - this.#windowMs;
    while (this.#size > 0 && this.#ring[this.#head]!.at < oldestAllowed) this.#dropOldest();
  }

  /** The events after `seq` (what a client that has processed `seq` missed). */
  since(seq: number, now: number): ReplayResult<T> {
    if (!Number.isInteger(seq) || seq < 0) return { kind: 'expired' };
    if (seq > this.#lastSeq) return { kind: 'future' };
    this.prune(now);
    if (seq < this.firstSeq - 1) return { kind: 'expired' };
    const entries: T[] = [];
    const skip = seq - this.firstSeq + 1;
    for (let index = skip; index < this.#size; index += 1) {
      entries.push(this.#ring[(this.#head + index) % this.#ring.length]!);
    }
    return { kind: 'ok', entries, firstSeq: seq + 1 };
  }

  #dropOldest(): void {
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size -= 1;
    if (this.#size === 0) this.#head = 0;
  }

  #grow(): void {
    const capacity = Math.min(this.#maxEvents, Math.max(8, this.#ring.length * 2));
    const next: (T | undefined)[] = new Array(capacity);
    for (let index = 0; index < this.#size; index += 1) next[index] = this.#ring[(this.#head + index) % this.#ring.length];
    this.#ring = next;
    this.#head = 0;
  }
}
