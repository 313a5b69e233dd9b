import pg from 'pg';
import t, { type Test } from 'tap';
import { PostgresTransport } from '../../src/bus/postgres-transport.ts';
import { RedisTransport } from '../../src/bus/redis-transport.ts';
import { SharedEventBus, type GapFiller } from '../../src/bus/shared-event-bus.ts';
import type { DomainEvent } from '../../src/events/domain-events.ts';
import { InProcessEventBus, type EventBus } from '../../src/events/event-bus.ts';
import { eventually } from '../helpers/server-process.ts';
import { createTestPool } from '../helpers/database.ts';
import { startRedis } from '../helpers/redis-server.ts';

/**
 * One suite, run against each EventBus implementation: in-process, Redis pub/sub and PostgreSQL
 * LISTEN/NOTIFY. "Instances" are separate bus objects sharing the carrier (as separate processes
 * would); the in-process bus has one instance only, so it is its own peer.
 */
interface Harness {
  /** `count` instances on one carrier; gap fills answer from `history`. */
  instances(count: number, history?: DomainEvent[]): Promise<EventBus[]>;
  shared: boolean;
}

const noLog = () => {};

/** The chain floor every test bus reads (ids above it were "allocated after the bus listened"). */
const FLOOR = '1000';

function message(channelId: string, id: number, prev: number | null, content = `m${id}`): DomainEvent {
  return {
    type: 'message.created',
    channel_id: channelId,
    prev_id: prev === null ? null : String(prev),
    message: {
      id: String(id),
      channel_id: channelId,
      author: { id: '1', username: 'a', display_name: null, avatar_url: null } as never,
      content,
      nonce: null,
      reply_to_id: null,
      created_at: '2026-11-26T00:00:00.000Z',
      edited_at: null,
    },
  };
}

const idsOf = (events: DomainEvent[]) => events.map((event) => (event.type === 'message.created' ? event.message.id : event.type));

function historyFiller(history: DomainEvent[]): GapFiller {
  return async (channelId, afterId, beforeId) =>
    history.filter(
      (event) =>
        event.type === 'message.created' &&
        event.channel_id === channelId &&
        BigInt(event.message.id) > BigInt(afterId ?? '0') &&
        BigInt(event.message.id) < BigInt(beforeId),
    );
}

async function sharedBus(t: Test, transport: RedisTransport | PostgresTransport, history: DomainEvent[]): Promise<SharedEventBus> {
  const bus = new SharedEventBus({ transport, fillGap: historyFiller(history), readFloor: async () => FLOOR, holdMs: 50, onError: noLog });
  await bus.start();
  t.teardown(() => bus.close());
  return bus;
}

const harnesses: Record<string, (t: Test) => Promise<Harness>> = {
  async memory() {
    return {
      shared: false,
      instances: async (count) => {
        const bus = new InProcessEventBus();
        return Array.from({ length: count }, () => bus);
      },
    };
  },
  async redis(t) {
    const redis = await startRedis(t);
    return {
      shared: true,
      instances: (count, history = []) =>
        Promise.all(Array.from({ length: count }, () => sharedBus(t, new RedisTransport(redis.url), history))),
    };
  },
  async postgres(t) {
    const { database, pool } = await createTestPool(t, 4);
    return {
      shared: true,
      instances: (count, history = []) =>
        Promise.all(Array.from({ length: count }, () => sharedBus(t, new PostgresTransport(database.url, pool), history))),
    };
  },
};

/** Collects what a bus delivers. */
function collect(bus: EventBus): DomainEvent[] {
  const seen: DomainEvent[] = [];
  bus.subscribe((event) => seen.push(event));
  return seen;
}

/** A marker event through `from`, awaited at every collector: everything published before it has arrived. */
async function roundTrip(from: EventBus, collectors: DomainEvent[][], marker: string): Promise<boolean> {
  from.publish({ type: 'typing.started', channel_id: `marker-${marker}`, user_id: marker, at: marker });
  return eventually(() => collectors.every((seen) => seen.some((event) => event.type === 'typing.started' && event.user_id === marker)), 10_000);
}

