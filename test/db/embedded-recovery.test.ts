import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { ownerLockFile, prepareCluster, releaseOwnerLock, type RecoveryClock } from '../../src/db/embedded-recovery.ts';
import { eventually, isRunning } from '../helpers/server-process.ts';

/** A clock whose sleeps pass at once: patience runs out after a few loop turns, no real waiting. */
function fakeClock(): RecoveryClock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

async function folders(t: Test) {
  const dataDir = realpathSync(await mkdtemp(path.join(tmpdir(), 'parley-recovery-')));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const clusterDir = path.join(dataDir, 'pg');
  mkdirSync(clusterDir);
  return { dataDir, clusterDir };
}

/** A harmless long-running process (not a postgres), optionally working in `cwd`. */
async function bystander(t: Test, cwd?: string) {
  const child = spawn('sleep', ['60'], { stdio: 'ignore', ...(cwd ? { cwd } : {}) });
  t.teardown(() => child.kill('SIGKILL'));
  await eventually(() => isRunning(child.pid!), 5_000);
  return child.pid!;
}

const startTime = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};

const postmasterPid = (pid: number, clusterDir: string) => `${pid}\n${clusterDir}\n1795670000\n54329\n/tmp\n127.0.0.1\n  1234  5678\nready\n`;

t.test('postmaster.pid naming a live program that is not a postgres: the lock is removed, the program never signalled', async (t) => {
  const { dataDir, clusterDir } = await folders(t);
  const pid = await bystander(t);
  writeFileSync(path.join(clusterDir, 'postmaster.pid'), postmasterPid(pid, clusterDir));
  const notices: string[] = [];
  t.equal(await prepareCluster({ dataDir, clusterDir, mode: 'start', clock: fakeClock(), log: (m) => notices.push(m) }), 'start');
  t.notOk(existsSync(path.join(clusterDir, 'postmaster.pid')), 'the stale postmaster.pid is gone');
  t.match(notices.join('\n'), /removing the stale postmaster.pid/);
  t.ok(isRunning(pid), 'the program still runs');
  t.equal(JSON.parse(readFileSync(ownerLockFile(dataDir), 'utf8')).pid, process.pid, 'the owner lock is ours');
  await releaseOwnerLock(dataDir);
  t.notOk(existsSync(ownerLockFile(dataDir)), 'and released on stop');
});

t.test('a process that keeps working in the cluster folder: wait, then refuse naming it; it is never signalled', async (t) => {
  const { dataDir, clusterDir } = await folders(t);
  const pid = await bystander(t, clusterDir);
  await t.rejects(
    prepareCluster({ dataDir, clusterDir, mode: 'start', clock: fakeClock(), patienceMs: 1_000 }),
    new RegExp(`processes of a previous PostgreSQL still run.*pids ${pid}`),
  );
  t.ok(isRunning(pid), 'still running');
  t.notOk(existsSync(ownerLockFile(dataDir)), 'no owner lock was taken');
});

t.test('an owner lock held by a live process: a server refuses, a script waits then refuses; nothing is signalled', async (t) => {
  const { dataDir, clusterDir } = await folders(t);
  const owner = await bystander(t);
  writeFileSync(ownerLockFile(dataDir), JSON.stringify({ pid: owner, started: startTime(owner) }));
  for (const mode of ['start', 'attach'] as const) {
    await t.rejects(
      prepareCluster({ dataDir, clusterDir, mode, clock: fakeClock(), patienceMs: 1_000 }),
      new RegExp(`another Parley process holds this data folder.*owner pid ${owner}`),
      mode,
    );
  }
  t.ok(isRunning(owner), 'the owner still runs');
  t.equal(JSON.parse(readFileSync(ownerLockFile(dataDir), 'utf8')).pid, owner, 'and keeps its lock');
});

t.test('an owner lock of a dead process, of a reused PID, or unparsable: taken over', async (t) => {
  const reused = await bystander(t);
  const locks = {
    dead: JSON.stringify({ pid: 2 ** 22 + 1, started: '1' }),
    'reused PID (other start time)': JSON.stringify({ pid: reused, started: '1' }),
    unparsable: '{"pid": 12',
  };
  for (const [name, content] of Object.entries(locks)) {
    const { dataDir, clusterDir } = await folders(t);
    writeFileSync(ownerLockFile(dataDir), content);
    t.equal(await prepareCluster({ dataDir, clusterDir, mode: 'start', clock: fakeClock() }), 'start', name);
    t.equal(JSON.parse(readFileSync(ownerLockFile(dataDir), 'utf8')).pid, process.pid, `${name}: the lock is ours`);
  }
  t.ok(isRunning(reused), 'the process whose PID was in a lock still runs');
});
