// Ill-formed UTF-16 (a lone surrogate such as "\ud800") has no UTF-8 form: the database driver
// silently replaced it with U+FFFD, so two different nonces became one (the second message was
// acknowledged but dropped) and content was stored altered. Refused like U+0000: a 400 / an error
// frame naming the field, and nothing stored.
import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { createRoom } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

const LONE = /lone UTF-16 surrogates/;

t.test('lone surrogates in a body are a 400 naming the field, and nothing is stored', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const messages = `/api/v1/channels/${room.id}/messages`;

  // The collision: "\ud800" and "\udbff" both became U+FFFD, so the second send was a "retry".
  const first = await api('POST', messages, { token: ada.token, body: { content: 'first', nonce: 'n-\ud800' } });
  const second = await api('POST', messages, { token: ada.token, body: { content: 'second', nonce: 'n-\udbff' } });
  for (const [what, response] of [['first nonce', first], ['second nonce', second]] as const) {
    t.equal(response.status, 400, `${what}: 400`);
    t.match(response.body, { code: 'validation_failed', errors: [{ field: '/nonce', message: LONE }] }, `${what}: names /nonce`);
  }

  const refusals = [
    ['content (high surrogate)', 'POST', messages, { content: 'a\ud800b' }, '/content'],
    ['content (low surrogate at the end)', 'POST', messages, { content: 'ab\udc00' }, '/content'],
    ['content (reversed pair)', 'POST', messages, { content: '\ude00\ud83d' }, '/content'],
    ['a key', 'POST', messages, { content: 'fine', ['k\ud800']: 1 }, '/k\ud800'],
    ['display name', 'PATCH', '/api/v1/users/@me', { display_name: 'Ada\udfff' }, '/display_name'],
    ['room name', 'POST', '/api/v1/channels', { type: 'room', name: '\ud800', visibility: 'public' }, '/name'],
  ] as const;
  for (const [what, method, url, body, field] of refusals) {
    const response = await api(method, url, { token: ada.token, body });
    t.equal(response.status, 400, `${what}: 400`);
    t.match(response.body, { code: 'validation_failed', errors: [{ field, message: LONE }] }, `${what}: names ${field}`);
  }
  const register400 = await api('POST', '/api/v1/auth/register', {
    body: { username: 'lone_user', email: 'lone@example.com', password: 'Correct-horse-9\ud800' },
  });
  t.equal(register400.status, 400, 'unauthenticated register: 400');
  t.match(register400.body, { errors: [{ field: '/password', message: LONE }] });

  // Well-formed pairs (emoji) are of course fine, and stored exactly.
  const emoji = await api('POST', messages, { token: ada.token, body: { content: 'hi \ud83d\ude00', nonce: 'n-\ud83d\ude00' } });
  t.equal(emoji.status, 201, 'a surrogate pair is fine');
  t.equal(emoji.body.content, 'hi \ud83d\ude00', 'stored exactly');

  const history = await api('GET', messages, { token: ada.token });
  t.same(
    history.body.items.map((message: { content: string }) => message.content),
    ['hi \ud83d\ude00'],
    'none of the refused messages was stored',
  );
});

t.test('lone surrogates over the gateway are a validation error frame naming the field', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);

  const first = await client.request({ type: 'send_message', ref: 'a', channel_id: room.id, content: 'first', nonce: 'g-\ud800' });
  t.match(first, { type: 'error', ref: 'a', code: 'validation_failed', errors: [{ field: '/nonce', message: LONE }] }, 'nonce');
  const second = await client.request({ type: 'send_message', ref: 'b', channel_id: room.id, content: 'x\udc00' });
  t.match(second, { type: 'error', ref: 'b', code: 'validation_failed', errors: [{ field: '/content', message: LONE }] }, 'content');
  const ack = await client.request({ type: 'send_message', ref: 'ok', channel_id: room.id, content: 'still connected' });
  t.equal(ack.type, 'ack', 'the connection stays usable');

  const history = await api('GET', `/api/v1/channels/${room.id}/messages`, { token: ada.token });
  t.same(
    history.body.items.map((message: { content: string }) => message.content),
    ['still connected'],
    'none of the refused messages was stored',
  );
});
