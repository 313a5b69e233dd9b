import t from 'tap';
import { ChannelSequencer } from '../../src/domain/channel-sequencer.ts';

/** `m5<3` = message 5 whose predecessor is 3 (`m1<` = first of the channel); `e` = unsequenced event. */
/** `fill`: the database's answer to the gap before message `before`. */
type Step = { arrive: string } | { fill: number[]; before: number };

function parse(token: string): { seq?: { id: bigint; prev: bigint | null } } {
  const match = /^m(\d+)<(\d*)$/.exec(token);
  if (!match) return {};
  return { seq: { id: BigInt(match[1]!), prev: match[2] === '' ? null : BigInt(match[2]!) } };
}

function run(steps: Step[]): { delivered: string[]; held: number; gaps: string[] } {
  const sequencer = new ChannelSequencer<string>();
  const delivered: string[] = [];
  for (const step of steps) {
    if ('arrive' in step) delivered.push(...sequencer.accept('c', step.arrive, parse(step.arrive).seq, 0));
    else delivered.push(...sequencer.filled('c', step.fill.map((id) => ({ item: `db${id}`, id: BigInt(id) })), BigInt(step.before), 0));
  }
  const gaps = sequencer.gaps(0).map((gap) => `${gap.afterId ?? ''}..${gap.beforeId}`);
  return { delivered, held: sequencer.heldCount, gaps };
}

const arrive = (...tokens: string[]): Step[] => tokens.map((token) => ({ arrive: token }));

const cases: Array<{ name: string; steps: Step[]; delivered: string[]; held?: number; gaps?: string[] }> = [
  { name: 'in order: delivered as they come', steps: arrive('m1<', 'm2<1', 'm3<2'), delivered: ['m1<', 'm2<1', 'm3<2'] },
  {
    name: 'the first event seen starts the chain at its predecessor',
    steps: arrive('m7<5', 'm9<7'),
    delivered: ['m7<5', 'm9<7'],
  },
  {
    name: 'a later message waits for its predecessor, then both go out in commit order',
    steps: arrive('m1<', 'm3<2', 'm2<1'),
    delivered: ['m1<', 'm2<1', 'm3<2'],
  },
  {
    name: 'several out of order, reordered by the chain',
    steps: arrive('m1<', 'm4<3', 'm3<2', 'm2<1'),
    delivered: ['m1<', 'm2<1', 'm3<2', 'm4<3'],
  },
  { name: 'a duplicate is dropped', steps: arrive('m1<', 'm2<1', 'm2<1', 'm1<'), delivered: ['m1<', 'm2<1'] },
  {
    name: 'an unsequenced event behind a held message stays behind it',
    steps: arrive('m1<', 'm3<2', 'e', 'm2<1'),
    delivered: ['m1<', 'm2<1', 'm3<2', 'e'],
  },
  {
    // Typing in a channel with history, then a message: the chain starts at the message, it is not
    // held for a gap fill from the channel's first message (which would replay old history).
    name: 'an unsequenced first event does not start the chain',
    steps: arrive('e', 'm100<99', 'm101<100'),
    delivered: ['e', 'm100<99', 'm101<100'],
    held: 0,
    gaps: [],
  },
  {
    name: 'unsequenced events with nothing held go out at once',
    steps: arrive('e', 'm1<', 'e'),
    delivered: ['e', 'm1<', 'e'],
  },
  {
    name: 'a gap is reported while the predecessor is missing',
    steps: arrive('m1<', 'm3<2'),
    delivered: ['m1<'],
    held: 1,
    gaps: ['1..3'],
  },
  {
    name: 'a gap filled from the database: the missing ones, then the held one',
    steps: [...arrive('m1<', 'm4<3'), { fill: [2, 3], before: 4 }],
    delivered: ['m1<', 'db2', 'db3', 'm4<3'],
    held: 0,
    gaps: [],
  },
  {
    name: 'a filled message that arrives late is not delivered again',
    steps: [...arrive('m1<', 'm3<2'), { fill: [2], before: 3 }, ...arrive('m2<1')],
    delivered: ['m1<', 'db2', 'm3<2'],
  },
  {
    name: 'a fill that finds nothing (deleted meanwhile) still releases the held message',
    steps: [...arrive('m1<', 'm3<2'), { fill: [], before: 3 }],
    delivered: ['m1<', 'm3<2'],
  },
  {
    // The read for the gap before 3 comes back after 2 and 3 arrived and 5 became the head: it must
    // not move the chain to 5's predecessor (4 was never read, and would be dropped as a duplicate).
    name: 'a fill that comes back after its message went out does not skip a later gap',
    steps: [...arrive('m1<', 'm3<2', 'm2<1', 'm5<4'), { fill: [2], before: 3 }, ...arrive('m4<3')],
    delivered: ['m1<', 'm2<1', 'm3<2', 'm4<3', 'm5<4'],
    held: 0,
  },
];

for (const example of cases) {
  t.test(example.name, async (t) => {
    const result = run(example.steps);
    t.same(result.delivered, example.delivered);
    if (example.held !== undefined) t.equal(result.held, example.held);
    if (example.gaps !== undefined) t.same(result.gaps, example.gaps);
  });
}

t.test('channels are independent', async (t) => {
  const sequencer = new ChannelSequencer<string>();
  t.same(sequencer.accept('a', 'a1', { id: 1n, prev: null }, 0), ['a1']);
  t.same(sequencer.accept('a', 'a3', { id: 3n, prev: 2n }, 0), []);
  t.same(sequencer.accept('b', 'b5', { id: 5n, prev: null }, 0), ['b5']);
  t.same(sequencer.accept('b', 'eb', undefined, 0), ['eb']);
  t.same(sequencer.gaps(10).map((gap) => gap.channelId), ['a']);
});

t.test('gaps are reported only once they have waited long enough', async (t) => {
  const sequencer = new ChannelSequencer<string>();
  sequencer.accept('a', 'a1', { id: 1n, prev: null }, 100);
  sequencer.accept('a', 'a3', { id: 3n, prev: 2n }, 200);
  t.same(sequencer.gaps(199), []);
  t.same(sequencer.gaps(200).map((gap) => gap.since), [200]);
});
