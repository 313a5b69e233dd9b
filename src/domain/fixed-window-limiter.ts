/**
 * Fixed-window counting, pure (time is passed in).
 *
 * A key's window starts at its first hit and lasts `windowMs`; every hit in it counts, refused
 * ones too (so a client that keeps hammering stays refused until the window ends). This is the
 * semantics of Redis `INCR` + `PEXPIRE … NX`, so a shared counter store can replace
 * `WindowCounter` without changing a single decision.
 */
export interface WindowCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** When the current window ends (ms, the same clock as `now`). */
  resetAt: number;
}

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the window resets (at least 1): `Retry-After`, `X-RateLimit-Reset`. */
  resetSeconds: number;
  /** Milliseconds until the window resets (at least 0): the gateway's `retry_after_ms`. */
  resetMs: number;
}

/** A counter's answer against a limit. */
export function decide(limit: number, window: WindowCount, now: number): LimitDecision {
  const resetMs = Math.max(0, window.resetAt - now);
  return {
    allowed: window.count <= limit,
    limit,
    remaining: Math.max(0, limit - window.count),
    resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
    resetMs,
  };
}

/**
 * The decision to report when a request spent several budgets at once: a refused one if any
 * (the one that frees up last, so `Retry-After` is honest), else the one with the least left.
 */
export function mostRestrictive<D extends LimitDecision>(decisions: readonly D[]): D | undefined {
  let worst: D | undefined;
  for (const decision of decisions) {
    if (!worst) worst = decision;
    else if (decision.allowed !== worst.allowed) {
      if (!decision.allowed) worst = decision;
    } else if (!decision.allowed) {
      if (decision.resetMs > worst.resetMs) worst = decision;
    } else if (decision.remaining < worst.remaining || (decision.remaining === worst.remaining && decision.resetMs > worst.resetMs)) {
      worst = decision;
    }
  }
  return worst;
}

/** Expired windows are swept when the map has doubled since the last sweep (amortised O(1) per hit). */
const MIN_SWEEP_SIZE = 1024;

/** In-memory fixed windows per key; each hit may name its own window length. */
export class WindowCounter {
  readonly #windows = new Map<string, WindowCount>();
  #sweepAt = MIN_SWEEP_SIZE;

  hit(key: string, windowMs: number, now: number): WindowCount {
    let window = this.#windows.get(key);
    if (!window || now >= window.resetAt) {
      window = { count: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
      if (this.#windows.size >= this.#sweepAt) this.#sweep(now);
    }
    window.count += 1;
    return { count: window.count, resetAt: window.resetAt };
  }

  /** Keys currently held (tests: expired windows are let go). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now >= window.resetAt) this.#windows.delete(key);
    }
    this.#sweepAt = Math.max(MIN_SWEEP_SIZE, this.#windows.size * 2);
  }
}

/** One limit and window for every key (the typing announcement throttle). */
export class FixedWindowLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #counter = new WindowCounter();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  hit(key: string, now: number): LimitDecision {
    return decide(this.#limit, this.#counter.hit(key, this.#windowMs, now), now);
  }

  /** Keys currently held (tests: expired windows are let go). */
  get size(): number {
    return this.#counter.size;
  }
}
