/**
 * Locks left by a crash that must not block the next start, and the ones that must: a stale
 * postmaster.pid naming a zombie or another folder's postmaster (never signalled), and a second
 * server on a folder a live server holds. Real processes, real PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { freePort, queryDatabase } from '../helpers/accounts.ts';
import { apiClient } from '../helpers/build.ts';
import { assertAllThere, dataFolder, killNow, restartBudgetMs, sendMessages } from '../helpers/crash.ts';
import { childrenOf, eventually, isRunning, postmasterPidOf, startServer } from '../helpers/server-process.ts';

t.test('a stale postmaster.pid naming a zombie (a dead postmaster not reaped yet) does not block the next start', async (t) => {
  const dataDir = await dataFolder(t);
  const pgPort = await freePort();
  const first = await startServer(t, dataDir, pgPort);
  const api = apiClient(t, first.baseUrl);
  const { account, channelId, acked } = await sendMessages(api, 5);
  const postmaster = postmasterPidOf(dataDir)!;
  first.child.kill('SIGKILL');
  killNow(postmaster);
  await first.exited;
  t.ok(await eventually(() => !isRunning(postmaster), 10_000), 'the postmaster is dead');

  // A zombie that stays one: its parent (sh exec'ed into sleep) never reaps it. PostgreSQL's own
  // check (kill(pid, 0)) takes a zombie for a running postmaster and refuses to start.
  const parent = spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 60'], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  let zombie: number | undefined;
  t.ok(
    await eventually(() => {
      zombie = childrenOf(parent.pid!).find((pid) => !isRunning(pid));
      return zombie !== undefined;
    }, 10_000),
    `a zombie (pid ${zombie})`,
  );
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  lines[0] = String(zombie);
  writeFileSync(pidFile, lines.join('\n'));

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: restartBudgetMs(first) });
  t.equal((await fetch(`${second.baseUrl}/health/ready`)).status, 200, `ready within ${restartBudgetMs(first)} ms (10 s + a start here)`);
  await assertAllThere(t, apiClient(t, second.baseUrl), account.token, channelId, acked);
  second.child.kill('SIGTERM');
  t.equal((await second.exited).code, 0);
});

t.test("a postmaster of another data folder is never touched, even when a stale postmaster.pid names it", async (t) => {
  const otherDir = await dataFolder(t, 'parley-other-');
  const other = await startEmbeddedPostgres({ dataDir: otherDir, port: await freePort(), database: 'postgres' });
  t.teardown(() => other.stop());
  const otherPid = postmasterPidOf(otherDir)!;
  t.ok(isRunning(otherPid), 'the other cluster runs');

  // Our server crashes with its postmaster; our stale postmaster.pid then names the other
  // cluster's postmaster (as when the PID was reused).
  const dataDir = await dataFolder(t);
  const pgPort = await freePort();
  const first = await startServer(t, dataDir, pgPort);
  const ourPostmaster = postmasterPidOf(dataDir)!;
  first.child.kill('SIGKILL');
  killNow(ourPostmaster);
  await first.exited;
  t.ok(await eventually(() => !isRunning(ourPostmaster), 10_000), 'our postmaster is dead');
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  lines[0] = String(otherPid);
  writeFileSync(pidFile, lines.join('\n'));

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: restartBudgetMs(first) });
  t.equal((await fetch(`${second.baseUrl}/health/ready`)).status, 200, 'our server started despite the stale postmaster.pid');
  t.ok(isRunning(otherPid), "the other folder's postmaster still runs");
  t.same(await queryDatabase(other.url, 'SELECT 1 AS ok'), [{ ok: 1 }], 'and still answers');
  second.child.kill('SIGTERM');
  t.equal((await second.exited).code, 0);
  t.ok(isRunning(otherPid), "stopping our server left the other folder's postmaster running");
});

t.test('a second server on a data folder a live server holds refuses to start and leaves the first one alone', async (t) => {
  const dataDir = await dataFolder(t);
  const pgPort = await freePort();
  const first = await startServer(t, dataDir, pgPort);
  const postmaster = postmasterPidOf(dataDir)!;
  const api = apiClient(t, first.baseUrl);
  const { account, channelId, acked } = await sendMessages(api, 3);

  await t.rejects(startServer(t, dataDir, pgPort), /another Parley process/, 'the second server refuses, naming the reason');
  t.ok(isRunning(postmaster), "the first server's postmaster still runs");
  await assertAllThere(t, api, account.token, channelId, acked);
  first.child.kill('SIGTERM');
  t.equal((await first.exited).code, 0, 'the first server still stops cleanly');
});
