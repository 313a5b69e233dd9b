// `WORKERS=3 npm start`: one primary (embedded PostgreSQL + migrations) and three server processes
// on one port, sharing the database and the PostgreSQL LISTEN/NOTIFY bus.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { apiClient, register } from '../helpers/build.ts';
import { createRoom, historyIds, join } from '../helpers/chat.ts';
import { freePort } from '../helpers/accounts.ts';
import { connectReady } from '../helpers/gateway-client.ts';
import { pollUntil } from '../helpers/instances.ts';
import { childrenOf, eventually, killClusterProcesses, startServer } from '../helpers/server-process.ts';

/** The primary's children that are server workers (not the postmaster or its watchdog). */
function workersOf(pid: number): number[] {
  return childrenOf(pid).filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('src/server.ts');
    } catch {
      return false;
    }
  });
}

t.test('WORKERS=3: three processes on one port deliver every message once, in history order, and a dead worker is replaced', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-workers-'));
  t.teardown(() => {
    killClusterProcesses(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const server = await startServer(t, dataDir, await freePort(), { env: { WORKERS: '3', PRESENCE_GRACE_MS: '0', PRESENCE_HEARTBEAT_MS: '200', PRESENCE_TTL_MS: '1500' } });
  t.teardown(() => {
    for (const worker of workersOf(server.pid)) {
      try {
        process.kill(worker, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  t.ok(await eventually(() => workersOf(server.pid).length === 3, 30_000), 'three worker processes');
  const api = apiClient(t, server.baseUrl);

  const owner = await register(api);
  const room = await createRoom(api, owner);
  const people = await Promise.all(Array.from({ length: 6 }, () => register(api)));
  for (const person of people) await join(api, room.id, person);
  // Six connections: node:cluster hands them to the workers in turn.
  const clients = [];
  for (const [index, person] of people.entries()) clients.push((await connectReady(t, server.baseUrl, person.token, { name: `client${index}` })).client);

  const sends: Promise<unknown>[] = [];
  for (let n = 0; n < 8; n += 1) {
    for (const [index, client] of clients.entries()) {
      if (index % 2 === 0) sends.push(client.request({ type: 'send_message', ref: `s${index}-${n}`, channel_id: room.id, content: `s${index}-${n}` }, 30_000));
      else sends.push(api('POST', `/api/v1/channels/${room.id}/messages`, { token: people[index]!.token, body: { content: `s${index}-${n}` } }));
    }
  }
  await Promise.all(sends);
  const history = await historyIds(api, room.id, owner.token);
  t.equal(history.length, 48);
  for (const [index, client] of clients.entries()) {
    const seen: string[] = [];
    while (seen.length < history.length) seen.push((await client.next('message_created', 30_000)).message.id);
    t.same(seen, history, `client ${index} saw history's order`);
  }
  // Presence agrees whichever worker answers (requests are spread over the workers too).
  for (let attempt = 0; attempt < 3; attempt += 1) {
    t.ok(await pollUntil(async () => {
      const page = await api('GET', '/api/v1/users/online?limit=100', { token: owner.token });
      return people.every((person) => page.body.items.some((item: { user: { id: string } }) => item.user.id === person.user.id));
    }, 15_000), `every connected user listed (request ${attempt})`);
  }

  const [victim] = workersOf(server.pid);
  process.kill(victim!, 'SIGKILL');
  t.ok(await eventually(() => workersOf(server.pid).length === 3 && !workersOf(server.pid).includes(victim!), 30_000), 'the primary replaced the killed worker');
  t.ok(await pollUntil(async () => (await fetch(`${server.baseUrl}/health/ready`)).status === 200, 30_000), 'ready again');
});
