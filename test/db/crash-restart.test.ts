import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { freePort, queryDatabase } from '../helpers/accounts.ts';
import { apiClient, register, type ApiClient } from '../helpers/build.ts';
import {
  childrenOf,
  eventually,
  isRunning,
  killClusterProcesses,
  postmasterPidOf,
  startServer,
  type RunningServer,
} from '../helpers/server-process.ts';

/** The promise: after a crash, `npm start` on the same data folder is ready within 10 s. */
const RESTART_READY_MS = 10_000;

async function dataFolder(t: Test, prefix = 'parley-crash-'): Promise<string> {
  // realpath: the cluster folder is compared with /proc/<pid>/cwd, which is always resolved.
  const dataDir = realpathSync(await mkdtemp(path.join(tmpdir(), prefix)));
  t.teardown(async () => {
    killClusterProcesses(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });
  return dataDir;
}

/** A private room with `count` messages sent over REST; the ids of the acknowledged (201) ones. */
async function sendMessages(api: ApiClient, count: number) {
  const account = await register(api);
  const room = await api('POST', '/api/v1/channels', {
    token: account.token,
    body: { type: 'room', name: 'crash-room', visibility: 'private' },
  });
  if (room.status !== 201) throw new Error(`room: ${room.status} ${room.text}`);
  const acked: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const sent = await api('POST', `/api/v1/channels/${room.body.id}/messages`, {
      token: account.token,
      body: { content: `message ${index}`, nonce: `n-${index}` },
    });
    if (sent.status === 201) acked.push(sent.body.id);
  }
  return { account, channelId: room.body.id as string, acked };
}

/** Every acknowledged message is in the channel's history, once, in the restarted server. */
async function assertAllThere(t: Test, api: ApiClient, token: string, channelId: string, acked: string[]) {
  const history = await api('GET', `/api/v1/channels/${channelId}/messages?limit=100`, { token });
  t.equal(history.status, 200);
  const ids = (history.body.items as { id: string }[]).map((item) => item.id);
  t.same([...ids].sort(), [...acked].sort(), `all ${acked.length} acknowledged messages are there, no more`);
}

function killNow(pid: number) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

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

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: RESTART_READY_MS });
  t.equal((await fetch(`${second.baseUrl}/health/ready`)).status, 200, `the restarted server was ready within ${RESTART_READY_MS} ms`);
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

t.test('kill -9 of the server: its postmaster stops by itself; the next start is ready within 10 s with every acked message', (t) =>
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
  t.ok(await eventually(() => !isRunning(postmaster), 5_000), 'the postmaster is dead');

  // A zombie that stays one: its parent (sh exec'ed into sleep) never reaps it. PostgreSQL's own
  // check (kill(pid, 0)) takes a zombie for a running postmaster and refuses to start.
  const parent = spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 60'], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  let zombie: number | undefined;
  t.ok(
    await eventually(() => {
      zombie = childrenOf(parent.pid!).find((pid) => !isRunning(pid));
      return zombie !== undefined;
    }, 5_000),
    `a zombie (pid ${zombie})`,
  );
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  lines[0] = String(zombie);
  writeFileSync(pidFile, lines.join('\n'));

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: RESTART_READY_MS });
  t.equal((await fetch(`${second.baseUrl}/health/ready`)).status, 200, `ready within ${RESTART_READY_MS} ms`);
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
  t.ok(await eventually(() => !isRunning(ourPostmaster), 5_000), 'our postmaster is dead');
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  lines[0] = String(otherPid);
  writeFileSync(pidFile, lines.join('\n'));

  const second = await startServer(t, dataDir, pgPort, { readyWithinMs: RESTART_READY_MS });
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
