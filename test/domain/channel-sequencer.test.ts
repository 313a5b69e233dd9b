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

// ───────────── several channels: guild-wide events, chain starts at the floor, late slot events ─────────────

/** `a:m5<3` = in channel a, message 5 after 3; `a:s5<3` = a slot event (edit, kick, ...); `a:e` = unsequenced. */
type Multi =
  | { arrive: string }
  /** A guild-wide event `name` with a place in each listed channel. */
  | { joint: string; places: string[] }
  | { fill: number[]; channel: string; before: number }
  | { forget: string };

function place(token: string): { channelId: string; seq: { id: bigint; prev: bigint | null; event?: boolean } | undefined } {
  const [channelId, rest] = token.split(':') as [string, string];
  const match = /^([ms])(\d+)<(\d*)$/.exec(rest);
  if (!match) return { channelId, seq: undefined };
  const seq = { id: BigInt(match[2]!), prev: match[3] === '' ? null : BigInt(match[3]!) };
  return { channelId, seq: match[1] === 's' ? { ...seq, event: true } : seq };
}

function runMulti(steps: Multi[], floor: bigint | null = null) {
  const sequencer = new ChannelSequencer<string>({ floor });
  const delivered: string[] = [];
  for (const step of steps) {
    if ('arrive' in step) {
      const { channelId, seq } = place(step.arrive);
      delivered.push(...sequencer.accept(channelId, step.arrive, seq, 0));
    } else if ('joint' in step) {
      delivered.push(...sequencer.acceptAt(step.places.map(place), step.joint, 0));
    } else if ('fill' in step) {
      const items = step.fill.map((id) => ({ item: `${step.channel}:db${id}`, id: BigInt(id) }));
      delivered.push(...sequencer.filled(step.channel, items, BigInt(step.before), 0));
    } else {
      delivered.push(...sequencer.forget(step.forget, 0));
    }
  }
  const gaps = sequencer.gaps(0).map((gap) => `${gap.channelId}:${gap.afterId ?? ''}..${gap.beforeId}`);
  return { delivered, held: sequencer.heldCount, gaps };
}

const on = (...tokens: string[]): Multi[] => tokens.map((token) => ({ arrive: token }));

