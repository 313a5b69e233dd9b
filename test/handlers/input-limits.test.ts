// Inputs that used to reach something that could not take them (a recursive walk, a bigint cast,
// Fastify's own error JSON): each is now refused at the door with a documented 4xx problem.
import { connect as netConnect } from 'node:net';
import t from 'tap';
import { MAX_JSON_DEPTH } from '../../src/domain/json-depth.ts';
import { encodeCursor } from '../../src/domain/cursor.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';
import { connect, connectReady } from '../helpers/gateway-client.ts';
import { createGuild } from '../helpers/guilds.ts';

const OVER_MAX = '9223372036854775808'; // 2^63: one past PostgreSQL's bigint
const FAR_OVER = '99999999999999999999';
const MAX = '9223372036854775807';

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

t.test('JSON nested deeper than the limit is a 400 before anything recursive runs', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);

  for (const levels of [MAX_JSON_DEPTH + 1, 5_000, 100_000]) {
    const login = await api('POST', '/api/v1/auth/login', { rawBody: nested(levels), headers: { 'content-type': 'application/json' } });
    t.equal(login.status, 400, `login (unauthenticated), ${levels} levels: 400`);
    t.match(login.body, { code: 'validation_failed', errors: [{ field: '/', message: /32 levels/ }] }, 'names the body and the limit');
    const sent = await api('POST', `/api/v1/channels/${room.id}/messages`, {
      token: ada.token,
      rawBody: `{"content":"x","nonce":${nested(levels)}}`,
      headers: { 'content-type': 'application/json' },
    });
    t.equal(sent.status, 400, `send message, ${levels} levels: 400`);
  }
  const atLimit = await api('POST', `/api/v1/channels/${room.id}/messages`, {
    token: ada.token,
    rawBody: `{"content":"x","extra":${nested(MAX_JSON_DEPTH - 1)}}`,
    headers: { 'content-type': 'application/json' },
  });
  t.equal(atLimit.status, 400, 'at the limit the body is parsed and validated as usual');
  t.match(atLimit.body.errors, [{ field: '/extra', message: 'is not an allowed field' }], 'by the schema');
  const ok = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: ada.token, body: { content: 'still fine' } });
  t.equal(ok.status, 201, 'the server is fine');
});

