// A whole PostgreSQL restart (stop, then start, of the cluster two instances share) under load is
// survived without restarting the instances: /health/ready answers 503 meanwhile, the gateway
// sessions resync (1012, then invalid_session), every acknowledged message is in history, and
// events cross instances again on the PostgreSQL bus. While it is down, REST fails with 500
// problem+json (internal_error, documented on every operation), never 401. The cluster is this
// test's own (never the shared test cluster other suites use).
import t from 'tap';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { freePort } from '../helpers/accounts.ts';
import { apiClient, register } from '../helpers/build.ts';
import { createRoom, historyIds, join } from '../helpers/chat.ts';
import { dataFolder } from '../helpers/crash.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';
import { pollUntil, SHARED_JWT_SECRET } from '../helpers/instances.ts';
import { startServer } from '../helpers/server-process.ts';

t.test('two instances on the PostgreSQL bus survive a stop and start of their PostgreSQL', async (t) => {
  const pgDir = await dataFolder(t, 'parley-pg-restart-');
  const pgPort = await freePort();
  const startCluster = () => startEmbeddedPostgres({ dataDir: pgDir, port: pgPort, database: 'parley', settings: { fsync: 'off' } });
  let cluster: EmbeddedDatabase = await startCluster();
  t.teardown(() => cluster.stop());
  const env = { DATABASE_URL: cluster.url, JWT_SECRET: SHARED_JWT_SECRET, EVENT_BUS: 'postgres', DATABASE_POOL_SIZE: '4', PRESENCE_GRACE_MS: '0' };
  const servers = [];
  for (const name of ['a', 'b']) servers.push(await startServer(t, await dataFolder(t, `parley-pg-restart-${name}-`), await freePort(), { env }));
  const [a, b] = servers.map((server) => ({ server, api: apiClient(t, server.baseUrl) })) as [{ server: (typeof servers)[0]; api: ReturnType<typeof apiClient> }, { server: (typeof servers)[0]; api: ReturnType<typeof apiClient> }];

  const ada = await register(a.api);
  const bob = await register(a.api);
  const room = await createRoom(a.api, ada);
  await join(a.api, room.id, bob);
  const { client: bobWs, hello } = await connectReady(t, b.server.baseUrl, bob.token, { name: 'bob@b' });
  const post = (content: string) => a.api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content } });
  const before = await post('before');
  await bobWs.next((frame) => frame.type === 'message_created' && frame.message.id === before.body.id, 15_000);

  // Load while the cluster stops and starts: a send answered 201 must be in history; others may fail.
  const acked: string[] = [before.body.id];
  let loading = true;
  const load = (async () => {
    for (let n = 0; loading && n < 2000; n += 1) {
      try {
        const response = await post(`load ${n}`);
        if (response.status === 201) acked.push(response.body.id);
        // Never a 401 (that would tell the client its valid token is bad): the server failed.
        else t.ok([500, 503].includes(response.status), `a failed send is a 5xx, not ${response.status}`);
      } catch {
        // a connection reset while the server itself is fine would show below as a failed check
      }
    }
  })();

  await cluster.stop();
  for (const [index, instance] of [a, b].entries()) {
    t.ok(await pollUntil(async () => (await instance.api('GET', '/health/ready')).status === 503, 20_000), `instance ${index}: not ready without PostgreSQL`);
  }
  const down = await b.api('GET', '/api/v1/users/@me', { token: bob.token });
  t.equal(down.status, 500, 'an authenticated request fails as a server error, not 401, while the database is away');
  t.equal(down.headers.get('content-type')?.split(';')[0], 'application/problem+json');
  cluster = await startCluster();

  for (const [index, instance] of [a, b].entries()) {
    t.ok(await pollUntil(async () => (await instance.api('GET', '/health/ready')).status === 200, 60_000), `instance ${index}: ready again without a restart`);
  }
  loading = false;
  await load;
  t.ok(a.server.child.exitCode === null && b.server.child.exitCode === null, 'both instances kept running');

  // The bus's LISTEN connection was lost: bob's session may have missed events, so it is closed
  // with 1012 and cannot be resumed; history `after` holds everything acknowledged.
  const closed = await bobWs.closedWith(60_000);
  t.equal(closed.code, 1012, 'told to reconnect');
  const again = await connect(t, b.server.baseUrl, { name: 'bob again' });
  await again.next('hello');
  const reply = await again.request({ type: 'resume', ref: 'r', token: bob.token, session_id: hello.session_id, seq: bobWs.lastSeq });
  t.equal(reply.type, 'invalid_session', 'resync through history');
  const history = await historyIds(b.api, room.id, bob.token);
  t.same(acked.filter((id) => !history.includes(id)), [], `every acknowledged message is in history (${acked.length})`);

  // Live again across instances.
  const { client: fresh } = await connectReady(t, b.server.baseUrl, bob.token, { name: 'bob fresh' });
  const after = await post('after');
  t.equal(after.status, 201);
  t.ok(await fresh.next((frame) => frame.type === 'message_created' && frame.message.id === after.body.id, 30_000), 'events cross instances again');
});
