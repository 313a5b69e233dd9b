// Connection caps: over WS_MAX_CONNECTIONS_PER_IP (per client address) or WS_MAX_CONNECTIONS (in
// total) a new socket is closed right after the upgrade with 1013 "try again later", before hello.
// Every way a connection ends gives its slot back. Other addresses come from 127.0.0.2 and up.
import { once } from 'node:events';
import t from 'tap';
import { build, register, TEST_METRICS_TOKEN, type TestApp } from '../helpers/build.ts';
import { connect, connectReady, type GatewayClient } from '../helpers/gateway-client.ts';

/** Resolves when the server-side socket of the client whose hello announced `sessionId` is gone. */
function serverSocketGone(app: TestApp['app'], sessionId: string): Promise<unknown> {
  const connection = [...app.gateway.connections].find((candidate) => candidate.helloId === sessionId);
  if (!connection) throw new Error(`no server connection for ${sessionId}`);
  return connection.socket.readyState === 3 ? Promise.resolve() : once(connection.socket, 'close');
}

async function accepted(client: GatewayClient): Promise<string> {
  return (await client.next('hello')).session_id;
}

t.test('per-IP cap: the connection over it is refused with 1013; another address is not; every close frees a slot', async (t) => {
  const { app, api, baseUrl } = await build(t, { WS_MAX_CONNECTIONS_PER_IP: 2, WS_MAX_CONNECTIONS: 100, METRICS_TOKEN: TEST_METRICS_TOKEN });
  const ada = await register(api);
  const { client: first, hello } = await connectReady(t, baseUrl, ada.token, { name: 'first' });
  const second = await connect(t, baseUrl, { name: 'second (unauthenticated)' });
  const secondId = await accepted(second);

  const refused = await connect(t, baseUrl, { name: 'refused' });
  t.same(await refused.closedWith(), { code: 1013, reason: 'too many connections from this address' }, 'over the cap: 1013');
  t.same(refused.frames, [], 'refused before hello');
  const elsewhere = await connect(t, baseUrl, { name: 'from 127.0.0.2', localAddress: '127.0.0.2' });
  t.ok(await accepted(elsewhere), 'another address has its own slots');

  // A normal close by the client.
  let gone = serverSocketGone(app, hello.session_id);
  await first.close();
  await gone;
  const third = await connect(t, baseUrl, { name: 'third' });
  const thirdId = await accepted(third);
  t.ok(thirdId, 'accepted after a client close');

  // A dropped TCP connection (no close handshake).
  gone = serverSocketGone(app, secondId);
  await second.drop();
  await gone;
  const fourth = await connect(t, baseUrl, { name: 'fourth' });
  const fourthId = await accepted(fourth);
  t.ok(fourthId, 'accepted after a dropped connection');

  // A close by the server (4002 for invalid JSON).
  gone = serverSocketGone(app, thirdId);
  third.sendRaw('not json');
  t.equal((await third.closedWith()).code, 4002);
  await gone;
  const fifth = await connect(t, baseUrl, { name: 'fifth' });
  t.ok(await accepted(fifth), 'accepted after a server close');

  // A failed authentication (4004).
  gone = serverSocketGone(app, fourthId);
  fourth.send({ type: 'authorization', token: 'not-a-token' });
  t.equal((await fourth.closedWith()).code, 4004);
  await gone;
  const sixth = await connect(t, baseUrl, { name: 'sixth' });
  t.ok(await accepted(sixth), 'accepted after an authentication failure');

  const again = await connect(t, baseUrl, { name: 'refused again' });
  t.equal((await again.closedWith()).code, 1013, 'the cap still holds: two open (fifth, sixth)');
  t.equal(app.gateway.caps.countOf('127.0.0.1'), 2, 'slots held by 127.0.0.1');

  const metrics = (await api('GET', '/metrics', { token: TEST_METRICS_TOKEN })).text;
  t.match(metrics, /parley_ws_closes_total\{code="1013"\} 2\b/, 'refusals counted in parley_ws_closes_total');
});

t.test('total cap: the connection over it is refused with 1013 whatever its address; a close frees a slot', async (t) => {
  const { app, api, baseUrl } = await build(t, { WS_MAX_CONNECTIONS: 2, WS_MAX_CONNECTIONS_PER_IP: 100 });
  const ada = await register(api);
  const { client: first, hello } = await connectReady(t, baseUrl, ada.token, { name: 'first' });
  const second = await connect(t, baseUrl, { name: 'second', localAddress: '127.0.0.2' });
  await accepted(second);

  const refused = await connect(t, baseUrl, { name: 'refused', localAddress: '127.0.0.3' });
  t.same(await refused.closedWith(), { code: 1013, reason: 'too many connections' }, 'over the total cap: 1013');
  t.same(refused.frames, [], 'refused before hello');

  const gone = serverSocketGone(app, hello.session_id);
  await first.close();
  await gone;
  const third = await connect(t, baseUrl, { name: 'third', localAddress: '127.0.0.3' });
  t.ok(await accepted(third), 'accepted once a slot is free');
  t.equal(app.gateway.caps.total, 2);
});
