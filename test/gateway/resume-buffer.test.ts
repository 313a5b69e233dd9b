import t from 'tap';
import { ResumeBuffer } from '../../src/gateway/resume-buffer.ts';

interface Entry {
  at: number;
  name: string;
}

type Step =
  | { push: string; at: number }
  | { since: number; now: number; expect: 'expired' | 'future' | string[] };

const cases: { name: string; max: number; windowMs: number; steps: Step[] }[] = [
  {
    name: 'an empty buffer replays nothing after seq 0 and refuses any later seq',
    max: 5,
    windowMs: 1000,
    steps: [
      { since: 0, now: 0, expect: [] },
      { since: 1, now: 0, expect: 'future' },
    ],
  },
  {
    name: 'replays exactly the events after the seq, in order',
    max: 5,
    windowMs: 1000,
    steps: [
      { push: 'a', at: 0 },
      { push: 'b', at: 1 },
      { push: 'c', at: 2 },
      { since: 0, now: 3, expect: ['a', 'b', 'c'] },
      { since: 1, now: 3, expect: ['b', 'c'] },
      { since: 3, now: 3, expect: [] },
      { since: 4, now: 3, expect: 'future' },
    ],
  },
  {
    name: 'the count bound drops the oldest; a seq before the retained range is a gap',
    max: 3,
    windowMs: 1000,
    steps: [
      { push: 'a', at: 0 },
      { push: 'b', at: 0 },
      { push: 'c', at: 0 },
      { push: 'd', at: 0 },
      { push: 'e', at: 0 },
      { since: 1, now: 0, expect: 'expired' },
      { since: 2, now: 0, expect: ['c', 'd', 'e'] },
      { since: 4, now: 0, expect: ['e'] },
    ],
  },
  {
    name: 'events older than the window are dropped; an up-to-date client still resumes',
    max: 10,
    windowMs: 100,
    steps: [
      { push: 'a', at: 0 },
      { push: 'b', at: 50 },
      { since: 0, now: 120, expect: 'expired' },
      { since: 1, now: 120, expect: ['b'] },
      { since: 2, now: 500, expect: [] },
      { since: 1, now: 500, expect: 'expired' },
    ],
  },
  {
    name: 'the ring wraps around many times without losing order',
    max: 4,
    windowMs: 1_000_000,
    steps: [
      ...Array.from({ length: 22 }, (_, index) => ({ push: `e${index + 1}`, at: index })),
      { since: 18, now: 30, expect: ['e19', 'e20', 'e21', 'e22'] },
      { since: 20, now: 30, expect: ['e21', 'e22'] },
      { since: 17, now: 30, expect: 'expired' },
      { since: 23, now: 30, expect: 'future' },
    ],
  },
  {
    name: 'negative and fractional seqs are refused as unknown',
    max: 4,
    windowMs: 1000,
    steps: [
      { push: 'a', at: 0 },
      { since: -1, now: 0, expect: 'expired' },
      { since: 0.5, now: 0, expect: 'expired' },
    ],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const buffer = new ResumeBuffer<Entry>(testCase.max, testCase.windowMs);
    let seq = 0;
    for (const step of testCase.steps) {
      if ('push' in step) {
        seq += 1;
        t.equal(buffer.push({ at: step.at, name: step.push }, step.at), seq, `${step.push} gets seq ${seq}`);
        continue;
      }
      const result = buffer.since(step.since, step.now);
      if (typeof step.expect === 'string') {
        t.equal(result.kind, step.expect, `since(${step.since}) at ${step.now} is ${step.expect}`);
      } else {
        t.equal(result.kind, 'ok', `since(${step.since}) at ${step.now} replays`);
        if (result.kind === 'ok') {
          t.same(result.entries.map((entry) => entry.name), step.expect);
          t.equal(result.firstSeq, step.since + 1);
        }
      }
    }
  });
}

t.test('lastSeq, firstSeq and size track the retained range', async (t) => {
  const buffer = new ResumeBuffer<Entry>(2, 1000);
  t.same([buffer.lastSeq, buffer.firstSeq, buffer.size], [0, 1, 0]);
  buffer.push({ at: 0, name: 'a' }, 0);
  buffer.push({ at: 0, name: 'b' }, 0);
  buffer.push({ at: 0, name: 'c' }, 0);
  t.same([buffer.lastSeq, buffer.firstSeq, buffer.size], [3, 2, 2]);
  buffer.prune(5000);
  t.same([buffer.lastSeq, buffer.firstSeq, buffer.size], [3, 4, 0]);
  t.throws(() => new ResumeBuffer<Entry>(0, 1000), RangeError);
});
