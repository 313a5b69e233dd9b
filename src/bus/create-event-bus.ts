import type { FastifyBaseLogger } from 'fastify';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import type { DomainEvent } from '../events/domain-events.ts';
import { InProcessEventBus, type EventBus } from '../events/event-bus.ts';
import { chainFloor } from '../repositories/channels-repository.ts';
import { historySlice, toApiMessage } from '../repositories/messages-repository.ts';
import { PostgresTransport } from './postgres-transport.ts';
import { RedisTransport } from './redis-transport.ts';
import { SharedEventBus, type GapFiller } from './shared-event-bus.ts';

/** At most this many messages are read to fill one gap (a gap is a few in-flight sends). */
const MAX_GAP_FILL = 1000;

export type BusKind = 'memory' | 'redis' | 'postgres';

/** EVENT_BUS=auto: Redis when REDIS_URL is set, PostgreSQL with WORKERS>1, otherwise in-process. */
export function busKindOf(config: Pick<Config, 'EVENT_BUS' | 'REDIS_URL' | 'WORKERS'>): BusKind {
  if (config.EVENT_BUS !== 'auto') return config.EVENT_BUS;
  if (config.REDIS_URL) return 'redis';
  return config.WORKERS > 1 ? 'postgres' : 'memory';
}

/** Reads a gap of a channel's history back as message.created events (oldest first). */
export function historyGapFiller(db: DatabasePool): GapFiller {
  return async (channelId, afterId, beforeId) => {
    const rows = await historySlice(db, {
      channelId,
      direction: 'newer',
      ...(afterId === null ? {} : { bound: afterId }),
      limit: MAX_GAP_FILL,
    });
    const before = BigInt(beforeId);
    return rows
      .filter((row) => BigInt(row.id) < before)
      .map((row): DomainEvent => ({ type: 'message.created', channel_id: channelId, message: toApiMessage(row) }));
  };
}

export interface CreatedBus {
  bus: EventBus;
  kind: BusKind;
  /** The shared bus (Redis or PostgreSQL), for health and resync; undefined in-process. */
  shared: SharedEventBus | undefined;
  /** The Redis transport (its command connection serves counters and presence). */
  redis: RedisTransport | undefined;
}

/** Builds and starts the bus the configuration asks for. */
export async function createEventBus(
  config: Config,
  deps: { db: DatabasePool; databaseUrl: string; log: FastifyBaseLogger },
): Promise<CreatedBus> {
  const kind = busKindOf(config);
  const onError = (error: unknown, context: string) => deps.log.error({ err: error }, context);
  if (kind === 'memory') {
    const bus = new InProcessEventBus((error, event) => deps.log.error({ err: error, event: event.type }, 'event listener failed'));
    return { bus, kind, shared: undefined, redis: undefined };
  }
  let redis: RedisTransport | undefined;
  let transport;
  if (kind === 'redis') {
    if (!config.REDIS_URL) throw new Error('EVENT_BUS=redis needs REDIS_URL');
    transport = redis = new RedisTransport(config.REDIS_URL);
  } else {
    transport = new PostgresTransport(deps.databaseUrl, deps.db);
  }
  const shared = new SharedEventBus({
    transport,
    fillGap: historyGapFiller(deps.db),
    readFloor: () => chainFloor(deps.db),
    holdMs: config.BUS_GAP_HOLD_MS,
    onError,
  });
  try {
    await shared.start();
  } catch (error) {
    await shared.close().catch(() => {});
    throw error;
  }
  return { bus: shared, kind, shared, redis };
}
