import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { register, type ApiClient } from './build.ts';
import { killClusterProcesses, type RunningServer } from './server-process.ts';

/**
 * The promise: after a crash, `npm start` on the same data folder is ready within 10 s.
 * The 10 s are for the recovery; what a start takes on this machine right now (the first start of
 * the folder, initdb included) is added, so that a loaded machine does not fail the test. Without
 * recovery the restart is never ready at all: it exits, or hangs past any budget.
 */
export const restartBudgetMs = (first: RunningServer) => 10_000 + first.startMs;

/** A fresh DATA_DIR; whatever still runs in its cluster folder is killed at teardown. */
export async function dataFolder(t: Test, prefix = 'parley-crash-'): Promise<string> {
  // realpath: the cluster folder is compared with /proc/<pid>/cwd, which is always resolved.
  const dataDir = realpathSync(await mkdtemp(path.join(tmpdir(), prefix)));
  t.teardown(async () => {
    killClusterProcesses(dataDir);
    await rm(dataDir, { recursive: true, force: true });
  });
  return dataDir;
}

/** A private room with `count` messages sent over REST; the ids of the acknowledged (201) ones. */
export async function sendMessages(api: ApiClient, count: number) {
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
export async function assertAllThere(t: Test, api: ApiClient, token: string, channelId: string, acked: string[]) {
  const history = await api('GET', `/api/v1/channels/${channelId}/messages?limit=100`, { token });
  t.equal(history.status, 200);
  const ids = (history.body.items as { id: string }[]).map((item) => item.id);
  t.same([...ids].sort(), [...acked].sort(), `all ${acked.length} acknowledged messages are there, no more`);
}

export function killNow(pid: number) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