t.test('ids outside the bigint range are a 400 naming the field, everywhere', async (t) => {
  const { api, app } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const message = await send(api, ada, room.id, 'hello');
  const { guild } = await createGuild(api, ada);
  const token = ada.token;

  const cases = [
    ['GET', `/api/v1/channels/${OVER_MAX}`, undefined, 'path /channel_id'],
    ['GET', `/api/v1/users/${FAR_OVER}`, undefined, 'path /user_id'],
    ['GET', `/api/v1/guilds/${OVER_MAX}`, undefined, 'path /guild_id'],
    ['DELETE', `/api/v1/auth/sessions/${OVER_MAX}`, undefined, 'path /session_id'],
    ['GET', `/api/v1/channels/${room.id}/messages/${OVER_MAX}`, undefined, 'path /message_id'],
    ['PUT', `/api/v1/channels/${room.id}/members/${OVER_MAX}`, undefined, 'path /user_id'],
    ['GET', `/api/v1/channels/${room.id}/messages?before=${OVER_MAX}`, undefined, 'query /before'],
    ['GET', `/api/v1/channels/${room.id}/messages?after=${FAR_OVER}`, undefined, 'query /after'],
    ['GET', `/api/v1/channels/${room.id}/messages?around=${OVER_MAX}`, undefined, 'query /around'],
    ['GET', `/api/v1/messages/search?q=hello&channel_id=${OVER_MAX}`, undefined, 'query /channel_id'],
    ['GET', `/api/v1/messages/search?q=hello&author_id=${OVER_MAX}`, undefined, 'query /author_id'],
    ['GET', `/api/v1/messages/search?q=hello&before=${FAR_OVER}`, undefined, 'query /before'],
    ['POST', `/api/v1/channels/${room.id}/messages`, { content: 'x', reply_to_id: OVER_MAX }, 'body /reply_to_id'],
    ['POST', '/api/v1/channels', { type: 'dm', recipient_id: FAR_OVER }, 'body /recipient_id'],
    ['POST', `/api/v1/channels/${room.id}/read`, { message_id: OVER_MAX }, 'body /message_id'],
    ['GET', `/api/v1/channels/007`, undefined, 'path /channel_id'],
    ['GET', `/api/v1/channels/00`, undefined, 'path /channel_id'],
  ] as const;
  for (const [method, url, body, field] of cases) {
    const response = await api(method, url, { token, ...(body ? { body } : {}) });
    t.equal(response.status, 400, `${method} ${url}: 400`);
    t.equal(response.body.code, 'validation_failed');
    // Each place is named as `in` + a JSON Pointer into that part (openapi.yaml FieldError).
    const fields = (response.body.errors ?? []).map((error: { in: string; field: string }) => `${error.in} ${error.field}`);
    t.ok(fields.includes(field), `names ${field}`, { fields });
  }
  const atMax = await api('GET', `/api/v1/channels/${MAX}`, { token });
  t.equal(atMax.status, 404, 'the largest id is an id: 404 when nothing has it');
  const zero = await api('GET', '/api/v1/channels/0', { token });
  t.equal(zero.status, 404, '0 is in range too: 404');
  const fromStart = await api('GET', `/api/v1/channels/${room.id}/messages?after=0`, { token });
  t.same(fromStart.body.items?.map((item: { id: string }) => item.id), [message.id], 'after=0 pages from the first message');

  // Cursors are opaque, but one can be forged: decoding to an out-of-range id is the caller's 400.
  for (const [url, cursor] of [
    ['/api/v1/users/@me/guilds', encodeCursor({ id: OVER_MAX })],
    [`/api/v1/guilds/${guild.id}/members`, encodeCursor({ id: FAR_OVER })],
    [`/api/v1/channels/${room.id}/members`, encodeCursor({ id: '0012' })],
    ['/api/v1/users/@me/channels', encodeCursor({ a: OVER_MAX, id: message.id })],
  ] as const) {
    const response = await api('GET', `${url}?cursor=${cursor}`, { token });
    t.equal(response.status, 400, `${url} with a forged cursor: 400`);
    t.match(response.body, { code: 'validation_failed', errors: [{ field: 'cursor' }] });
  }

  // A token whose claims name ids out of range (forged with the server's key, or from a future
  // format) is simply not valid: 401, not a failing query.
  for (const claims of [
    { sub: ada.user.id, sid: OVER_MAX },
    { sub: FAR_OVER, sid: '1' },
  ]) {
    const forged = app.jwt.sign({ ...claims, name: 'x', email: 'x@example.com', role: 'client' });
    const response = await api('GET', '/api/v1/users/@me', { token: forged });
    t.equal(response.status, 401, `token ${JSON.stringify(claims)}: 401`);
  }
});

t.test('ids out of range over the gateway: a validation error frame, and 4004 for such a token', async (t) => {
  const { api, app, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);
  const frames = [
    { type: 'send_message', ref: 's', channel_id: OVER_MAX, content: 'x' },
    { type: 'send_message', ref: 'r', channel_id: room.id, content: 'x', reply_to_id: FAR_OVER },
    { type: 'join', ref: 'j', channel_id: FAR_OVER },
    { type: 'typing', ref: 't', channel_id: OVER_MAX },
    { type: 'mark_read', ref: 'm', channel_id: room.id, message_id: OVER_MAX },
  ];
  for (const frame of frames) {
    const reply = await client.request(frame);
    t.match(reply, { type: 'error', ref: frame.ref, code: 'validation_failed' }, `${frame.type} (${frame.ref}): validation_failed`);
  }
  const ack = await client.request({ type: 'send_message', ref: 'ok', channel_id: room.id, content: 'still connected' });
  t.equal(ack.type, 'ack', 'the connection stays usable');

  const forged = app.jwt.sign({ sub: ada.user.id, sid: OVER_MAX, name: 'x', email: 'x@example.com', role: 'client' });
  const upgrade = await connect(t, baseUrl, { token: forged });
  t.equal((await upgrade.closedWith()).code, 4004, 'upgrade token: closes 4004 (authentication failed)');
  const byFrame = await connect(t, baseUrl);
  await byFrame.next('hello');
  byFrame.send({ type: 'authorization', token: forged });
  t.equal((await byFrame.closedWith()).code, 4004, 'authorization frame: closes 4004');
});

