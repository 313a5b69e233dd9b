import t from 'tap';
import { ParleyGatewayError, type Message } from '../../clients/typescript/src/index.ts';
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
