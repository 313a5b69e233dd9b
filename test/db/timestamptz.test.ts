import t from 'tap';
import { timestamptzToIso } from '../../src/db/timestamptz.ts';

t.test('timestamptzToIso gives exactly what new Date(value).toISOString() gives', async (t) => {
  const values = [
    '2026-11-21 06:53:08.123456+00',
    '2026-11-21 06:53:08.123999+00',
    '2026-11-21 06:53:08.999999+00',
    '2026-11-21 06:53:08+00',
    '2026-11-21 06:53:08.1+00',
    '2026-11-21 06:53:08.12+00',
    '2026-11-21 06:53:08.123+00',
    '2026-11-21 06:53:08.0001+00',
    '2000-02-29 23:59:59.5+00',
    '0999-01-01 00:00:00+00',
    '2026-11-21 08:53:08.123456+02',
    '2026-11-21 06:53:08.123456-05:30',
    // Shapes next to the fast path's, which must take the Date path.
    '12026-11-21 06:53:08.123456+00',
    '2026-11-21 06:53:08.+00',
    '2026-11-21T06:53:08.123+00',
    '2026-11-21 06:53:08.1234567+00',
    '2026-11-21 06:53:08.123456+01',
    '2026-11-21 06:53:08.123456+0000',
  ];
  for (const value of values) {
    let expected: string;
    try {
      expected = new Date(value).toISOString();
    } catch (error) {
      t.throws(() => timestamptzToIso(value), error as Error, `${value} is refused as Date refuses it`);
      continue;
    }
    t.equal(timestamptzToIso(value), expected, value);
  }
});

t.test('a value PostgreSQL cannot send with a non-digit where a digit belongs is not read by position', async (t) => {
  for (const value of ['2026-1x-21 06:53:08.123+00', '2026-11-21 06:5x:08+00', '2026-11-21 06:53:08.12x+00']) {
    t.throws(() => timestamptzToIso(value), RangeError, value);
  }
});
