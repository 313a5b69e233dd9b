import t from 'tap';
import { ParleyGatewayError, type Message } from '../../clients/typescript/src/index.ts';
import { decodeJwt, signJwt } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';
import { expectStatus, generalId } from '../helpers/chat.ts';
import { checkedWebSocket, dropConnections, sdkClient, until } from '../helpers/sdk.ts';

/**
 * `sendMessage` whose ack is lost: the server stored the message, the connection dropped before
 * the client read the ack. The client sends the frame again (same nonce) after reconnecting,
 * whether the session is resumed or a fresh one, and the server keeps a single copy.
 */
for (const forgetSession of [false, true]) {
  t.test(`a send whose ack was lost is retried and stored once (${forgetSession ? 'fresh session' : 'resumed'})`, async (t) => {
    const { app, api, baseUrl } = await build(t);
    const user = await register(api);
    const general = await generalId(api, user);
    const client = sdkClient(t, baseUrl, user);
    const sent: Array<{ type: string; [key: string]: unknown }> = [];
    let lost = 0;
    const gateway = client.gateway({
      backoff: { initialMs: 2, maxMs: 20 },
      webSocket: checkedWebSocket(t, {
        sent,
        onFrame: (frame) => {
          // The first ack of a send never reaches the client: the server cuts the connection
          // right after writing it (the message is committed by then).
          if (frame.type === 'ack' && frame.message && lost === 0) {
            lost += 1;
            dropConnections(app, user.user.id, { forgetSession });
            return false;
          }
        },
      }),
    });
    t.teardown(() => gateway.close());
    let reconnected = 0;
    gateway.on('connected', () => (reconnected += 1));
    await gateway.connect();

    const message = await gateway.sendMessage(general, 'hello once');
    t.equal(lost, 1, 'the first ack was lost');
    t.equal(reconnected, 2, 'the client reconnected before the retry was acked');
    const sends = sent.filter((frame) => frame.type === 'send_message');
    t.equal(sends.length, 2, 'the frame was sent twice');
    t.equal(sends[0]!.nonce, sends[1]!.nonce, 'with the same nonce');
    t.equal(message.nonce, sends[0]!.nonce, 'the acked message carries that nonce');

    const page = await expectStatus(api('GET', `/api/v1/channels/${general}/messages?limit=100`, { token: user.token }), [200], 'history');
    const copies = (page.items as Message[]).filter((m) => m.content === 'hello once');
    t.equal(copies.length, 1, 'stored once');
    t.equal(copies[0]!.id, message.id, 'the retry returned the stored message');
  });
}

t.test('a refused send rejects with a typed gateway error; the session stays usable', async (t) => {
  const { api, baseUrl } = await build(t);
  const user = await register(api);
  const general = await generalId(api, user);
  const gateway = sdkClient(t, baseUrl, user).gateway({ webSocket: checkedWebSocket(t) });
  t.teardown(() => gateway.close());
  await gateway.connect();
  const error = await gateway.sendMessage('999999999', 'nobody reads this').catch((e: unknown) => e);
  t.ok(error instanceof ParleyGatewayError, 'a ParleyGatewayError');
  t.equal((error as ParleyGatewayError).code, 'not_found', 'with the error frame code');
  const seen: Message[] = [];
  gateway.on('message', ({ message }) => seen.push(message));
  const stored = await gateway.sendMessage(general, 'after the error', { nonce: 'my-own-nonce' });
  t.equal(stored.nonce, 'my-own-nonce', 'a caller nonce is used as given');
  await until(() => seen.some((m) => m.id === stored.id), 'the message event of the own message');
  t.equal(gateway.state, 'ready');
});

t.test('heartbeat: a ping every heartbeat_interval_ms; a silent server is left and the session resumed', async (t) => {
  const { api, baseUrl } = await build(t, { WS_HEARTBEAT_INTERVAL_MS: 45_000 });
  const user = await register(api);
  const sent: Array<{ type: string; [key: string]: unknown }> = [];
  let pongs = 0;
  // The heartbeat timers are held and fired by the test, and the client's clock is moved by it:
  // nothing here depends on how fast the machine is.
  let now = 1_000_000;
  const beats: Array<{ ms: number; run: () => void }> = [];
  const gateway = sdkClient(t, baseUrl, user).gateway({
    webSocket: checkedWebSocket(t, { sent, onFrame: (frame) => void (frame.type === 'pong' && (pongs += 1)) }),
    backoff: { initialMs: 2, maxMs: 20 },
    clock: {
      now: () => now,
      setTimeout: (callback, ms) => {
        if (ms !== 45_000) return setTimeout(callback, ms);
        beats.push({ ms, run: callback });
        return null;
      },
    },
  });
  t.teardown(() => gateway.close());
  const events: string[] = [];
  gateway.on('disconnected', ({ code }) => events.push(`disconnected ${code}`));
  gateway.on('connected', ({ resumed }) => events.push(resumed ? 'resumed' : 'fresh'));
  await gateway.connect();
  t.equal(beats.length, 1, 'a beat is scheduled at hello.heartbeat_interval_ms');
  for (let i = 1; i <= 3; i += 1) {
    now += 45_000;
    beats.at(-1)!.run();
    await until(() => pongs === i, `pong ${i}`);
  }
  t.equal(sent.filter((frame) => frame.type === 'ping').length, 3, 'one ping per beat, each answered');
  t.same(events, ['fresh'], 'the connection stayed up');

  // Two intervals without any frame from the server: the connection is presumed dead.
  now += 2 * 45_000 + 1;
  beats.at(-1)!.run();
  await until(() => events.includes('resumed'), 'the resume');
  t.same(events, ['fresh', 'disconnected 4009', 'resumed'], 'left the silent connection and resumed the session');
});

