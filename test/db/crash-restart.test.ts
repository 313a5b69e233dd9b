/**
 * `kill -9` of the server (`npm start`, embedded PostgreSQL) and a restart on the same data folder:
 * ready in time, with every acknowledged message. Real processes, real PostgreSQL. The lock cases
 * (zombie, reused PID, a second server) are in crash-locks.test.ts, so the two files run in parallel.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { freePort } from '../helpers/accounts.ts';
import { apiClient } from '../helpers/build.ts';
import { assertAllThere, dataFolder, killNow, restartBudgetMs, sendMessages } from '../helpers/crash.ts';
import { childrenOf, eventually, isRunning, postmasterPidOf, startServer, type RunningServer } from '../helpers/server-process.ts';

async function crashScenario(t: Test, crash: (server: RunningServer, postmaster: number, dataDir: string) => Promise<void>) {
  const dataDir = await dataFolder(t);
  const pgPort = await freePort();
  const first = await startServer(t, dataDir, pgPort);
  const api = apiClient(t, first.baseUrl);
  const { account, channelId, acked } = await sendMessages(api, 20);
  t.equal(acked.length, 20, 'every message was acknowledged before the crash');
  const postmaster = postmasterPidOf(dataDir)!;
  t.ok(postmaster > 0 && isRunning(postmaster), `the embedded PostgreSQL runs (pid ${postmaster})`);

  await crash(first, postmaster, dataDir);

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: restartBudgetMs(first) });
  t.equal((await fetch(`${second.baseUrl}/health/ready`)).status, 200, `the restarted server was ready within ${restartBudgetMs(first)} ms (10 s + a start here)`);
  const api2 = apiClient(t, second.baseUrl);
  await assertAllThere(t, api2, account.token, channelId, acked);
  const again = await api2('POST', `/api/v1/channels/${channelId}/messages`, {
    token: account.token,
    body: { content: 'after the crash' },
  });
  t.equal(again.status, 201, 'the restarted server accepts new messages');
  second.child.kill('SIGTERM');
  t.equal((await second.exited).code, 0, 'and stops cleanly');
  t.notOk(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'with its cluster stopped');
}

t.test('kill -9 of the server: its postmaster stops by itself; the next start is ready in time with every acked message', (t) =>
  crashScenario(t, async (server, postmaster, dataDir) => {
    server.child.kill('SIGKILL');
    await server.exited;
    // The postmaster dies with its parent (a fast shutdown, so it removes its postmaster.pid).
    t.ok(await eventually(() => !isRunning(postmaster), 15_000), 'the orphaned postmaster shut down without a restart');
    t.equal(postmasterPidOf(dataDir), undefined, 'cleanly: it removed its postmaster.pid');
  }),
);

t.test('kill -9 of the server and of everything that would stop its postmaster: the next start stops the orphan', (t) =>
  crashScenario(t, async (server, postmaster) => {
    // The server's other children (the watchdog) die with it, so only the start can clean up.
    const others = childrenOf(server.pid).filter((pid) => pid !== postmaster);
    server.child.kill('SIGKILL');
    for (const pid of others) killNow(pid);
    await server.exited;
    t.ok(isRunning(postmaster), 'the postmaster is left running as an orphan');
  }),
);

t.test('kill -9 of the server and its postmaster together: the stale postmaster.pid does not block the next start', (t) =>
  crashScenario(t, async (server, postmaster, dataDir) => {
    server.child.kill('SIGKILL');
    killNow(postmaster);
    await server.exited;
    // Restart at once: the dead postmaster may still be a zombie, its backends still exiting.
    t.ok(existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), 'its postmaster.pid is left behind');
  }),
);
