// Several server processes sharing one PostgreSQL and one bus (a real redis-server, or PostgreSQL
// LISTEN/NOTIFY): concurrent senders and observers on every instance see every message once, in
// REST history's order; presence and revocation cross instances; a killed instance's clients
// recover through invalid_session + history `after` on another one with no gap and no duplicate.
import t, { type Test } from 'tap';
import type { Registered } from '../helpers/build.ts';
import { register } from '../helpers/build.ts';
import { createRoom, historyIds as history, join } from '../helpers/chat.ts';
import { connect, connectReady, type GatewayClient } from '../helpers/gateway-client.ts';
import { pollUntil, startInstances, type Instance } from '../helpers/instances.ts';
import { startRedis } from '../helpers/redis-server.ts';

const presenceEnv = { PRESENCE_HEARTBEAT_MS: '200', PRESENCE_TTL_MS: '1500' };

/** Collects the next `count` message_created ids a client receives. */
async function nextMessages(client: GatewayClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  while (ids.length < count) ids.push((await client.next('message_created', 30_000)).message.id);
  return ids;
}

async function scenario(t: Test, instances: Instance[]) {
  const [first] = instances;
  const api = first!.api;
  const owner = await register(api);
  const room = await createRoom(api, owner);
  const senders: Registered[] = [];
  const observers: Registered[] = [];
  for (let index = 0; index < instances.length; index += 1) {
    senders.push(await register(api));
    observers.push(await register(api));
  }
  for (const user of [...senders, ...observers]) await join(api, room.id, user);
  // Each observer and sender on its own instance.
  const observerClients = await Promise.all(
    observers.map(async (user, index) => (await connectReady(t, instances[index]!.baseUrl, user.token, { name: `observer@${index}` })).client),
  );
  const senderClients = await Promise.all(
    senders.map(async (user, index) => (await connectReady(t, instances[index]!.baseUrl, user.token, { name: `sender@${index}` })).client),
  );
  return { api, owner, room, senders, observers, observerClients, senderClients };
}

