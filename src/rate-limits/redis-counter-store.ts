import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { WindowCount } from '../domain/fixed-window-limiter.ts';
import { busKindOf } from '../bus/create-event-bus.ts';
import { InProcessCounterStore, type CounterStore } from './counter-store.ts';
import { PostgresCounterStore } from './postgres-counter-store.ts';

/**
 * One fixed window per key, in a hash (`c` count, `r` window end), decided atomically by Redis with
 * the caller's clock: the same answers as WindowCounter, shared by every instance, and tests can
 * still step an injected clock past a window. The key's TTL only collects garbage.
 */
const HIT_SCRIPT = `
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local reset = tonumber(redis.call('HGET', KEYS[1], 'r'))
if (not reset) or now >= reset then
  reset = now + window
  redis.call('HSET', KEYS[1], 'c', 0, 'r', reset)
  redis.call('PEXPIRE', KEYS[1], window * 2 + 60000)
end
local count = redis.call('HINCRBY', KEYS[1], 'c', 1)
return {count, tostring(reset)}
`;

export const RATE_LIMIT_KEY_PREFIX = 'parley:rl:';

/**
 * Rate-limit counters shared by every instance through Redis. While Redis does not answer, this
 * instance counts on its own (a fallback in-process store) rather than refusing or letting
 * everything through: budgets hold per instance for those seconds, and REST keeps serving.
 */
export class RedisCounterStore implements CounterStore {
  readonly #redis: Redis;
  readonly #fallback = new InProcessCounterStore();
  readonly #onFallback: (error: unknown) => void;

  constructor(redis: Redis, onFallback: (error: unknown) => void = () => {}) {
    this.#redis = redis;
    this.#onFallback = onFallback;
    this.#redis.defineCommand('parleyHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
  }

  async hit(key: string, windowMs: number, now: number): Promise<WindowCount> {
    try {
      const [count, reset] = (await (this.#redis as unknown as {
        parleyHit(key: string, now: number, windowMs: number): Promise<[number, string]>;
      }).parleyHit(`${RATE_LIMIT_KEY_PREFIX}${key}`, now, windowMs)) ;
      return { count: Number(count), resetAt: Number(reset) };
    } catch (error) {
      this.#onFallback(error);
      return this.#fallback.hit(key, windowMs, now);
    }
  }
}

/**
 * The counter store for this configuration, where the bus is: Redis with REDIS_URL, PostgreSQL when
 * the processes share only the database (WORKERS>1 or EVENT_BUS=postgres), otherwise this process.
 */
export function counterStoreFor(config: Pick<Config, 'REDIS_URL' | 'EVENT_BUS' | 'WORKERS'>, app: FastifyInstance): CounterStore {
  if (!config.REDIS_URL) {
    if (busKindOf(config) !== 'postgres') return new InProcessCounterStore();
    let warnedAt = 0;
    return new PostgresCounterStore(() => app.db, (error) => {
      if (Date.now() - warnedAt < 10_000) return;
      warnedAt = Date.now();
      app.log.warn({ err: error }, 'rate-limit counters: PostgreSQL unavailable, counting in this process');
    });
  }
  const redis = new Redis(config.REDIS_URL, {
    connectionName: 'parley-rate-limits',
    // Fail fast while Redis is away: the store falls back to counting in-process.
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
  });
  redis.on('error', () => {});
  app.addHook('onClose', async () => redis.disconnect());
  let warned = 0;
  return new RedisCounterStore(redis, (error) => {
    // One line per 10 s at most: a Redis outage would otherwise log every request.
    if (Date.now() - warned < 10_000) return;
    warned = Date.now();
    app.log.warn({ err: error }, 'rate-limit counters: Redis unavailable, counting in this process');
  });
}
