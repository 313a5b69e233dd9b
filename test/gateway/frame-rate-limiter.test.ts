import t from 'tap';
import { FrameRateLimiter } from '../../src/gateway/frame-rate-limiter.ts';

const cases: { name: string; limit: number; windowMs: number; frames: number[]; allowed: boolean[] }[] = [
  {
    name: 'up to the limit passes; one more inside the window does not',
    limit: 3,
    windowMs: 1000,
    frames: [0, 10, 20, 30],
    allowed: [true, true, true, false],
  },
  {
    name: 'a frame once the oldest of the last `limit` left the window passes',
    limit: 3,
    windowMs: 1000,
    frames: [0, 10, 20, 1000, 1010, 1015],
    allowed: [true, true, true, true, true, false],
  },
  {
    name: 'any window counts: a burst across a fixed-window boundary is caught',
    limit: 3,
    windowMs: 1000,
    frames: [900, 950, 990, 1001],
    allowed: [true, true, true, false],
  },
  {
    name: 'a steady rate at the limit never trips',
    limit: 2,
    windowMs: 100,
    frames: [0, 50, 100, 150, 200, 250, 300],
    allowed: [true, true, true, true, true, true, true],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const limiter = new FrameRateLimiter(testCase.limit, testCase.windowMs);
    t.same(testCase.frames.map((at) => limiter.hit(at)), testCase.allowed);
  });
}

t.test('120 frames in 60 s pass, the 121st closes (the gateway default)', async (t) => {
  const limiter = new FrameRateLimiter(120, 60_000);
  for (let index = 0; index < 120; index += 1) t.ok(limiter.hit(index * 100), `frame ${index + 1}`);
  t.notOk(limiter.hit(12_000), 'frame 121 within the window');
  t.throws(() => new FrameRateLimiter(0, 1000), RangeError);
});

/** The contract read literally: the frame is refused when `limit` frames arrived less than `windowMs` before it. */
function referenceHits(limit: number, windowMs: number, frames: number[]): boolean[] {
  return frames.map((at, index) => frames.slice(0, index).filter((earlier) => at - earlier < windowMs).length < limit);
}

/** Deterministic pseudo-random arrival times (mulberry32), bursts and pauses mixed. */
function arrivals(seed: number, count: number): number[] {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const frames: number[] = [];
  let now = 0;
  for (let index = 0; index < count; index += 1) {
    now += random() < 0.1 ? Math.floor(random() * 3000) : Math.floor(random() * 40);
    frames.push(now);
  }
  return frames;
}

t.test('matches the literal rule on long mixed traffic (any window of windowMs)', async (t) => {
  for (const [seed, limit, windowMs] of [
    [1, 3, 100],
    [2, 10, 500],
    [3, 120, 2000],
    [4, 1, 50],
    [5, 7, 1000],
  ] as const) {
    const frames = arrivals(seed, 2000);
    const limiter = new FrameRateLimiter(limit, windowMs);
    t.same(frames.map((at) => limiter.hit(at)), referenceHits(limit, windowMs, frames), `seed ${seed}, ${limit} per ${windowMs} ms`);
  }
});

t.test('memory follows the rate: a heartbeat holds a few slots, a burst grows them, a pause shrinks them', async (t) => {
  const limiter = new FrameRateLimiter(120, 60_000);
  t.equal(limiter.capacity, 0, 'nothing before the first frame');
  for (let beat = 0; beat < 50; beat += 1) limiter.hit(beat * 24_000);
  t.ok(limiter.capacity <= 4, `heartbeats every 24 s: ${limiter.capacity} slots`);
  const burstAt = 49 * 24_000 + 60_000; // the heartbeats have left the window
  for (let index = 0; index < 120; index += 1) t.ok(limiter.hit(burstAt + index), `burst frame ${index + 1}`);
  t.equal(limiter.capacity, 120, 'a burst at the limit holds `limit` slots, never more');
  t.notOk(limiter.hit(burstAt + 200), 'the 121st in the window is refused');
  t.equal(limiter.capacity, 120);
  for (let beat = 1; beat <= 10; beat += 1) limiter.hit(burstAt + 60_000 + beat * 24_000);
  t.ok(limiter.capacity <= 8, `back to heartbeats: ${limiter.capacity} slots`);
});

t.test('a huge limit costs nothing until it is used', async (t) => {
  const limiter = new FrameRateLimiter(10_000_000, 1000);
  for (let index = 0; index < 10; index += 1) t.ok(limiter.hit(index * 10));
  t.ok(limiter.capacity <= 16, `${limiter.capacity} slots`);
});
