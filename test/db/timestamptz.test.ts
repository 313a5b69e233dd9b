import t from 'tap';
import { timestamptzToIso } from '../../src/db/pool.ts';

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
  ];
  for (const value of values) t.equal(timestamptzToIso(value), new Date(value).toISOString(), value);
});