t.test('a resume refused for an expired token (4004) refreshes the tokens once and resumes', async (t) => {
  const { app, api, baseUrl, config } = await build(t);
  const user = await register(api);
  const general = await generalId(api, user);
  const client = sdkClient(t, baseUrl, user);
  const gateway = client.gateway({ webSocket: checkedWebSocket(t), backoff: { initialMs: 2, maxMs: 20 } });
  t.teardown(() => gateway.close());
  const events: string[] = [];
  gateway.on('disconnected', ({ code }) => events.push(`disconnected ${code}`));
  gateway.on('connected', ({ resumed }) => events.push(resumed ? 'resumed' : 'fresh'));
  const seen: string[] = [];
  gateway.on('message', ({ message }) => seen.push(message.content));
  await gateway.connect();

  // The stored access token expires while connected; then the connection drops.
  const { payload } = decodeJwt(user.token);
  const past = Math.floor(Date.now() / 1000) - 60;
  await client.tokens.set({ accessToken: signJwt({ ...payload, iat: past - 900, exp: past }, { secret: config.JWT_SECRET! }), refreshToken: user.refreshToken });
  dropConnections(app, user.user.id);
  await until(() => events.includes('resumed'), 'the resume');
  t.equal(client.refreshCount, 1, 'one refresh');
  t.same(events, ['fresh', 'disconnected 1006', 'disconnected 4004', 'resumed'], 'drop, refused resume, refresh, resumed');
  await gateway.sendMessage(general, 'still here');
  await until(() => seen.includes('still here'), 'the message');
  t.equal(gateway.session.sessionId !== null, true);
});

t.test('a send refused as rate_limited is sent again when the window resets', async (t) => {
  let now = Date.now();
  const { api, baseUrl } = await build(t, { RATE_LIMITS: { message_send: { limit: 2, windowMs: 120_000 } } }, { clock: () => now });
  const user = await register(api);
  const general = await generalId(api, user);
  const waits: Array<{ ms: number; run: () => void }> = [];
  const gateway = sdkClient(t, baseUrl, user).gateway({
    webSocket: checkedWebSocket(t, {
      onFrame: (frame) => {
        if (frame.type === 'error') errors.push(String(frame.code));
      },
    }),
    // Waits over a minute (the rate-limit retry; the heartbeat is 30 s) are held for the test to
    // run; others run as usual.
    clock: {
      setTimeout: (callback, ms) => {
        if (ms <= 60_000) return setTimeout(callback, ms);
        waits.push({ ms, run: callback });
        return null;
      },
    },
  });
  const errors: string[] = [];
  t.teardown(() => gateway.close());
  await gateway.connect();
  const first = await Promise.all([gateway.sendMessage(general, 'one'), gateway.sendMessage(general, 'two')]);
  let third: Message | undefined;
  void gateway.sendMessage(general, 'three').then((m) => (third = m));
  await until(() => waits.length === 1, 'the retry to be scheduled');
  t.same(errors, ['rate_limited'], 'the third send was refused');
  t.ok(waits[0]!.ms > 110_000 && waits[0]!.ms <= 120_000, 'the retry waits for the window reset (retry_after_ms)');
  t.equal(third, undefined, 'and is still pending');
  now += 120_000;
  waits[0]!.run();
  await until(() => third !== undefined, 'the retried send');
  t.equal(third!.content, 'three');
  const page = await expectStatus(api('GET', `/api/v1/channels/${general}/messages?limit=10`, { token: user.token }), [200], 'history');
  t.same((page.items as Message[]).map((m) => m.content).reverse(), ['one', 'two', 'three'], 'each stored once');
  t.equal(first.length, 2);
});
