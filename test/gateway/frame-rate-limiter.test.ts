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
