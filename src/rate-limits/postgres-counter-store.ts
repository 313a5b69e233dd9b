import type { DatabasePool } from 'slonik';
import type { WindowCount } from '../domain/fixed-window-limiter.ts';
import { deleteEndedCounters, hitCounter } from '../repositories/rate-limit-counters-repository.ts';
import { InProcessCounterStore, type CounterStore } from './counter-store.ts';

/** One hit in this many also clears ended windows (bounded table, no timer). */
const SWEEP_EVERY = 1000;
/** Ended windows are kept this long before a sweep removes them. */
const SWEEP_AGE_MS = 3_600_000;

/**
 * Rate-limit counters shared by every process on one PostgreSQL (WORKERS>1 or EVENT_BUS=postgres
 * without Redis): one upsert per hit (sql/008_rate_limit_counters.sql). While the database does
 * not answer, this process counts on its own, as RedisCounterStore does while Redis is away.
 * `pool` is a getter: the limiter is built before the database plugin has connected.
 */
export class PostgresCounterStore implements CounterStore {
  readonly #pool: () => DatabasePool;
  readonly #fallback = new InProcessCounterStore();
  readonly #onFallback: (error: unknown) => void;
  #hits = 0;

  constructor(pool: () => DatabasePool, onFallback: (error: unknown) => void = () => {}) {
    this.#pool = pool;
    this.#onFallback = onFallback;
  }

  async hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    try {
      const db = this.#pool();
      const count = await hitCounter(db, key, windowMs, now);
      this.#hits += 1;
      if (this.#hits % SWEEP_EVERY === 0) {
        deleteEndedCounters(db, now - SWEEP_AGE_MS).catch((error: unknown) => this.#onFallback(error));
      }
      return count;
    } catch (error) {
      this.#onFallback(error);
      return this.#fallback.hit(key, windowMs, now);
    }
  }
}
