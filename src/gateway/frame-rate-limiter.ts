/**
 * "More than `limit` client frames in any `windowMs`" for one connection. Pure (time is passed in).
 *
 * Exact, like a log of every frame: a frame is over the limit when `limit` frames already arrived
 * less than `windowMs` before it (a fixed window would let 2 × limit through around a boundary).
 * Only the arrival times still inside the window are kept, in a ring that grows with the rate
 * (up to `limit` slots) and shrinks when the rate falls, so memory follows what a client sends:
 * a heartbeating idle connection (a frame every 20-odd seconds) holds a handful of numbers, not
 * `limit` of them, and a generous WS_RATE_LIMIT_FRAMES costs nothing until a client uses it.
 */
const MIN_CAPACITY = 4;

export class FrameRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  /** Arrival times, oldest first from #head; allocated on the first frame. */
  #times: number[] | null = null;
  #head = 0;
  #size = 0;

  constructor(limit: number, windowMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Slots currently allocated (tests: memory follows the rate). */
  get capacity(): number {
    return this.#times?.length ?? 0;
  }

  /** Records a frame; false when it is one too many for the window. */
  hit(now: number): boolean {
    this.#expire(now);
    const allowed = this.#size < this.#limit;
    // Over the limit: the oldest recorded frame is inside the window; keep the newest `limit`.
    if (!allowed) this.#dropOldest();
    this.#push(now);
    return allowed;
  }

  /** Forgets frames that arrived `windowMs` or more before `now`. */
  #expire(now: number): void {
    const times = this.#times;
    if (times === null) return;
    while (this.#size > 0 && now - times[this.#head]! >= this.#windowMs) this.#dropOldest();
    if (times.length > MIN_CAPACITY && this.#size <= times.length / 4) this.#resize(times.length / 2);
  }

  #dropOldest(): void {
    this.#head = (this.#head + 1) % this.#times!.length;
    this.#size -= 1;
  }

  #push(now: number): void {
    if (this.#times === null) this.#times = new Array<number>(Math.min(MIN_CAPACITY, this.#limit));
    else if (this.#size === this.#times.length) this.#resize(Math.min(this.#limit, this.#times.length * 2));
    const times = this.#times;
    times[(this.#head + this.#size) % times.length] = now;
    this.#size += 1;
  }

  #resize(capacity: number): void {
    const times = this.#times!;
    const next = new Array<number>(Math.max(MIN_CAPACITY, Math.ceil(capacity)));
    for (let index = 0; index < this.#size; index += 1) next[index] = times[(this.#head + index) % times.length]!;
    this.#times = next;
    this.#head = 0;
  }
}
