import t from 'tap';
import { KeyedMutex } from '../../src/domain/keyed-mutex.ts';

/** Lets every pending promise callback run (a macrotask turn): no timer, no duration. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

interface Task {
  key: string;
  fails?: boolean;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * Queues every task at once; each runs until the harness lets it finish. The harness finishes
 * them in `finishOrder` (each once it has started), so the order is chosen, not left to timers.
 */
async function runAll(tasks: Task[], finishOrder: number[]) {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const gates = tasks.map(() => deferred());
  const started = tasks.map(() => deferred());
  const all = Promise.allSettled(
    tasks.map((task, index) =>
      mutex.run(task.key, async () => {
        log.push(`start ${index}`);
        started[index]!.resolve();
        await gates[index]!.promise;
        log.push(`end ${index}`);
        if (task.fails) throw new Error(`task ${index} failed`);
        return index;
      }),
    ),
  );
  await settle();
  for (const index of finishOrder) {
    await started[index]!.promise;
    gates[index]!.resolve();
    await settle();
  }
  return { mutex, log, results: await all };
}

const cases: Array<{ name: string; tasks: Task[]; finishOrder: number[]; log: string[] }> = [
  {
    name: 'one key: tasks run one at a time in call order',
    tasks: [{ key: 'a' }, { key: 'a' }, { key: 'a' }],
    finishOrder: [0, 1, 2],
    log: ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'],
  },
  {
    name: 'different keys run concurrently',
    tasks: [{ key: 'a' }, { key: 'b' }],
    finishOrder: [1, 0],
    log: ['start 0', 'start 1', 'end 1', 'end 0'],
  },
  {
    name: 'a failing task releases its key for the next one',
    tasks: [{ key: 'a', fails: true }, { key: 'a' }],
    finishOrder: [0, 1],
    log: ['start 0', 'end 0', 'start 1', 'end 1'],
  },
  {
    name: 'interleaved keys keep per-key order',
    tasks: [{ key: 'a' }, { key: 'b' }, { key: 'a' }, { key: 'b' }],
    finishOrder: [0, 2, 1, 3],
    log: ['start 0', 'start 1', 'end 0', 'start 2', 'end 2', 'end 1', 'start 3', 'end 3'],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const { mutex, log, results } = await runAll(testCase.tasks, testCase.finishOrder);
    t.same(log, testCase.log);
    testCase.tasks.forEach((task, index) => {
      const result = results[index]!;
      if (task.fails) t.equal(result.status, 'rejected', `task ${index} rejects with its own error`);
      else t.same(result, { status: 'fulfilled', value: index }, `task ${index} resolves with its own value`);
    });
    t.equal(mutex.activeKeys, 0, 'no key is left behind once everything settled');
  });
}

t.test('a key stays held while its task runs and is freed afterwards', async (t) => {
  const mutex = new KeyedMutex();
  let release!: () => void;
  const first = mutex.run('k', () => new Promise<void>((resolve) => (release = resolve)));
  let secondStarted = false;
  const second = mutex.run('k', async () => {
    secondStarted = true;
  });
  await settle();
  t.equal(mutex.activeKeys, 1);
  t.notOk(secondStarted, 'the second task waits for the first');
  release();
  await first;
  await second;
  t.ok(secondStarted);
  t.equal(mutex.activeKeys, 0);
});
