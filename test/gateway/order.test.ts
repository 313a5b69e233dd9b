// Order: several clients send at once (over the socket and REST); several observers each see the
// channel's events in the same order, and that order is REST history's.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { createRoom, historyIds, join } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

t.test('concurrent senders: every observer sees one order, equal to REST history', async (t) => {
  const { api, baseUrl } = await build(t, { DATABASE_POOL_SIZE: 8 });
  const owner = await register(api);
  const room = await createRoom(api, owner);
  const senders = await Promise.all([register(api), register(api), register(api), register(api)]);
  const observers = await Promise.all([register(api), register(api), register(api)]);
  for (const user of [...senders, ...observers]) await join(api, room.id, user);

  const observerClients = [];
  for (const [index, observer] of observers.entries()) {
    observerClients.push((await connectReady(t, baseUrl, observer.token, { name: `observer${index}` })).client);
  }
  // Two observers on one account: sessions of the same user agree too.
  observerClients.push((await connectReady(t, baseUrl, observers[0]!.token, { name: 'observer0-second' })).client);
  const senderClients = [];
  for (const [index, sender] of senders.entries()) {
    senderClients.push((await connectReady(t, baseUrl, sender.token, { name: `sender${index}` })).client);
  }

  const PER_SENDER = 15;
  const sends: Promise<unknown>[] = [];
  for (const [index, client] of senderClients.entries()) {
    for (let n = 0; n < PER_SENDER; n += 1) {
      if (index === 3 && n % 2 === 1) {
        // One sender alternates with REST: hybrid traffic interleaves too.
        sends.push(api('POST', `/api/v1/channels/${room.id}/messages`, { token: senders[3]!.token, body: { content: `s${index}-${n}` } }));
      } else {
        sends.push(client.request({ type: 'send_message', ref: `s${index}-${n}`, channel_id: room.id, content: `s${index}-${n}` }, 15_000));
      }
    }
  }
  await Promise.all(sends);
  const total = senders.length * PER_SENDER;

  const ordersSeen: string[][] = [];
  for (const client of [...observerClients, ...senderClients]) {
    const created: string[] = [];
    while (created.length < total) {
      const frame = await client.next('message_created', 15_000);
      created.push(frame.message.id);
    }
    ordersSeen.push(created);
  }
  const history = await historyIds(api, room.id, owner.token);
  t.equal(history.length, total, `REST history holds all ${total} messages`);
  for (const [index, order] of ordersSeen.entries()) t.same(order, history, `client ${index} saw REST history's order`);
  // A connection's frames run one after another: each socket sender's messages keep their sending order.
  const contentById = new Map(
    observerClients[0]!.events('message_created').map((frame) => {
      const { message } = frame as unknown as { message: { id: string; content: string } };
      return [message.id, message.content];
    }),
  );
  const contents = history.map((id) => contentById.get(id)!);
  for (let index = 0; index < 3; index += 1) {
    const own = contents.filter((content) => content.startsWith(`s${index}-`));
    t.same(own, Array.from({ length: PER_SENDER }, (_, n) => `s${index}-${n}`), `sender ${index}'s messages in sending order`);
  }
});
