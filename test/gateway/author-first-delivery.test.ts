// The fan-out's order around the sender's ack: the author's own sessions get a new message first,
// then the hook (the gateway writes the ack there), then every other subscriber, in one
// synchronous call. Table test on a real SessionRegistry with sinks that record what they get.
import t from 'tap';
import { outboundEvent } from '../../src/gateway/outbound-event.ts';
import { SessionRegistry } from '../../src/gateway/session-registry.ts';

const CHANNEL = '100';

async function registryWith(users: Record<string, number>): Promise<{ registry: SessionRegistry; log: string[] }> {
  const registry = new SessionRegistry(async () => [{ id: CHANNEL, guild_id: null }]);
  const log: string[] = [];
  for (const [userId, sessions] of Object.entries(users)) {
    for (let index = 0; index < sessions; index++) {
      // Each session holds the reference its acquire took.
      const subscriptions = registry.acquire(userId);
      await subscriptions.ready;
      const name = `${userId}#${index}`;
      const session = registry.createSession(subscriptions, name, `auth-${name}`, { maxEvents: 10, windowMs: 60_000 });
      session.sink = { sendEvent: (_event, seq) => log.push(`${name}:${seq}`) };
    }
  }
  return { registry, log };
}

const cases: { name: string; users: Record<string, number>; author: string; except?: string; expect: string[] }[] = [
  {
    name: 'the author (two sessions) first, then the hook, then the others',
    users: { bob: 1, ada: 2, cyd: 1 },
    author: 'ada',
    expect: ['ada#0:1', 'ada#1:1', 'then', 'bob#0:1', 'cyd#0:1'],
  },
  {
    name: 'an author subscribed last in the channel still goes first',
    users: { bob: 1, cyd: 1, ada: 1 },
    author: 'ada',
    expect: ['ada#0:1', 'then', 'bob#0:1', 'cyd#0:1'],
  },
  {
    name: 'an author with no session here: the hook runs before everyone',
    users: { bob: 1, cyd: 1 },
    author: 'ada',
    expect: ['then', 'bob#0:1', 'cyd#0:1'],
  },
  {
    name: 'exceptUserId still applies to the author',
    users: { ada: 1, bob: 1 },
    author: 'ada',
    except: 'ada',
    expect: ['then', 'bob#0:1'],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { registry, log } = await registryWith(c.users);
    const sent = registry.deliverToChannel(CHANNEL, outboundEvent('message_created', {}), c.except, {
      userId: c.author,
      then: () => log.push('then'),
    });
    t.same(log, c.expect);
    t.equal(sent, c.expect.filter((entry) => entry !== 'then').length, 'every delivery counted once');
  });
}

t.test('without a first recipient nothing changes: every session once', async (t) => {
  const { registry, log } = await registryWith({ bob: 1, ada: 2 });
  t.equal(registry.deliverToChannel(CHANNEL, outboundEvent('message_created', {})), 3);
  t.same(log, ['bob#0:1', 'ada#0:1', 'ada#1:1']);
});

t.test('a throwing hook does not cost the others their event', async (t) => {
  const { registry, log } = await registryWith({ ada: 1, bob: 1 });
  t.throws(
    () =>
      registry.deliverToChannel(CHANNEL, outboundEvent('message_created', {}), undefined, {
        userId: 'ada',
        then: () => {
          throw new Error('hook failed');
        },
      }),
    /hook failed/,
  );
  t.same(log, ['ada#0:1', 'bob#0:1']);
});