for (const [name, makeHarness] of Object.entries(harnesses)) {
  t.test(`${name} bus`, async (t) => {
    const harness = await makeHarness(t);

    t.test('every instance delivers every event once, in publish order per publisher', async (t) => {
      const buses = await harness.instances(3);
      const seen = buses.map(collect);
      const published: DomainEvent[] = [];
      for (let index = 0; index < 20; index += 1) {
        const event = message('c1', 100 + index, index === 0 ? null : 99 + index);
        published.push(event);
        buses[0]!.publish(event);
      }
      t.ok(await roundTrip(buses[0]!, seen, 'a'), 'the marker reached every instance');
      const distinct = harness.shared ? seen : [seen[0]!];
      for (const events of distinct) t.same(idsOf(events).slice(0, 20), idsOf(published));
    });

    t.test('unsequenced events of all kinds cross instances', async (t) => {
      const buses = await harness.instances(2);
      const seen = buses.map(collect);
      const events: DomainEvent[] = [
        { type: 'sessions.revoked', user_id: '7', session_ids: 'all', reason: 'revoked' },
        { type: 'member.left', channel_id: 'c2', user_id: '7' },
        { type: 'read.updated', channel_id: 'c2', user_id: '7', message_id: '5' },
        { type: 'guild.member_left', guild_id: 'g', user_id: '7', reason: 'kicked', channel_ids: ['c2'] },
      ];
      for (const event of events) buses[0]!.publish(event);
      t.ok(await roundTrip(buses[0]!, seen, 'b'));
      t.same(seen[1]!.slice(0, events.length), events);
    });

    t.test('a payload over PostgreSQL\'s NOTIFY limit arrives whole', async (t) => {
      const buses = await harness.instances(2);
      const seen = collect(buses[1]!);
      // 4,000 characters with astral ones (4 UTF-8 bytes each) straddling chunk boundaries.
      const content = '😀a'.repeat(1333) + 'x';
      buses[0]!.publish(message('c3', 1, null, content));
      t.ok(await eventually(() => seen.length > 0, 10_000));
      const first = seen[0]!;
      t.equal(first.type === 'message.created' ? first.message.content : '', content);
    });

    if (!harness.shared) return;

    t.test('messages published out of commit order by two instances are delivered in commit order', async (t) => {
      // What the database holds (a gap fill reads it when a predecessor is late on a loaded machine).
      const committed = [message('c4', 9, null), message('c4', 10, 9), message('c4', 11, 10), message('c4', 12, 11)];
      const buses = await harness.instances(3, committed);
      const seen = buses.map(collect);
      // Instance 0 committed 11 after instance 1 committed 10, but publishes first.
      buses[0]!.publish(message('c4', 9, null));
      t.ok(await roundTrip(buses[0]!, seen, 'c'));
      buses[0]!.publish(message('c4', 11, 10));
      buses[1]!.publish(message('c4', 10, 9));
      buses[1]!.publish(message('c4', 12, 11));
      t.ok(await eventually(() => seen.every((events) => idsOf(events).includes('12')), 10_000));
      for (const events of seen) t.same(idsOf(events).filter((id) => /^\d+$/.test(id)), ['9', '10', '11', '12']);
    });

    t.test('a message whose predecessor never arrives: the gap is read from history, nothing twice', async (t) => {
      const history = [message('c5', 1, null), message('c5', 2, 1), message('c5', 3, 2)];
      const buses = await harness.instances(2, history);
      const seen = collect(buses[1]!);
      buses[0]!.publish(history[0]!);
      // 2 was "lost" on the way; 3 arrives and waits, then the gap is filled from history.
      buses[0]!.publish(history[2]!);
      t.ok(await eventually(() => idsOf(seen).includes('3'), 10_000));
      // 2 arriving late now is a duplicate: dropped.
      buses[0]!.publish(history[1]!);
      t.ok(await roundTrip(buses[0]!, [seen], 'd'));
      t.same(idsOf(seen).filter((id) => /^\d+$/.test(id)), ['1', '2', '3']);
    });

    t.test('a removal committed before a message but published after it is delivered before it everywhere', async (t) => {
      // Instance 1 removed user 7 (slot 21 after message 20), instance 0 then committed message 22,
      // but instance 0's publish reaches the carrier first: user 7 must be gone before 22 is routed.
      const buses = await harness.instances(3, [message('c6', 20, null), message('c6', 22, 21)]);
      const seen = buses.map(collect);
      buses[0]!.publish(message('c6', 20, null));
      t.ok(await roundTrip(buses[0]!, seen, 'e'));
      buses[0]!.publish(message('c6', 22, 21));
      buses[1]!.publish({ type: 'member.left', channel_id: 'c6', user_id: '7', seq: { id: '21', prev_id: '20' } });
      const first = message('c6', 20, null);
      if (first.type !== 'message.created') throw new Error('unreachable');
      buses[1]!.publish({ type: 'message.updated', channel_id: 'c6', message: first.message, seq: { id: '23', prev_id: '22' } });
      t.ok(await eventually(() => seen.every((events) => idsOf(events).includes('message.updated')), 10_000));
      for (const events of seen) {
        t.same(idsOf(events).filter((id) => !id.startsWith('typing')), ['20', 'member.left', '22', 'message.updated']);
      }
    });

    t.test('an event slot that never arrives holds the channel only until the hold expires', async (t) => {
      const buses = await harness.instances(2, [message('c7', 30, null), message('c7', 32, 31)]);
      const seen = collect(buses[1]!);
      buses[0]!.publish(message('c7', 30, null));
      // 31 (say, a deletion whose publisher died after commit) is never published.
      buses[0]!.publish(message('c7', 32, 31));
      t.ok(await eventually(() => idsOf(seen).includes('32'), 10_000));
      t.same(idsOf(seen).filter((id) => /^\d+$/.test(id)), ['30', '32']);
    });

    t.test("a channel's first event seen waits for a predecessor committed after the bus listened", async (t) => {
      // 1002 was committed before 1003; 1003 is the first event of c8 this instance sees. Its
      // predecessor is above the floor, so it may be in flight: held, not taken as the chain start.
      const buses = await harness.instances(2, [message('c8', 1002, 999), message('c8', 1003, 1002)]);
      const seen = collect(buses[1]!);
      buses[0]!.publish(message('c8', 1003, 1002));
      buses[0]!.publish(message('c8', 1002, 999));
      t.ok(await eventually(() => idsOf(seen).includes('1003'), 10_000));
      t.ok(await roundTrip(buses[0]!, [seen], 'f'));
      t.same(idsOf(seen).filter((id) => /^\d+$/.test(id)), ['1002', '1003'], 'both, in commit order');
    });

    t.test("a first event's predecessor that never arrives is read from history after the floor", async (t) => {
      const buses = await harness.instances(2, [message('c9', 1005, 1001), message('c9', 1006, 1005)]);
      const seen = collect(buses[1]!);
      buses[0]!.publish(message('c9', 1006, 1005));
      t.ok(await eventually(() => idsOf(seen).includes('1006'), 10_000));
      t.same(idsOf(seen).filter((id) => /^\d+$/.test(id)), ['1005', '1006']);
    });

    t.test('a kick with a slot in two channels is delivered before the messages committed after it in either', async (t) => {
      const buses = await harness.instances(3, [message('ca', 1010, null), message('cb', 1020, null)]);
      const seen = buses.map(collect);
      buses[0]!.publish(message('ca', 1010, null));
      buses[0]!.publish(message('cb', 1020, null));
      t.ok(await roundTrip(buses[0]!, seen, 'g'));
      // Instance 1 kicked user 7 (slots 1011 in ca, 1021 in cb); instance 0 then committed messages
      // in both channels and publishes them first.
      buses[0]!.publish(message('ca', 1012, 1011));
      buses[0]!.publish(message('cb', 1022, 1021));
      buses[1]!.publish({
        type: 'guild.member_left',
        guild_id: 'g1',
        user_id: '7',
        reason: 'kicked',
        channel_ids: ['ca', 'cb'],
        seqs: { ca: { id: '1011', prev_id: '1010' }, cb: { id: '1021', prev_id: '1020' } },
      });
      t.ok(await eventually(() => seen.every((events) => idsOf(events).includes('1012') && idsOf(events).includes('1022')), 10_000));
      for (const events of seen) {
        const order = idsOf(events).filter((id) => !id.startsWith('typing'));
        t.same(order.slice(0, 3), ['1010', '1020', 'guild.member_left'], 'the kick, once, before either message');
        t.same(order.slice(3).sort(), ['1012', '1022']);
      }
    });

    t.test('presence snapshots reach the other instances', async (t) => {
      const buses = (await harness.instances(2)) as SharedEventBus[];
      const snapshots: string[] = [];
      buses[1]!.onPresence((instanceId, snapshot) => snapshots.push(`${instanceId === buses[0]!.instanceId}:${snapshot.connected.join(',')}`));
      buses[0]!.publishPresence({ connected: ['5', '6'], visible: { '5': 'online' } });
      t.ok(await eventually(() => snapshots.length > 0, 10_000));
      t.same(snapshots, ['true:5,6']);
    });
  });
}

