// A whole PostgreSQL restart (stop, then start, of the cluster two instances share) under load is
// survived without restarting the instances: /health/ready answers 503 meanwhile, the gateway
// sessions resync (1012, then invalid_session), every acknowledged message is in history, and
// events cross instances again on the PostgreSQL bus. While it is down, every operation that
// reaches the database answers 503 database_unavailable with Retry-After (ServiceUnavailable in
// openapi.yaml), never 401 or 500; a gateway frame needing it gets an error frame
// database_unavailable, and a new connection is closed 1013 (try again later) instead of being
// authenticated. The cluster is this test's own (never the shared test cluster other suites use).
import { readFileSync } from 'node:fs';
import t from 'tap';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.ts';
import { freePort, projectRoot } from '../helpers/accounts.ts';
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
        // Never a 401 (that would tell the client its valid token is bad), nor a 500: retry later.
        else t.equal(response.status, 503, `a send while the database is away is a 503 (${response.body?.code})`);
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
  t.equal(down.status, 503, 'an authenticated request is told to retry, not 401 or 500, while the database is away');
  t.equal(down.headers.get('content-type')?.split(';')[0], 'application/problem+json');
  t.equal(down.body.code, 'database_unavailable');
  t.equal(down.headers.get('retry-after'), '5', 'with Retry-After');
  // Every GET that authenticates, and the public POSTs that reach the database: 503 as documented
  // (the api helper checks status, body and Retry-After against openapi.yaml).
  const bundled = JSON.parse(readFileSync(`${projectRoot}/generated/openapi.bundled.json`, 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; responses: Record<string, unknown> }>>;
  };
  const statuses: Record<string, number> = {};
  for (const [template, item] of Object.entries(bundled.paths)) {
    const operation = item.get;
    if (!operation?.operationId || !operation.responses['503'] || (operation.security && operation.security.length === 0)) continue;
    const url = template.replace(/\{[^}]+\}/g, '1') + (operation.operationId === 'searchMessages' ? '?q=hello' : '');
    statuses[operation.operationId] = (await b.api('GET', url, { token: bob.token })).status;
  }
  statuses.loginUser = (await b.api('POST', '/api/v1/auth/login', { body: { login: bob.user.username, password: 'whatever-password-1' } })).status;
  statuses.registerUser = (await b.api('POST', '/api/v1/auth/register', { body: { username: 'late_comer', email: 'late_comer@example.com', password: 'Sup3r-secret-2' } })).status;
  statuses.refreshToken = (await b.api('POST', '/api/v1/auth/refresh', { body: { refresh_token: 'x'.repeat(40) } })).status;
  t.ok(Object.keys(statuses).length > 20, `${Object.keys(statuses).length} operations asked`);
  t.same(Object.entries(statuses).filter(([, status]) => status !== 503), [], 'each answered 503');

  // The gateway: a frame of an existing session that needs the database fails with an error
  // frame telling to retry (the session stays); a new connection cannot be authenticated and is
  // closed 1013 (try again later), not 4004 (its token is not known to be bad) nor 4000.
  const refused = await bobWs.request({ type: 'send_message', ref: 'down', channel_id: room.id, content: 'while down', nonce: 'down-1' });
  t.match(refused, { type: 'error', ref: 'down', code: 'database_unavailable', retry_after_ms: 5000 }, 'send_message: database_unavailable');
  const newcomer = await connect(t, b.server.baseUrl, { name: 'newcomer while down' });
  await newcomer.next('hello');
  newcomer.send({ type: 'authorization', token: bob.token });
  t.equal((await newcomer.closedWith(15_000)).code, 1013, 'authorization while the database is away: 1013');
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
  t.equal((await b.api('GET', '/api/v1/users/@me', { token: bob.token })).status, 200, 'REST answers again');
  t.ok(await fresh.next((frame) => frame.type === 'message_created' && frame.message.id === after.body.id, 30_000), 'events cross instances again');
});
