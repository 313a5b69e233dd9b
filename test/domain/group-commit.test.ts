import t from 'tap';
import { GroupCommit } from '../../src/domain/group-commit.ts';

interface Item {
  key: string;
  name: string;
  /** The runner throws for any batch containing this item. */
  poison?: boolean;
}

/** A runner whose batches finish only when the test releases them, recording what ran together. */
function harness(options: { maxBatch: number; maxInFlight: number; retryAlone?: (error: unknown) => boolean }) {
  const batches: string[][] = [];
  const releases: Array<() => void> = [];
  const group = new GroupCommit<Item, string>({
    ...options,
    keyOf: (item) => item.key,
    run: async (items) => {
      batches.push(items.map((item) => item.name));
      await new Promise<void>((resolve) => releases.push(resolve));
      if (items.some((item) => item.poison)) throw new Error(`poisoned: ${items.map((item) => item.name).join(',')}`);
      return items.map((item) => `done ${item.name}`);
    },
  });
  /** Lets every batch started so far finish, then waits for the follow-up batches to start. */
  const releaseAll = async () => {
    for (const release of releases.splice(0)) release();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { group, batches, releaseAll };
}

const item = (name: string, key = name, poison = false): Item => ({ name, key, poison });

t.test('a lone item starts at once; items arriving while a batch runs share the next one', async (t) => {
  const { group, batches, releaseAll } = harness({ maxBatch: 10, maxInFlight: 1 });
  const first = group.submit(item('a'));
  t.same(batches, [['a']], 'the first item did not wait for company');
  const later = ['b', 'c', 'd'].map((name) => group.submit(item(name)));
  t.equal(group.queued, 3);
  await releaseAll();
  t.same(batches, [['a'], ['b', 'c', 'd']]);
  await releaseAll();
  t.equal(await first, 'done a');
  t.same(await Promise.all(later), ['done b', 'done c', 'done d']);
  t.equal(group.inFlight, 0);
});

const cases: Array<{ name: string; maxBatch: number; maxInFlight: number; items: Item[]; batches: string[][] }> = [
  {
    name: 'maxBatch splits a long queue in submit order',
    maxBatch: 2,
    maxInFlight: 1,
    items: ['a', 'b', 'c', 'd', 'e'].map((name) => item(name)),
    batches: [['a'], ['b', 'c'], ['d', 'e']],
  },
  {
    name: 'maxInFlight batches run side by side',
    maxBatch: 10,
    maxInFlight: 2,
    items: ['a', 'b', 'c', 'd'].map((name) => item(name)),
    batches: [['a'], ['b'], ['c', 'd']],
  },
  {
    name: 'one item per key per batch; the same key waits for its earlier item, others overtake',
    maxBatch: 10,
    maxInFlight: 1,
    items: [item('a1', 'a'), item('a2', 'a'), item('b1', 'b'), item('a3', 'a'), item('c1', 'c')],
    batches: [['a1'], ['a2', 'b1', 'c1'], ['a3']],
  },
  {
    name: 'a key running in one batch is not started in a concurrent one',
    maxBatch: 10,
    maxInFlight: 3,
    items: [item('a1', 'a'), item('a2', 'a'), item('b1', 'b')],
    batches: [['a1'], ['b1'], ['a2']],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const { group, batches, releaseAll } = harness(testCase);
    const outcomes = testCase.items.map((entry) => group.submit(entry));
    for (let round = 0; round < testCase.items.length && group.inFlight > 0; round += 1) await releaseAll();
    t.same(batches, testCase.batches);
    t.same(
      await Promise.all(outcomes),
      testCase.items.map((entry) => `done ${entry.name}`),
      'every item gets its own outcome',
    );
  });
}

t.test('a failing batch is retried one item at a time: only the bad item fails', async (t) => {
  const { group, batches, releaseAll } = harness({ maxBatch: 10, maxInFlight: 1 });
  const first = group.submit(item('a'));
  const rest = Promise.allSettled([item('b'), item('bad', 'bad', true), item('c')].map((entry) => group.submit(entry)));
  for (let round = 0; round < 6 && (group.inFlight > 0 || group.queued > 0); round += 1) await releaseAll();
  t.same(batches, [['a'], ['b', 'bad', 'c'], ['b'], ['bad'], ['c']]);
  t.equal(await first, 'done a');
  const settled = await rest;
  t.same(
    settled.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message)),
    ['done b', 'poisoned: bad', 'done c'],
  );
});

t.test('an error retryAlone refuses fails the whole batch, with no item retried', async (t) => {
  const { group, batches, releaseAll } = harness({ maxBatch: 10, maxInFlight: 1, retryAlone: () => false });
  const first = group.submit(item('a'));
  const rest = Promise.allSettled([item('b'), item('bad', 'bad', true), item('c')].map((entry) => group.submit(entry)));
  for (let round = 0; round < 6 && (group.inFlight > 0 || group.queued > 0); round += 1) await releaseAll();
  t.same(batches, [['a'], ['b', 'bad', 'c']]);
  t.equal(await first, 'done a');
  t.same(
    (await rest).map((result) => (result.status === 'rejected' ? (result.reason as Error).message : result.value)),
    ['poisoned: b,bad,c', 'poisoned: b,bad,c', 'poisoned: b,bad,c'],
  );
});

t.test('a runner returning the wrong number of outcomes fails the batch instead of mismatching', async (t) => {
  const group = new GroupCommit<string, string>({ maxBatch: 10, maxInFlight: 1, keyOf: (value) => value, run: async () => [] });
  await t.rejects(group.submit('a'), /0 outcomes for 1 items/);
});

t.test('options are checked', async (t) => {
  const run = async (items: readonly string[]) => items;
  t.throws(() => new GroupCommit({ maxBatch: 0, maxInFlight: 1, keyOf: String, run }), RangeError);
  t.throws(() => new GroupCommit({ maxBatch: 1, maxInFlight: 1.5, keyOf: String, run }), RangeError);
});