const multiCases: Array<{ name: string; floor?: bigint; steps: Multi[]; delivered: string[]; held?: number; gaps?: string[] }> = [
  {
    name: 'a kick committed before a message, arriving after it: the kick goes out first',
    steps: [...on('a:m1<', 'b:m5<'), ...on('a:m3<2'), { joint: 'kick', places: ['a:s2<1', 'b:s6<5'] }],
    delivered: ['a:m1<', 'b:m5<', 'kick', 'a:m3<2'],
    held: 0,
  },
  {
    name: 'a guild-wide event waits for every chain it is in; the waiting chain is not a gap',
    steps: [...on('a:m1<', 'b:m5<', 'a:m3<2', 'b:m8<7'), { joint: 'kick', places: ['a:s2<1', 'b:s7<6'] }],
    delivered: ['a:m1<', 'b:m5<'],
    held: 4, // the kick is held in both channels
    gaps: ['b:5..7'],
  },
  {
    name: 'when the last chain reaches it, it goes out once and every channel moves on',
    steps: [...on('a:m1<', 'b:m5<', 'a:m3<2', 'b:m8<7'), { joint: 'kick', places: ['a:s2<1', 'b:s7<6'] }, ...on('b:m6<5')],
    delivered: ['a:m1<', 'b:m5<', 'b:m6<5', 'kick', 'b:m8<7', 'a:m3<2'],
    held: 0,
    gaps: [],
  },
  {
    name: 'a gap fill before a guild-wide event releases it',
    steps: [...on('a:m1<', 'b:m5<'), { joint: 'role', places: ['a:s2<1', 'b:s7<6'] }, { fill: [6], channel: 'b', before: 7 }],
    delivered: ['a:m1<', 'b:m5<', 'b:db6', 'role'],
    held: 0,
  },
  {
    name: 'two guild-wide events in a row keep their order in both channels',
    steps: [...on('a:m1<', 'b:m5<'), { joint: 'second', places: ['a:s3<2', 'b:s7<6'] }, { joint: 'first', places: ['a:s2<1', 'b:s6<5'] }],
    delivered: ['a:m1<', 'b:m5<', 'first', 'second'],
    held: 0,
  },
  {
    // Its hold ran out and the chains moved past it (its publisher was slow): it still applies.
    name: 'a guild-wide event behind every chain goes out late, once',
    steps: [...on('a:m1<', 'a:m3<2'), { fill: [], channel: 'a', before: 3 }, ...on('b:m5<', 'b:m7<6'), { fill: [], channel: 'b', before: 7 }, { joint: 'kick', places: ['a:s2<1', 'b:s6<5'] }],
    delivered: ['a:m1<', 'a:m3<2', 'b:m5<', 'b:m7<6', 'kick'],
    held: 0,
  },
  {
    name: 'a late slot event in one channel is delivered, a late message is not',
    steps: [...on('a:m1<', 'a:m3<2'), { fill: [], channel: 'a', before: 3 }, ...on('a:s2<1', 'a:m3<2')],
    delivered: ['a:m1<', 'a:m3<2', 'a:s2<1'],
  },
  {
    name: 'a channel deleted under a waiting guild-wide event no longer holds it',
    steps: [...on('a:m1<', 'b:m5<'), { joint: 'kick', places: ['a:s2<1', 'b:s7<6'] }, ...on('a:m3<2'), { forget: 'b' }],
    delivered: ['a:m1<', 'b:m5<', 'kick', 'a:m3<2'],
    held: 0,
  },
  {
    name: 'a guild-wide event is the first seen of a channel: that chain starts at it',
    steps: [...on('a:m1<'), { joint: 'join', places: ['a:s2<1', 'b:s9<4'] }, ...on('b:m10<9')],
    delivered: ['a:m1<', 'join', 'b:m10<9'],
  },
  // The start of a chain with a floor (the id below everything allocated since this process listened).
  {
    name: 'floor: a first event whose predecessor is newer than the floor waits for it',
    floor: 10n,
    steps: on('a:m13<12', 'a:m12<8'),
    delivered: ['a:m12<8', 'a:m13<12'],
    held: 0,
  },
  {
    name: 'floor: several in flight, the oldest arriving last',
    floor: 10n,
    steps: on('a:m13<12', 'a:s12<11', 'a:m11<9'),
    delivered: ['a:m11<9', 'a:s12<11', 'a:m13<12'],
  },
  {
    name: 'floor: the wait is a gap read from the floor',
    floor: 10n,
    steps: on('a:m13<12'),
    delivered: [],
    held: 1,
    gaps: ['a:10..13'],
  },
  {
    name: 'floor: the gap fill delivers what was committed after the floor, then the held one',
    floor: 10n,
    steps: [...on('a:m13<12'), { fill: [11, 12], channel: 'a', before: 13 }, ...on('a:m12<11')],
    delivered: ['a:db11', 'a:db12', 'a:m13<12'],
    held: 0,
  },
  {
    name: 'floor: a predecessor at or below the floor starts the chain there',
    floor: 10n,
    steps: on('a:m12<10', 'a:m13<12'),
    delivered: ['a:m12<10', 'a:m13<12'],
    gaps: [],
  },
  {
    name: "floor: the channel's first message starts it",
    floor: 10n,
    steps: on('a:m12<'),
    delivered: ['a:m12<'],
  },
  {
    name: 'floor: events from before the floor that arrive after the chain started are dropped',
    floor: 10n,
    steps: on('a:m12<9', 'a:s9<8'),
    delivered: ['a:m12<9'],
  },
];

for (const example of multiCases) {
  t.test(example.name, async (t) => {
    const result = runMulti(example.steps, example.floor ?? null);
    t.same(result.delivered, example.delivered);
    if (example.held !== undefined) t.equal(result.held, example.held);
    if (example.gaps !== undefined) t.same(result.gaps, example.gaps);
  });
}
