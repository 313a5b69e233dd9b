import t from 'tap';
import { refreshReuseDecision, type ReuseDecision } from '../../src/domain/refresh-reuse.ts';

t.test('a spent refresh token presented again: replay within the grace, revoke after it', async (t) => {
  const rotatedAt = 1_800_000_000_000;
  const table: Array<[name: string, usedAtMs: number | null, nowMs: number, graceMs: number, expected: ReuseDecision]> = [
    ['at the same instant', rotatedAt, rotatedAt, 10_000, 'replay'],
    ['a moment later', rotatedAt, rotatedAt + 250, 10_000, 'replay'],
    ['exactly at the end of the grace', rotatedAt, rotatedAt + 10_000, 10_000, 'replay'],
    ['one millisecond after the grace', rotatedAt, rotatedAt + 10_001, 10_000, 'revoke'],
    ['an hour later', rotatedAt, rotatedAt + 3_600_000, 10_000, 'revoke'],
    ['grace off', rotatedAt, rotatedAt, 0, 'revoke'],
    ['no rotation time recorded', null, rotatedAt, 10_000, 'revoke'],
    ['a clock slightly behind the rotating one', rotatedAt, rotatedAt - 40, 10_000, 'replay'],
    ['a clock far behind the rotating one', rotatedAt, rotatedAt - 60_000, 10_000, 'revoke'],
  ];
  for (const [name, usedAtMs, nowMs, graceMs, expected] of table) {
    t.equal(refreshReuseDecision({ usedAtMs, nowMs, graceMs }), expected, name);
  }
});
