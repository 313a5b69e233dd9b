// Property-based fuzzing of the whole contract: random and adversarial bodies, query strings,
// path ids and gateway frames at every operation of openapi.yaml, as nobody, as a user and as an
// admin (and with forged tokens). Whatever comes in: never a 5xx, always a status documented for
// the operation, errors as problem details (test/helpers/contract.ts), gateway frames valid per
// asyncapi.yaml and never `internal_error` / close 4000, and the server stays healthy.
//
// Seeded and bounded: FUZZ_SEED (default below) makes a run reproducible, FUZZ_RUNS runs per
// operation, FUZZ_OPERATION_MS caps the time per operation. A failure prints the seed, and
// fast-check's counterexample (shrunk) and replay path.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import t from 'tap';
import { clientFrameTypes } from '../../generated/asyncapi-validators.js';
import { adminOverrides, loginAdmin } from '../helpers/accounts.ts';
import { build, register, type Registered } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';
import { contractViolations } from '../helpers/contract.ts';
import { connect, connectReady, type GatewayClient } from '../helpers/gateway-client.ts';
import { createGuild, createRole } from '../helpers/guilds.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
const OPERATION_MS = Number(process.env.FUZZ_OPERATION_MS ?? 1_500);
const FRAME_RUNS = Number(process.env.FUZZ_FRAME_RUNS ?? 150);

interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  items?: Schema;
}
interface Parameter {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header';
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
const spec = JSON.parse(readFileSync(new URL('../../generated/openapi.bundled.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, Parameter>; schemas: Record<string, Schema> };
};

function resolve<T extends { $ref?: string }>(value: T): T {
  let current = value;
  for (let hops = 0; current.$ref && hops < 10; hops += 1) {
    const [, section, name] = current.$ref.split('/').slice(1);
    current = (spec.components as unknown as Record<string, Record<string, T>>)[section!]![name!]!;
  }
  return current;
}

/** Every property name a body schema mentions (through $ref, oneOf, anyOf, allOf), a few levels down. */
function propertyNames(schema: Schema, depth = 0, names = new Set<string>()): Set<string> {
  if (depth > 4) return names;
  const resolved = resolve(schema);
  for (const [name, child] of Object.entries(resolved.properties ?? {})) {
    names.add(name);
    propertyNames(child, depth + 1, names);
  }
  for (const branch of [...(resolved.oneOf ?? []), ...(resolved.anyOf ?? []), ...(resolved.allOf ?? [])]) {
    propertyNames(branch, depth + 1, names);
  }
  return names;
}

const operations = Object.entries(spec.paths).flatMap(([template, item]) =>
  Object.entries(item)
    .filter(([, operation]) => typeof operation === 'object' && operation.operationId)
    .map(([method, operation]) => {
      // Path-item parameters (shared by the item's operations) and the operation's own.
      const shared = (item as unknown as { parameters?: Parameter[] }).parameters ?? [];
      const parameters = [...shared, ...(operation.parameters ?? [])].map((parameter) => resolve(parameter));
      const body = operation.requestBody?.content['application/json']?.schema;
      return {
        method: method.toUpperCase(),
        template,
        operationId: operation.operationId,
        pathNames: parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name),
        queryNames: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => parameter.name),
        bodyNames: body ? [...propertyNames(body)] : [],
      };
    }),
);

// ───────────────────────────── arbitraries

const BIGINT_MAX = 9223372036854775807n;
/** Any UTF-16 code unit, lone surrogates included. */
const codeUnitString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 40 });
const outOfRangeId = fc.bigInt({ min: BIGINT_MAX + 1n, max: 10n ** 20n - 1n }).map(String);

const adversarialString = fc.oneof(
  fc.constantFrom(
    '9223372036854775808',
    '99999999999999999999',
    '9223372036854775807',
    '0',
    '-1',
    '007',
    '1e3',
    '',
    ' ',
    '\ud800',
    'a\udc00b',
    '\udbff\ud800',
    'a\u0000b',
    '\u202eevil',
    '__proto__',
    'constructor',
    'x'.repeat(5000),
    '\ud83d\ude00',
  ),
  outOfRangeId,
  fc.string({ maxLength: 30 }),
  codeUnitString,
);