for (const bus of ['redis', 'postgres'] as const) {
  t.test(`three instances on the ${bus} bus`, async (t) => {
    const env: Record<string, string> = { ...presenceEnv, EVENT_BUS: bus };
    if (bus === 'redis') env.REDIS_URL = (await startRedis(t)).url;
    const { instances } = await startInstances(t, 3, env);
    const { api, owner, room, senders, observers, observerClients, senderClients } = await scenario(t, instances);

    t.test('concurrent senders on every instance: every observer sees every message once, in history order', async (t) => {
      const PER_SENDER = 10;
      const sends: Promise<unknown>[] = [];
      for (let n = 0; n < PER_SENDER; n += 1) {
        for (const [index, client] of senderClients.entries()) {
          if (n % 3 === 2) {
            // REST on another instance than the sender's socket: hybrid traffic interleaves too.
            const other = instances[(index + 1) % instances.length]!;
            sends.push(other.api('POST', `/api/v1/channels/${room.id}/messages`, { token: senders[index]!.token, body: { content: `s${index}-${n}` } }));
          } else {
            sends.push(client.request({ type: 'send_message', ref: `s${index}-${n}`, channel_id: room.id, content: `s${index}-${n}` }, 30_000));
          }
        }
      }
      await Promise.all(sends);
      const total = PER_SENDER * senders.length;
      const expected = await history(api, room.id, owner.token);
      t.equal(expected.length, total, `history holds all ${total} acknowledged messages`);
      for (const [index, client] of [...observerClients, ...senderClients].entries()) {
        t.same(await nextMessages(client, total), expected, `client ${index} saw history's order`);
      }
      // Nothing twice: the next message each client gets is a fresh marker, not a repeat.
      const marker = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: owner.token, body: { content: 'marker' } });
      for (const client of [...observerClients, ...senderClients]) t.same(await nextMessages(client, 1), [marker.body.id]);
    });

    t.test('presence is global: every instance lists the users connected anywhere', async (t) => {
      const expected = [...observers, ...senders].map((user) => user.user.id).sort();
      for (const [index, instance] of instances.entries()) {
        let listed: string[] = [];
        const agreed = await pollUntil(async () => {
          const page = await instance.api('GET', '/api/v1/users/online?limit=100', { token: owner.token });
          listed = page.body.items.map((item: { user: { id: string } }) => item.user.id);
          return expected.every((id) => listed.includes(id));
        }, 15_000);
        t.ok(agreed, `instance ${index} lists every connected user (${listed.length})`);
      }
    });

    t.test('a logout on one instance closes that session\'s socket on another', async (t) => {
      const victim = observers[2]!;
      t.equal((await instances[0]!.api('POST', '/api/v1/auth/logout', { token: victim.token })).status, 204);
      const closed = await observerClients[2]!.closedWith(15_000);
      t.equal(closed.code, 4004, 'closed with 4004 by instance 2');
      // The session-liveness cache of instance 2 drops it too, once the auth NOTIFY arrives (it
      // may come after the Redis event that closed the socket).
      t.ok(
        await pollUntil(async () => (await instances[2]!.api('GET', '/api/v1/users/@me', { token: victim.token })).status === 401, 10_000),
        'instance 2 refuses the logged-out token',
      );
    });

    t.test('kill -9 of an instance: its client resumes elsewhere, gets invalid_session, and history `after` fills the gap', async (t) => {
      const survivor = observers[1]!;
      // A second socket of observer 1 on instance 2, the one about to die.
      const { client: doomed, hello: doomedHello } = await connectReady(t, instances[2]!.baseUrl, survivor.token, { name: 'doomed' });
      const before = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: owner.token, body: { content: 'before kill' } });
      await doomed.next((frame) => frame.type === 'message_created' && frame.message.id === before.body.id, 15_000);
      const lastSeen: string = before.body.id;
      const helloSeq = doomed.lastSeq;
      // Load on every instance, the doomed one included, while it is killed: a send whose answer
      // never came may or may not be stored; every acknowledged one must be.
      const acked: string[] = [];
      const load = (async () => {
        for (let n = 0; n < 12; n += 1) {
          try {
            const response = await instances[n % 3]!.api('POST', `/api/v1/channels/${room.id}/messages`, { token: owner.token, body: { content: `during ${n}` } });
            if (response.status === 201) acked.push(response.body.id);
          } catch {
            // the killed instance: no answer
          }
        }
      })();
      instances[2]!.server.child.kill('SIGKILL');
      await instances[2]!.server.exited;
      await load;
      t.ok(acked.length >= 8, `the surviving instances acknowledged their sends (${acked.length})`);
      const again = await connect(t, instances[0]!.baseUrl, { name: 'reconnected' });
      const hello = await again.next('hello');
      t.ok(hello.session_id, 'a fresh hello');
      const reply = await again.request({ type: 'resume', ref: 'r', token: survivor.token, session_id: doomedHello.session_id, seq: helloSeq });
      t.equal(reply.type, 'invalid_session', 'the dead instance\'s session is unknown here: recover through history');
      const recovered = await history(instances[0]!.api, room.id, survivor.token, lastSeen);
      t.same(acked.filter((id) => !recovered.includes(id)), [], 'every acknowledged message is in history after the last one seen: no gap');
      t.equal(new Set(recovered).size, recovered.length, 'no duplicate');
      t.same(recovered.filter((id) => !acked.includes(id)).length <= 4, true, 'at most the unanswered sends besides');
    });

    t.test('a killed instance\'s users go offline elsewhere within the presence TTL', async (t) => {
      // Observer 2 was logged out; sender 2 was only on the dead instance.
      const gone = senders[2]!.user.id;
      const offline = await pollUntil(async () => {
        const page = await instances[0]!.api('GET', '/api/v1/users/online?limit=100', { token: owner.token });
        return !page.body.items.some((item: { user: { id: string } }) => item.user.id === gone);
      }, 15_000);
      t.ok(offline, 'sender 2 is offline on instance 0');
    });
  });
}
