// PostgresCounterStore against a real PostgreSQL: the same fixed windows as WindowCounter (the
// in-process store), shared by two stores (two processes), with an injected clock.
import t from 'tap';
import { createDatabasePool } from '../../src/db/pool.ts';
import { WindowCounter } from '../../src/domain/fixed-window-limiter.ts';
import { PostgresCounterStore } from '../../src/rate-limits/postgres-counter-store.ts';
import { createTestDatabase, createTestPool } from '../helpers/database.ts';

t.test('two stores on one database count one window, as WindowCounter does', async (t) => {
  const { pool } = await createTestPool(t, 4);
  const stores = [new PostgresCounterStore(() => pool), new PostgresCounterStore(() => pool)];
  const reference = new WindowCounter();
  // [store, key, windowMs, now]: hits alternate between the stores, windows end and start over.
  const hits: Array<[number, string, number, number]> = [
    [0, 'a', 1000, 0],
    [1, 'a', 1000, 10],
    [0, 'a', 1000, 999],
    [1, 'b', 1000, 999],
    [1, 'a', 1000, 1000],
    [0, 'a', 1000, 1500],
    [0, 'a', 1000, 2000],
    [1, 'b', 500, 1499],
  ];
  for (const [store, key, windowMs, now] of hits) {
    const got = await stores[store]!.hit(key, windowMs, now);
    t.same(got, reference.hit(key, windowMs, now), `store ${store}, ${key} at ${now}`);
  }
});

t.test('the database away: the store counts in this process instead of failing', async (t) => {
  const database = await createTestDatabase();
  const pool = await createDatabasePool(database.url, 2);
  await pool.end();
  await database.drop();
  const failures: unknown[] = [];
  const store = new PostgresCounterStore(() => pool, (error) => failures.push(error));
  t.same(await store.hit('k', 1000, 0), { count: 1, resetAt: 1000 });
  t.same(await store.hit('k', 1000, 1), { count: 2, resetAt: 1000 });
  t.equal(failures.length, 2, 'each fallback reported');
});
