import t from 'tap';
import { decide, FixedWindowLimiter, mostRestrictive, WindowCounter, type LimitDecision } from '../../src/domain/fixed-window-limiter.ts';

t.test('WindowCounter: a window starts at the first hit and ends windowMs later', async (t) => {
  // [key, windowMs, now] -> expected { count, resetAt }
  const steps: Array<[string, number, number, { count: number; resetAt: number }]> = [
    ['a', 1000, 100, { count: 1, resetAt: 1100 }],
    ['a', 1000, 600, { count: 2, resetAt: 1100 }],
    ['b', 5000, 600, { count: 1, resetAt: 5600 }], // another key, its own window and length
    ['a', 1000, 1099, { count: 3, resetAt: 1100 }], // the last millisecond still counts
    ['a', 1000, 1100, { count: 1, resetAt: 2100 }], // a new window at resetAt
    ['b', 5000, 5599, { count: 2, resetAt: 5600 }],
    ['a', 1000, 9000, { count: 1, resetAt: 10_000 }], // long idle: a fresh window
  ];
  const counter = new WindowCounter();
  for (const [key, windowMs, now, expected] of steps) {
    t.same(counter.hit(key, windowMs, now), expected, `${key} at ${now}`);
  }
});

t.test('WindowCounter: expired windows are let go once the map has grown', async (t) => {
  const counter = new WindowCounter();
  for (let index = 0; index < 1023; index += 1) counter.hit(`old${index}`, 1000, 0);
  t.equal(counter.size, 1023);
  counter.hit('new', 1000, 5000); // the 1024th key: a sweep drops the 1023 expired ones
  t.equal(counter.size, 1);
  t.same(counter.hit('old1', 1000, 5000), { count: 1, resetAt: 6000 }, 'a swept key starts afresh');
});

t.test('decide: allowed up to the limit; remaining and reset in the headers’ units', async (t) => {
  const cases: Array<[string, number, { count: number; resetAt: number }, number, LimitDecision]> = [
    ['first hit', 5, { count: 1, resetAt: 5000 }, 0, { allowed: true, limit: 5, remaining: 4, resetSeconds: 5, resetMs: 5000 }],
    ['the limit itself', 5, { count: 5, resetAt: 5000 }, 1000, { allowed: true, limit: 5, remaining: 0, resetSeconds: 4, resetMs: 4000 }],
    ['one over', 5, { count: 6, resetAt: 5000 }, 1001, { allowed: false, limit: 5, remaining: 0, resetSeconds: 4, resetMs: 3999 }],
    ['far over', 1, { count: 40, resetAt: 5000 }, 4999, { allowed: false, limit: 1, remaining: 0, resetSeconds: 1, resetMs: 1 }],
    ['seconds round up, at least 1', 2, { count: 1, resetAt: 5000 }, 5000, { allowed: true, limit: 2, remaining: 1, resetSeconds: 1, resetMs: 0 }],
  ];
  for (const [name, limit, window, now, expected] of cases) t.same(decide(limit, window, now), expected, name);
});

t.test('mostRestrictive: a refusal first (the one freeing up last), else the fewest left', async (t) => {
  const d = (allowed: boolean, remaining: number, resetMs: number, tag: string) => ({
    allowed,
    limit: 10,
    remaining,
    resetMs,
    resetSeconds: Math.max(1, Math.ceil(resetMs / 1000)),
    tag,
  });
  const cases: Array<[string, ReturnType<typeof d>[], string | undefined]> = [
    ['none', [], undefined],
    ['one', [d(true, 3, 100, 'a')], 'a'],
    ['fewest left', [d(true, 3, 100, 'a'), d(true, 1, 50, 'b'), d(true, 2, 900, 'c')], 'b'],
    ['equal left: the later reset', [d(true, 1, 100, 'a'), d(true, 1, 900, 'b')], 'b'],
    ['a refusal beats any allowance', [d(true, 0, 9000, 'a'), d(false, 0, 10, 'b')], 'b'],
    ['two refusals: the later reset', [d(false, 0, 4000, 'a'), d(false, 0, 9000, 'b'), d(true, 5, 1, 'c')], 'b'],
  ];
  for (const [name, decisions, expected] of cases) t.equal(mostRestrictive(decisions)?.tag, expected, name);
});

t.test('FixedWindowLimiter: one limit and window for every key', async (t) => {
  const limiter = new FixedWindowLimiter(2, 1000);
  t.same(
    [0, 10, 20, 999, 1000].map((now) => limiter.hit('k', now).allowed),
    [true, true, false, false, true],
  );
  t.equal(limiter.hit('other', 20).allowed, true, 'keys are independent');
});

t.test('FixedWindowLimiter: a refused key is allowed again once its window resets; expired keys are let go', async (t) => {
  const limiter = new FixedWindowLimiter(1, 5000);
  t.same(
    [0, 4999, 5000, 5001, 9999, 10_000].map((now) => limiter.hit('typist', now).allowed),
    [true, false, true, false, false, true],
    'one per window, each window starting at the first hit after the last one ended',
  );
  for (let index = 0; index < 2000; index += 1) limiter.hit(`burst${index}`, 20_000);
  t.ok(limiter.size >= 2000, 'every live window is held');
  // Much later, new keys: once the map has grown enough for a sweep, the expired windows go.
  for (let index = 0; index < 100; index += 1) limiter.hit(`late${index}`, 100_000);
  t.equal(limiter.size, 100, 'only the live windows are held');
  t.equal(limiter.hit('burst1', 100_000).allowed, true, 'a let-go key starts afresh');
});
