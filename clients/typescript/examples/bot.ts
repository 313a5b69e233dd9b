/**
 * A Parley bot built only on @parley/client: it reads the `general` room and answers `!ping`
 * with `pong` (as a reply). Run it with Node >= 22.18 (type stripping):
 *
 *   PARLEY_URL=http://localhost:8080 PARLEY_LOGIN=bot PARLEY_PASSWORD='...' node bot.ts
 *
 * It reconnects and resumes on its own; a `!ping` sent while it was disconnected is still
 * answered once (the gateway client recovers missed messages and drops copies).
 */
import { ParleyClient, type Message } from '@parley/client';

const baseUrl = process.env.PARLEY_URL ?? 'http://localhost:8080';
const login = process.env.PARLEY_LOGIN;
const password = process.env.PARLEY_PASSWORD;
if (!login || !password) {
  console.error('set PARLEY_LOGIN and PARLEY_PASSWORD');
  process.exit(2);
}

const client = new ParleyClient({ baseUrl });
const { user: me } = await client.login(login, password);

// The default public room every account joins.
const rooms = await client.unwrap(client.rest.GET('/api/v1/channels', { params: { query: { q: 'general' } } }));
const general = rooms.items.find((room) => room.name === 'general' && room.owner_id === null);
if (!general) throw new Error('no general room on this server');

const gateway = client.gateway();
gateway.on('message', ({ message }: { message: Message }) => {
  if (message.channel_id !== general.id || message.author.id === me.id) return;
  if (message.content.trim() !== '!ping') return;
  // A nonce derived from the question: even a bot restarted mid-answer stores one pong per ping.
  gateway.sendMessage(general.id, 'pong', { replyToId: message.id, nonce: `pong-${message.id}` }).catch((error: unknown) => {
    console.error('could not answer', error);
  });
});
gateway.on('disconnected', ({ code, willReconnect }) => console.log(`disconnected (${code})${willReconnect ? ', reconnecting' : ''}`));
gateway.on('closed', ({ error }) => {
  if (error) console.error(`gateway closed: ${error.message}`);
});

await gateway.connect();
console.log(`ready as ${me.username} in #general (${general.id})`);

const stop = () => {
  gateway.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