t.test('redis bus: Redis stopped for a while and restarted: not healthy meanwhile, resync, then flowing again', async (t) => {
  const redis = await startRedis(t);
  const buses = await Promise.all([0, 1].map(() => sharedBus(t, new RedisTransport(redis.url), [])));
  const resyncs: string[] = [];
  buses[1]!.onResync((reason) => resyncs.push(reason));
  const seen = collect(buses[1]!);
  await redis.stop();
  t.ok(await eventually(() => !buses[1]!.healthy, 10_000), 'unhealthy while Redis is away');
  await redis.start();
  t.ok(await eventually(() => buses[1]!.healthy && resyncs.length === 1, 20_000), 'healthy again, and told to resync once');
  t.match(resyncs[0], /redis/);
  // Flowing again (the publisher reconnects too).
  t.ok(await eventually(() => {
    buses[0]!.publish({ type: 'typing.started', channel_id: 'c', user_id: 'after', at: 'x' });
    return seen.some((event) => event.type === 'typing.started' && event.user_id === 'after');
  }, 20_000));
});

t.test('postgres bus: the LISTEN connection killed: resync once it listens again', async (t) => {
  const { database, pool } = await createTestPool(t, 4);
  const bus = await sharedBus(t, new PostgresTransport(database.url, pool), []);
  const resyncs: string[] = [];
  bus.onResync((reason) => resyncs.push(reason));
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'parley-bus' AND datname = current_database()");
  t.ok(await eventually(() => resyncs.length === 1 && bus.healthy, 20_000));
  t.match(resyncs[0], /postgres/);
});
