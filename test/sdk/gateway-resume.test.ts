import t from 'tap';
import type { Message } from '../../clients/typescript/src/index.ts';
import { build, register } from '../helpers/build.ts';
import { expectStatus, generalId } from '../helpers/chat.ts';
import { checkedWebSocket, dropConnections, sdkClient, until } from '../helpers/sdk.ts';

/**
 * @parley/client's gateway against a real server: the connection is dropped from the server side
 * several times while another user sends 500 messages over REST; some drops keep the session
 * (the client resumes), some discard it (the client starts over and reads history). The program
 * must see every message exactly once, in history order.
 */

const TOTAL = 500;
const DROPS = 6;

t.test('drops while 500 messages are sent: each received exactly once, in history order', async (t) => {
  const { app, api, baseUrl } = await build(t);
  const reader = await register(api);
  const sender = await register(api);
  const general = await generalId(api, reader);

  const delays: number[] = [];
  const client = sdkClient(t, baseUrl, reader);
  const gateway = client.gateway({
    webSocket: checkedWebSocket(t),
    backoff: { initialMs: 4, maxMs: 50 },
    // Injected randomness and timers: the delays the client chose are recorded.
    clock: {
      random: () => 0.5,
      setTimeout: (callback, ms) => {
        if (ms < 1000) delays.push(ms);
        return setTimeout(callback, ms);
      },
    },
  });
  const received: Message[] = [];
  let recovered = 0;
  gateway.on('message', ({ message, recovered: fromHistory }) => {
    if (message.channel_id !== general) return;
    received.push(message);
    if (fromHistory) recovered += 1;
  });
  let resumes = 0;
  let fresh = 0;
  gateway.on('connected', ({ resumed }) => (resumed ? (resumes += 1) : (fresh += 1)));
  let invalidSessions = 0;
  gateway.on('invalid_session', () => (invalidSessions += 1));
  t.teardown(() => gateway.close());
  await gateway.connect();

  let sent = 0;
  const sendAll = (async () => {
    // Four senders at a time; the history order is the commit order, whatever it turns out to be.
    const next = async (): Promise<void> => {
      while (sent < TOTAL) {
        const index = sent++;
        await expectStatus(
          api('POST', `/api/v1/channels/${general}/messages`, { token: sender.token, body: { content: `m${index}` } }),
          [201],
          'send',
        );
      }
    };
    await Promise.all([next(), next(), next(), next()]);
  })();

  let drops = 0;
  for (let i = 1; i <= DROPS; i += 1) {
    // Drop when the stream is well under way and the client is connected again.
    await until(() => sent >= (i * TOTAL) / (DROPS + 1) && gateway.state === 'ready', `drop ${i}`);
    drops += dropConnections(app, reader.user.id, { forgetSession: i % 2 === 0 });
  }
  await sendAll;

  // A sentinel after the 500: once it arrives, every earlier message has had its chance to
  // arrive (twice, if the client were to duplicate).
  const sentinel = await expectStatus(
    api('POST', `/api/v1/channels/${general}/messages`, { token: sender.token, body: { content: 'sentinel' } }),
    [201],
    'sentinel',
  );
  await until(() => received.some((m) => m.id === sentinel.id), 'the sentinel', 60_000);

  // The channel's history, oldest first, from after the baseline the client took at connect.
  const history: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await expectStatus(
      api('GET', `/api/v1/channels/${general}/messages?limit=100${before ? `&before=${before}` : ''}`, { token: reader.token }),
      [200],
      'history',
    );
    for (const m of page.items as Message[]) history.unshift(m.id);
    if (!page.has_more) break;
    before = (page.items as Message[]).at(-1)!.id;
  }
  const sentIds = history.slice(-(TOTAL + 1));
  const ids = received.map((m) => m.id);
  const unique = new Set(ids);
  const duplicates = ids.length - unique.size;
  const gaps = sentIds.filter((id) => !unique.has(id)).length;
  t.comment(
    `sent ${TOTAL} (+1 sentinel), received ${ids.length}, duplicates ${duplicates}, gaps ${gaps}; ` +
      `drops ${drops}: resumed ${resumes}, fresh sessions ${fresh - 1} (invalid_session ${invalidSessions}), ` +
      `${recovered} recovered from history; reconnect delays ${delays.join(',')} ms`,
  );
  t.equal(drops, DROPS, 'every drop hit a live connection');
  t.equal(duplicates, 0, 'no message twice');
  t.equal(gaps, 0, 'no message missing');
  t.same(ids, sentIds, 'received in history order');
  t.ok(resumes >= 1, 'some drops were resumed');
  t.equal(invalidSessions, DROPS / 2, 'the discarded sessions were refused');
  t.equal(fresh - 1, DROPS / 2, 'and replaced by fresh sessions');
  t.ok(delays.length >= DROPS && delays.every((ms) => ms >= 2 && ms <= 50), 'reconnects waited a backoff delay');
});