const adversarialValue: fc.Arbitrary<unknown> = fc.oneof(
  adversarialString,
  fc.constantFrom(0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, true, false, null, [], {}, ['1'], { a: 1 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 3 }),
);

const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);

/** Nesting depths: around the limit, and far beyond it (fast-check would otherwise favour small ones). */
const deepNesting = (max: number) =>
  fc.oneof(fc.constantFrom(32, 33, 5_000, max), fc.noBias(fc.integer({ min: 30, max })));

interface BodyCase {
  contentType?: string;
  text?: string;
}

function bodyArbitrary(names: string[]): fc.Arbitrary<BodyCase> {
  const key = names.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, fc.string({ maxLength: 12 }), codeUnitString) : fc.string({ maxLength: 12 });
  const json = (value: unknown): BodyCase => ({ contentType: 'application/json', text: JSON.stringify(value) });
  return fc.oneof(
    { weight: 6, arbitrary: fc.dictionary(key, adversarialValue, { maxKeys: 6 }).map(json) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json) },
    {
      weight: 2,
      arbitrary: fc
        .record({ depth: deepNesting(100_000), kind: fc.constantFrom('array', 'object', 'field') })
        .map(({ depth, kind }) => ({
          contentType: 'application/json',
          text:
            kind === 'array'
              ? nested(depth, '[', ']')
              : kind === 'object'
                ? nested(depth, '{"a":', '}')
                : `{"${names[0] ?? 'content'}":${nested(depth, '[', ']')}}`,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{"__proto__":{"role":"admin"}}',
          '{"constructor":{"prototype":{"role":"admin"}}}',
          '{"a":1,"a":2}',
          `{"${names[0] ?? 'content'}":1${'0'.repeat(400)}}`,
          `{"${names[0] ?? 'content'}":-1e99999}`,
          `{"${names[0] ?? 'content'}":"\\ud800"}`,
          '{"x":"\\u0000"}',
          '{',
          'null',
          '[]',
          '"text"',
          '',
          ' ',
        )
        .map((text) => ({ contentType: 'application/json', text })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => ({ contentType: 'application/json', text })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<BodyCase>(
        {},
        { contentType: 'text/plain', text: 'hello' },
        { contentType: 'application/x-www-form-urlencoded', text: 'a=b' },
        { contentType: 'application/xml', text: '<a/>' },
        { contentType: 'multipart/form-data; boundary=x', text: '--x--' },
        { contentType: 'application/json; charset=utf-16', text: '{}' },
        { contentType: 'application/problem+json', text: '{}' },
        { text: '{"content":"no content type"}' },
      ),
    },
  );
}

/** A path segment, already percent-encoded as it goes on the wire. */
function pathSegment(real: string | undefined): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: real ? 4 : 0, arbitrary: fc.constant(real ?? '1') },
    { weight: 2, arbitrary: outOfRangeId },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '9223372036854775808',
        '99999999999999999999',
        '9223372036854775807',
        '0',
        '-1',
        '00000000000000000001',
        '1e3',
        '%2F',
        '1%2F2',
        '..%2F..',
        '%00',
        '1%00',
        '%ED%A0%80',
        '%E0%A4%A',
        '%zz',
        '%F0%9F%98%80',
        '@me',
        '%20',
        'a'.repeat(101),
        '1'.repeat(400),
      ),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.integer({ min: 90, max: 300 }).map((length) => '9'.repeat(length)) },
  );
}

const queryValue = fc.oneof(
  fc.constantFrom('9223372036854775808', '99999999999999999999', '0', '-1', '101', '1e3', 'true', '', '%ED%A0%80', '%00', '%zz', 'x'.repeat(3000)),
  outOfRangeId,
  adversarialString.map((value) => encodeURIComponent(value.isWellFormed() ? value : value.toWellFormed())),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);

