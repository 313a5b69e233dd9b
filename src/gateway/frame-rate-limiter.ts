/**
 * "More than `limit` client frames in any `windowMs`" for one connection. Pure (time is passed in).
 *
 * A fixed window (src/domain/fixed-window-limiter.ts) would let 2 × limit frames through around a
 * window boundary, so this keeps the arrival times of the last `limit` frames in a ring: a frame
 * is over the limit exactly when the frame `limit` places before it arrived less than `windowMs`
 * ago. The ring (8 bytes per slot) is allocated on the first frame.
 */
export class FrameRateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  #times: Float64Array | undefined;
  #next = 0;
  #count = 0;

  constructor(limit: number, windowMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Records a frame; false when it is one too many for the window. */
  hit(now: number): boolean {
    const times = (this.#times ??= new Float64Array(this.#limit));
    // With `limit` frames recorded, the slot about to be overwritten holds the oldest of them.
    const allowed = this.#count < this.#limit || now - times[this.#next]! >= this.#windowMs;
    times[this.#next] = now;
    this.#next = (this.#next + 1) % this.#limit;
    if (this.#count < this.#limit) this.#count += 1;
    return allowed;
  }
}