t.test('a frame nested deeper than the limit closes 4002 (invalid payload)', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const { client } = await connectReady(t, baseUrl, ada.token);
  client.sendRaw(`{"type":"ping","ref":${nested(5_000)}}`);
  t.equal((await client.closedWith()).code, 4002, '5,000 levels: 4002');

  const { client: second } = await connectReady(t, baseUrl, ada.token);
  second.sendRaw(`{"type":"ping","ref":"at-limit","x":${nested(MAX_JSON_DEPTH - 1)}}`);
  const reply = await second.next((frame) => (frame as { ref?: string }).ref === 'at-limit');
  t.match(reply, { type: 'error', code: 'validation_failed' }, '32 levels (the frame object included): validated as usual');
  second.sendRaw(`{"type":"ping","ref":"over","x":${nested(MAX_JSON_DEPTH)}}`);
  t.equal((await second.closedWith()).code, 4002, '33 levels: 4002');
});

/** Sends raw bytes on a fresh TCP connection and returns everything the server writes back. */
function rawExchange(baseUrl: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = netConnect(Number(port), hostname, () => socket.write(bytes));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(received));
  });
}

function parseRaw(raw: string): { status: number; contentType: string | undefined; body: any } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  const contentType = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim();
  return { status, contentType, body: body ? JSON.parse(body) : undefined };
}

t.test('errors Fastify and Node answer themselves are problem details too', async (t) => {
  const { api, baseUrl } = await build(t);
  const ada = await register(api);
  const token = ada.token;

  const longParam = await api('GET', `/api/v1/channels/${'1'.repeat(150)}`, { token });
  t.equal(longParam.status, 400, 'a path parameter over 100 characters: 400 (was Fastify 414 JSON)');
  t.match(longParam.headers.get('content-type'), /^application\/problem\+json/);
  t.match(longParam.body, { code: 'validation_failed', errors: [{ in: 'path', field: '/' }] });

  const badUrl = await api('GET', '/api/v1/channels/%E0%A4%A', { token });
  t.equal(badUrl.status, 400, 'malformed percent-encoding: 400');
  t.match(badUrl.body, { code: 'validation_failed' });

  const url = '/api/v1/users/@me';
  const json = { 'content-type': 'application/json' };
  const bodies = [
    ['malformed JSON', { rawBody: '{"display_name":', headers: json }, 400, 'validation_failed'],
    ['an empty JSON body', { rawBody: '', headers: json }, 400, 'validation_failed'],
    ['a __proto__ key', { rawBody: '{"__proto__":{"role":"admin"}}', headers: json }, 400, 'validation_failed'],
    ['a constructor.prototype key', { rawBody: '{"constructor":{"prototype":{"role":"admin"}}}', headers: json }, 400, 'validation_failed'],
    ['an unsupported media type', { rawBody: '<a/>', headers: { 'content-type': 'application/xml' } }, 415, 'unsupported_media_type'],
    ['a body over the limit', { rawBody: `{"display_name":"${'x'.repeat(1_100_000)}"}`, headers: json }, 413, 'payload_too_large'],
  ] as const;
  for (const [what, options, status, code] of bodies) {
    const response = await api('PATCH', url, { token, ...options });
    t.equal(response.status, status, `${what}: ${status}`);
    t.match(response.body, { code }, `${what}: ${code}`);
  }
  const bodyOnBodyless = await api('DELETE', `/api/v1/auth/sessions/1`, { token, rawBody: '<a/>', headers: { 'content-type': 'application/xml' } });
  t.equal(bodyOnBodyless.status, 415, 'a body on an operation that takes none is still parsed: 415 (documented)');

  // Below any route: Node's HTTP parser. Answered on the socket, then closed.
  const garbage = parseRaw(await rawExchange(baseUrl, 'GARBAGE\r\n\r\n'));
  t.equal(garbage.status, 400, 'not HTTP: 400');
  t.equal(garbage.contentType, 'application/problem+json');
  t.match(garbage.body, { status: 400, code: 'validation_failed' });

  const mismatch = parseRaw(
    await rawExchange(
      baseUrl,
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
    ),
  );
  t.equal(mismatch.status, 400, 'both Content-Length and Transfer-Encoding: 400');
  t.equal(mismatch.contentType, 'application/problem+json');

  const headers = parseRaw(await rawExchange(baseUrl, `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
  t.equal(headers.status, 431, 'headers over 16 KiB: 431');
  t.equal(headers.contentType, 'application/problem+json');
  t.match(headers.body, { status: 431, code: 'header_fields_too_large', title: 'Request Header Fields Too Large' });

  const ready = await api('GET', '/health/ready');
  t.equal(ready.status, 200, 'still ready');
});
