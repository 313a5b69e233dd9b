import t from 'tap';
import { KeyedMutex } from '../../src/domain/keyed-mutex.ts';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

interface Task {
  key: string;
  /** How long the task takes (ms). */
  ms: number;
  fails?: boolean;
}

/** Runs the tasks as fast as they can be queued and records start/end order. */
async function runAll(tasks: Task[]) {
  const mutex = new KeyedMutex();
  const log: string[] = [];
  const results = await Promise.allSettled(
    tasks.map((task, index) =>
      mutex.run(task.key, async () => {
        log.push(`start ${index}`);
        await tick(task.ms);
        log.push(`end ${index}`);
        if (task.fails) throw new Error(`task ${index} failed`);
        return index;
      }),
    ),
  );
  return { mutex, log, results };
}

const cases: Array<{ name: string; tasks: Task[]; log: string[] }> = [
  {
    name: 'one key: tasks run one at a time in call order, even when a later one is faster',
    tasks: [
      { key: 'a', ms: 20 },
      { key: 'a', ms: 0 },
      { key: 'a', ms: 5 },
    ],
    log: ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2'],
  },
  {
    name: 'different keys run concurrently',
    tasks: [
      { key: 'a', ms: 30 },
      { key: 'b', ms: 0 },
    ],
    log: ['start 0', 'start 1', 'end 1', 'end 0'],
  },
  {
    name: 'a failing task releases its key for the next one',
    tasks: [
      { key: 'a', ms: 5, fails: true },
      { key: 'a', ms: 0 },
    ],
    log: ['start 0', 'end 0', 'start 1', 'end 1'],
  },
  {
    name: 'interleaved keys keep per-key order',
    tasks: [
      { key: 'a', ms: 15 },
      { key: 'b', ms: 25 },
      { key: 'a', ms: 0 },
      { key: 'b', ms: 0 },
    ],
    log: ['start 0', 'start 1', 'end 0', 'start 2', 'end 2', 'end 1', 'start 3', 'end 3'],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const { mutex, log, results } = await runAll(testCase.tasks);
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
  await tick(10);
  t.equal(mutex.activeKeys, 1);
  t.notOk(secondStarted, 'the second task waits for the first');
  release();
  await first;
  await second;
  t.ok(secondStarted);
  t.equal(mutex.activeKeys, 0);
});
