import { WindowCounter, type WindowCount } from '../domain/fixed-window-limiter.ts';

/**
 * Where rate-limit counters live. In-process now; a multi-instance deployment shares them through
 * Redis later (`INCR key` + `PEXPIRE key windowMs NX` answers exactly like `WindowCounter`), so the
 * interface is async and keys arrive namespaced (src/domain/rate-limit-budgets.ts).
 */
export interface CounterStore {
  /** Counts one hit on `key` in its fixed window of `windowMs` (starting at the key's first hit). */
  hit(key: string, windowMs: number, now: number): Promise<WindowCount>;
}

/** Counters of this process only (every instance counts on its own). */
export class InProcessCounterStore implements CounterStore {
  readonly #counter = new WindowCounter();

  hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    return Promise.resolve(this.#counter.hit(key, windowMs, now));
  }
}
