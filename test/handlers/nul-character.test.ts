// U+0000 cannot be stored in PostgreSQL text: every way in answers 400 / a validation error
// naming the field, and nothing is written.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { createRoom } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

t.test('a NUL character in a body, query or frame is a 400 naming the field, and nothing is stored', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const messages = `/api/v1/channels/${room.id}/messages`;

  const refusals = [
    ['send a message', await api('POST', messages, { token: ada.token, body: { content: 'a\u0000b' } }), 'body', '/content'],
    ['a nonce', await api('POST', messages, { token: ada.token, body: { content: 'fine', nonce: '\u0000' } }), 'body', '/nonce'],
    ['update @me', await api('PATCH', '/api/v1/users/@me', { token: ada.token, body: { display_name: 'Ada\u0000' } }), 'body', '/display_name'],
    ['create a room', await api('POST', '/api/v1/channels', { token: ada.token, body: { type: 'room', name: 'x\u0000', visibility: 'public' } }), 'body', '/name'],
    ['search', await api('GET', '/api/v1/messages/search?q=a%00b', { token: ada.token }), 'query', '/q'],
    ['register', await api('POST', '/api/v1/auth/register', { body: { username: 'nul_user', email: 'nul@example.com', password: 'Correct-horse-9\u0000' } }), 'body', '/password'],
  ] as const;
  for (const [what, response, location, field] of refusals) {
    t.equal(response.status, 400, `${what}: 400`);
    t.match(response.body, { code: 'validation_failed', errors: [{ in: location, field, message: /NUL/ }] }, `${what}: names ${location} ${field}`);
  }

  const { client } = await connectReady(t, baseUrl, ada.token);
  const refused = await client.request({ type: 'send_message', ref: 'nul', channel_id: room.id, content: 'a\u0000b' });
  t.match(refused, { type: 'error', ref: 'nul', code: 'validation_failed', errors: [{ field: '/content' }] }, 'over the gateway too');
  const ack = await client.request({ type: 'send_message', ref: 'ok', channel_id: room.id, content: 'still connected' });
  t.equal(ack.type, 'ack', 'the connection stays usable');

  const history = await api('GET', messages, { token: ada.token });
  t.same(
    history.body.items.map((message: { content: string }) => message.content),
    ['still connected'],
    'none of the refused messages was stored',
  );
});