function queryArbitrary(names: string[]): fc.Arbitrary<string> {
  const pair = fc.tuple(names.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, fc.constantFrom('unknown', '__proto__', 'cursor', 'a[b]')) : fc.constantFrom('unknown', 'limit', '__proto__'), queryValue);
  return fc.array(pair, { maxLength: 4 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([name, value]) => `${name}=${value}`).join('&')}`));
}

/** fast-check's report (seed, replay path, shrunk counterexample) with the property's own error. */
function failureReport(error: Error): string {
  const cause = error.cause instanceof Error ? `\n${error.cause.message}` : '';
  return `FUZZ_SEED=${SEED}: ${error.message.slice(0, 1_500)}${cause.slice(0, 1_500)}`;
}

type Identity = 'none' | 'user' | 'admin' | 'garbage' | 'forged';

interface RequestCase {
  identity: Identity;
  segments: string[];
  query: string;
  body: BodyCase;
}

// ───────────────────────────── the test

t.test('fuzzing every operation and the gateway never gives a 5xx or an undocumented answer', async (t) => {
  const { app, api, baseUrl } = await build(t, {
    ...adminOverrides,
    // The fuzz sends far more frames than a client would; the limiter is tested elsewhere.
    WS_RATE_LIMIT_FRAMES: 1_000_000,
  });
  const admin = await loginAdmin(api);
  const forged = app.jwt.sign({ sub: '9223372036854775808', sid: '99999999999999999999', name: 'x', email: 'x@example.com', role: 'admin' });
  t.comment(`fuzz seed ${SEED} (FUZZ_SEED), ${RUNS} runs per operation (FUZZ_RUNS), ${operations.length} operations`);

  /** A fresh user with a room, a message, a guild, a role and an invite: the real ids for paths. */
  async function fixtures() {
    const user = await register(api);
    const room = await createRoom(api, user);
    const message = await send(api, user, room.id, 'fuzz target');
    const setup = await createGuild(api, user);
    const roleId = await createRole(api, setup.guild.id, user, 'fuzzer', '1');
    const invite = await api('POST', `/api/v1/guilds/${setup.guild.id}/invites`, { token: user.token, body: {} });
    const sessions = await api('GET', '/api/v1/auth/sessions', { token: user.token });
    const ids: Record<string, string> = {
      channel_id: room.id,
      message_id: message.id,
      guild_id: setup.guild.id,
      role_id: roleId,
      user_id: user.user.id,
      session_id: sessions.body.items?.[0]?.id,
      code: invite.body.code,
      provider: 'github',
    };
    return { user, ids };
  }

  let failures = 0;
  let current = await fixtures();
  let spent = false;
  for (const operation of operations) {
    // Reads and creations leave them usable; a deletion, a logout, a ban or a deactivation may not.
    if (spent) current = await fixtures();
    spent = !['GET', 'POST'].includes(operation.method) || operation.template.startsWith('/api/v1/auth/');
    const { user, ids } = current;
    const tokens: Record<Identity, string | undefined> = {
      none: undefined,
      user: user.token,
      // An admin that logs itself out or deletes itself would only cost the rest of the run its coverage.
      admin: operation.template.startsWith('/api/v1/auth/') || operation.template === '/api/v1/users/@me' ? user.token : admin.token,
      garbage: 'not.a.jwt',
      forged,
    };
    const requestCase = fc.record({
      identity: fc.constantFrom<Identity>('none', 'user', 'user', 'user', 'admin', 'garbage', 'forged'),
      segments: fc.tuple(...operation.pathNames.map((name) => pathSegment(ids[name])) as [fc.Arbitrary<string>]),
      query: queryArbitrary(operation.queryNames),
      body: bodyArbitrary(operation.bodyNames),
    });
    // The known attacks first, every time, whatever the seed and the time cap; then random ones.
    const realSegments = operation.pathNames.map((name) => ids[name] ?? '1');
    const everyField = (value: unknown) => JSON.stringify(Object.fromEntries(operation.bodyNames.map((name) => [name, value])));
    const everyQuery = (value: string) =>
      operation.queryNames.length > 0 ? `?${operation.queryNames.map((name) => `${name}=${value}`).join('&')}` : '';
    const json = (text: string): BodyCase => ({ contentType: 'application/json', text });
    const examples: RequestCase[] = [
      { identity: 'user', segments: realSegments, query: '', body: json(nested(100_000, '[', ']')) },
      { identity: 'none', segments: realSegments, query: '', body: json(nested(5_000, '{"a":', '}')) },
      {
        identity: 'user',
        segments: realSegments.map(() => '9223372036854775808'),
        query: everyQuery('99999999999999999999'),
        body: json(everyField('9223372036854775808')),
      },
      { identity: 'user', segments: realSegments, query: everyQuery('%ED%A0%80'), body: json(everyField('\ud800')) },
      { identity: 'admin', segments: realSegments.map(() => 'a'.repeat(101)), query: '', body: json('{"__proto__":{"role":"admin"}}') },
      { identity: 'forged', segments: realSegments, query: '', body: json('{}') },
    ];
    const failure = await fc
      .assert(
        fc.asyncProperty(requestCase, async ({ identity, segments, query, body }) => {
          let index = 0;
          const path = operation.template.replace(/\{[^}]+\}/g, () => segments[index++] ?? '1');
          const headers: Record<string, string> = {};
          const token = tokens[identity];
          if (token) headers.authorization = `Bearer ${token}`;
          if (body.contentType) headers['content-type'] = body.contentType;
          const response = await fetch(`${baseUrl}${path}${query}`, {
            method: operation.method,
            headers,
            ...(body.text !== undefined && operation.method !== 'GET' ? { body: body.text } : {}),
          });
          const text = await response.text();
          const contentType = response.headers.get('content-type') ?? undefined;
          const parsed = contentType?.includes('json') && text !== '' ? JSON.parse(text) : text === '' ? undefined : text;
          const violations = contractViolations(operation.method, path, response.status, contentType, parsed);
          if (response.status >= 500 || violations.length > 0) {
            throw new Error(`${operation.method} ${path}${query} -> ${response.status}: ${violations.join('; ') || text.slice(0, 300)}`);
          }
        }),
        { seed: SEED, numRuns: RUNS, examples: examples.map((example) => [example]), interruptAfterTimeLimit: OPERATION_MS, markInterruptAsFailure: false },
      )
      .then(
        () => null,
        (error: Error) => failureReport(error),
      );
    t.equal(failure, null, `${operation.operationId}: no 5xx, every answer documented`);
    if (failure !== null) failures += 1;
  }
  t.equal(failures, 0, 'no operation failed');

  await t.test('gateway frames', async (t) => {
    const { user, ids } = await fixtures();
    const fieldNames = ['channel_id', 'content', 'nonce', 'reply_to_id', 'message_id', 'status', 'token', 'session_id', 'seq', 'ref'];
    const realValue = fc.constantFrom(ids.channel_id, ids.message_id, user.token, 'online', 'idle', 'dnd', 'offline', 'hello');
    const frameCase = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .record({
            type: fc.oneof(fc.constantFrom(...clientFrameTypes), fc.string({ maxLength: 10 })),
            fields: fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), codeUnitString), fc.oneof(realValue, adversarialValue), { maxKeys: 5 }),
          })
          .map(({ type, fields }) => JSON.stringify({ ...fields, type })),
      },
      { weight: 1, arbitrary: deepNesting(7_000).map((depth) => `{"type":"ping","ref":${nested(depth, '[', ']')}}`) },
      { weight: 1, arbitrary: deepNesting(7_000).map((depth) => nested(depth, '[', ']')) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '{"type":"__proto__"}',
          '{"__proto__":{"type":"ping"},"type":"ping"}',
          '{"type":"constructor"}',
          `{"type":"send_message","channel_id":"${ids.channel_id}","content":"\\ud800"}`,
          `{"type":"send_message","channel_id":"99999999999999999999","content":"x"}`,
          `{"type":"mark_read","channel_id":"${ids.channel_id}","message_id":"9223372036854775808"}`,
          `{"type":"resume","token":"x","session_id":"99999999999999999999","seq":1e308}`,
          '{"type":"ping","ref":"\\ud800"}',
          'not json',
          '',
          'null',
          '[]',
        ),
      },
      { weight: 1, arbitrary: codeUnitString.filter((text) => text.isWellFormed()) },
    );

    // Documented closes for bad input: unknown type, invalid payload, not authenticated,
    // authentication failed, already authenticated, invalid seq. Never 4000 (unknown error) or 1011.
    const ALLOWED_CLOSES = [4001, 4002, 4003, 4004, 4005, 4007];
    const clients: GatewayClient[] = [];
    let client: GatewayClient | null = null;
    let barriers = 0;
    /** The connection for the next frame: authenticated, or (one time in five) not. */
    async function open(authenticated: boolean): Promise<GatewayClient> {
      if (authenticated) return (await connectReady(t, baseUrl, user.token, { name: 'fuzzer' })).client;
      const fresh = await connect(t, baseUrl, { name: 'anonymous fuzzer' });
      await fresh.next('hello');
      return fresh;
    }
    const frames = fc.tuple(frameCase, fc.boolean(), fc.integer({ min: 0, max: 4 }));
    const failure = await fc
      .assert(
        fc.asyncProperty(frames, async ([text, fresh, coin]) => {
          if (!client || client.closeInfo || fresh) {
            client?.socket.terminate();
            client = await open(coin !== 0);
            clients.push(client);
          }
          const current: GatewayClient = client;
          const wasReady = current.frames.some((frame) => frame.type === 'ready');
          current.sendRaw(text);
          barriers += 1;
          const ref = `barrier-${barriers}`;
          // A round trip behind the frame: once authenticated, frames that touch the database run
          // in order on one queue, so the ack of a `presence_update` sent after it means it has
          // been handled; before, `ping` (answered at once; an `authorization` it may have queued
          // is checked at the end).
          try {
            await current.request(wasReady ? { type: 'presence_update', status: 'online', ref } : { type: 'ping', ref }, 10_000);
          } catch {
            // closed: checked below
          }
          const internal = current.frames.find((frame) => frame.type === 'error' && frame.code === 'internal_error');
          if (internal) throw new Error(`internal_error frame after ${text.slice(0, 200)}`);
          const code = current.closeInfo?.code;
          if (code !== undefined && !ALLOWED_CLOSES.includes(code)) {
            throw new Error(`closed ${code} (${current.closeInfo?.reason}) after ${text.slice(0, 200)}`);
          }
          if (code === undefined && !current.frames.some((frame) => (frame as { ref?: string }).ref === ref)) {
            throw new Error(`no reply to the barrier after ${text.slice(0, 200)}`);
          }
        }),
        { seed: SEED, numRuns: FRAME_RUNS, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false },
      )
      .then(
        () => null,
        (error: Error) => failureReport(error),
      );
    t.equal(failure, null, 'no internal_error frame, no close 4000 or 1011, every frame valid per asyncapi.yaml');
    // Late answers too (a queued `authorization` behind a ping): checked on every connection.
    const late = clients.flatMap((each) => each.frames.filter((frame) => frame.type === 'error' && frame.code === 'internal_error'));
    t.same(late, [], 'no internal_error frame on any connection');
    const badCloses = clients.map((each) => each.closeInfo?.code).filter((code) => code !== undefined && !ALLOWED_CLOSES.includes(code) && code !== 1006);
    t.same(badCloses, [], 'no connection closed with an undocumented or error code');
    for (const each of clients) each.socket.terminate();

    // Forged and out-of-range tokens on the upgrade close 4004 (authentication failed).
    const rejected = await connect(t, baseUrl, { token: forged });
    t.equal((await rejected.closedWith()).code, 4004, 'a token whose ids are out of range closes 4004');
  });

  // Still healthy: readiness and an ordinary request.
  const ready = await api('GET', '/health/ready');
  t.equal(ready.status, 200, 'ready after the fuzz');
  const someone: Registered = await register(api);
  const room = await createRoom(api, someone);
  const sent = await api('POST', `/api/v1/channels/${room.id}/messages`, { token: someone.token, body: { content: 'still here' } });
  t.equal(sent.status, 201, 'an ordinary send works after the fuzz');
});
