import { Redis } from 'ioredis';
import type { BusTransport } from './bus-transport.ts';

/** The pub/sub channel every instance publishes to and subscribes on. */
export const REDIS_EVENTS_CHANNEL = 'parley:events';

/**
 * Redis pub/sub: one PUBLISH per event, fanned out by Redis to each instance's subscriber
 * connection (one per instance, not per session). Pub/sub over Streams: events are only useful to
 * sessions connected now (history is PostgreSQL's job), so nothing needs to be kept or trimmed;
 * a lost subscription is detected and turned into a resync (SharedEventBus), not replayed.
 */
export class RedisTransport implements BusTransport {
  readonly name = 'redis';
  readonly #publisher: Redis;
  readonly #subscriber: Redis;

  constructor(url: string) {
    const options = {
      lazyConnect: true,
      // A publish while Redis is away fails fast instead of queueing for minutes: the bus turns
      // the failure into a resync of its own sessions.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
      connectionName: 'parley-bus',
    };
    this.#publisher = new Redis(url, options);
    this.#subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    // ioredis reports errors as events; the states below carry what matters.
    this.#publisher.on('error', () => {});
    this.#subscriber.on('error', () => {});
  }

  async start(onMessage: (payload: string) => void, onState: (state: 'up' | 'down') => void): Promise<void> {
    this.#subscriber.on('message', (channel: string, payload: string) => {
      if (channel === REDIS_EVENTS_CHANNEL) onMessage(payload);
    });
    let up = false;
    this.#subscriber.on('close', () => {
      if (!up) return;
      up = false;
      onState('down');
    });
    await Promise.all([this.#publisher.connect(), this.#subscriber.connect()]);
    await this.#subscriber.subscribe(REDIS_EVENTS_CHANNEL);
    up = true;
    // ioredis subscribes again by itself after a reconnect; `ready` comes after that.
    this.#subscriber.on('ready', () => {
      if (up) return;
      up = true;
      onState('up');
    });
  }

  async send(payload: string): Promise<void> {
    await this.#publisher.publish(REDIS_EVENTS_CHANNEL, payload);
  }

  /** A connection for other shared state (rate-limit counters, presence), same URL and options. */
  get commands(): Redis {
    return this.#publisher;
  }

  async close(): Promise<void> {
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }
}
