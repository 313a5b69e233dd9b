// Two instances on one redis-server: rate limits are counted across them, and Redis stopped for
// 5 s and started again is survived: REST keeps serving, /health/ready names Redis meanwhile, the
// gateway's sessions are told to resync (1012 then invalid_session) and history `after` holds
// what was sent while Redis was away; everything recovers without a restart.
import t from 'tap';
import { register } from '../helpers/build.ts';
import { createRoom, join } from '../helpers/chat.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';
import { pollUntil, startInstances, wrongLoginsAcross } from '../helpers/instances.ts';
import { startRedis } from '../helpers/redis-server.ts';

t.test('two instances on Redis', async (t) => {
  const redis = await startRedis(t);
  const { instances } = await startInstances(t, 2, {
    REDIS_URL: redis.url,
    RATE_LIMITS: 'login_account=3/60s',
    PRESENCE_HEARTBEAT_MS: '200',
    PRESENCE_TTL_MS: '1500',
  });
  const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];

  t.test('a login budget is spent across instances', async (t) => {
    t.same(await wrongLoginsAcross(a, b, 4), [401, 401, 401, 429], 'the fourth attempt is refused, whichever instance counts it');
  });

  t.test('Redis away for 5 s: REST serves, readiness names Redis, sessions resync, history holds everything', async (t) => {
    const ada = await register(a.api);
    const bob = await register(a.api);
    const room = await createRoom(a.api, ada);
    await join(a.api, room.id, bob);
    const { client: bobWs, hello } = await connectReady(t, b.baseUrl, bob.token, { name: 'bob@b' });
    const before = await a.api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'before' } });
    await bobWs.next((frame) => frame.type === 'message_created' && frame.message.id === before.body.id, 15_000);

    await redis.stop();
    const stoppedAt = Date.now();
    for (const instance of instances) {
      t.ok(await pollUntil(async () => (await instance.api('GET', '/health/ready')).status === 503, 15_000), 'not ready without Redis');
      const ready = await instance.api('GET', '/health/ready');
      t.match(ready.body.detail, /Redis/, 'the problem names Redis');
    }
    // REST keeps serving while Redis is away.
    const during = await a.api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'during' } });
    t.equal(during.status, 201, 'a message is stored meanwhile');
    const me = await b.api('GET', '/api/v1/users/@me', { token: bob.token });
    t.equal(me.status, 200, `REST answers on the other instance too: ${me.text}`);
    // Five seconds of outage (a deadline, not a proof of absence).
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 5_000 - (Date.now() - stoppedAt))));
    await redis.start();

    for (const instance of instances) {
      t.ok(await pollUntil(async () => (await instance.api('GET', '/health/ready')).status === 200, 30_000), 'ready again without a restart');
    }
    // Bob's session may have missed `during`: it is closed with 1012 and cannot be resumed.
    const closed = await bobWs.closedWith(30_000);
    t.equal(closed.code, 1012, 'told to reconnect');
    const again = await connect(t, b.baseUrl, { name: 'bob again' });
    await again.next('hello');
    const reply = await again.request({ type: 'resume', ref: 'r', token: bob.token, session_id: hello.session_id, seq: bobWs.lastSeq });
    t.equal(reply.type, 'invalid_session', 'resync through history');
    const page = await b.api('GET', `/api/v1/channels/${room.id}/messages?after=${before.body.id}&limit=10`, { token: bob.token });
    t.same(page.body.items.map((item: { id: string }) => item.id), [during.body.id], 'history after holds what was sent while Redis was away');
    // Live again across instances.
    const { client: fresh } = await connectReady(t, b.baseUrl, bob.token, { name: 'bob fresh' });
    const after = await a.api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'after' } });
    const live = await fresh.next('message_created', 15_000);
    t.equal(live.message.id, after.body.id, `events cross instances again (${live.message.content})`);
  });
});
