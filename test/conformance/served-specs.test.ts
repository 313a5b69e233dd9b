import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import t from 'tap';
import { clientFrameTypes, serverFrameTypes } from '../../generated/asyncapi-validators.js';
import { operations } from '../../generated/operations.ts';
import { AsyncApiContract } from '../../scripts/conformance/asyncapi-contract.ts';
import { OpenApiContract } from '../../scripts/conformance/openapi-contract.ts';
import { fetchDocument, SpecSet } from '../../scripts/conformance/served-specs.ts';
import { projectRoot } from '../helpers/accounts.ts';

/**
 * The conformance check reads the specs a server publishes. Today's /asyncapi.yaml `$ref`s
 * ./openapi.yaml (resolved against the served URL); a bundled one is self-contained. Both must
 * give the same frame checker. Served here by a plain HTTP server from the repository's files.
 */
const file = (name: string) => readFileSync(path.join(projectRoot, name), 'utf8');
const documents: Record<string, { type: string; body: string }> = {
  '/ref/openapi.json': { type: 'application/json', body: file('generated/openapi.bundled.json') },
  '/ref/openapi.yaml': { type: 'application/yaml', body: file('openapi.yaml') },
  '/ref/asyncapi.yaml': { type: 'application/yaml', body: file('asyncapi.yaml') },
  '/bundled/openapi.json': { type: 'application/json', body: file('generated/openapi.bundled.json') },
  // JSON is YAML: a bundled document served as /asyncapi.yaml parses the same.
  '/bundled/asyncapi.yaml': { type: 'application/yaml', body: file('generated/asyncapi.bundled.json') },
};
const requested: string[] = [];
const server = createServer((req, res) => {
  requested.push(req.url ?? '');
  const document = documents[req.url ?? ''];
  if (!document) {
    res.writeHead(404, { connection: 'close' }).end();
    return;
  }
  // No keep-alive: a loaded machine can let a kept socket hit the server's idle timeout just as
  // the next fetch reuses it (ECONNRESET).
  res.writeHead(200, { 'content-type': document.type, connection: 'close' }).end(document.body);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise((resolve) => server.close(resolve)));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const bundled = JSON.parse(file('generated/asyncapi.bundled.json')) as {
  components: { messages: Record<string, { examples?: Array<{ payload: unknown }> }> };
};
const examples = Object.entries(bundled.components.messages).flatMap(([name, message]) =>
  (message.examples ?? []).map((example) => ({ name, payload: example.payload })),
);

async function load(base: string) {
  const specs = new SpecSet();
  const openApiUrl = `${base}/openapi.json`;
  await specs.add(openApiUrl, (await fetchDocument(openApiUrl)).document);
  const asyncApiUrl = `${base}/asyncapi.yaml`;
  await specs.add(asyncApiUrl, (await fetchDocument(asyncApiUrl)).document);
  return { specs, openApi: new OpenApiContract(specs, openApiUrl), gateway: new AsyncApiContract(specs, asyncApiUrl) };
}

for (const variant of ['ref', 'bundled'] as const) {
  t.test(`an AsyncAPI document served ${variant === 'ref' ? 'with $refs to ./openapi.yaml' : 'self-contained'}`, async (t) => {
    requested.length = 0;
    const { specs, gateway } = await load(`${origin}/${variant}`);
    t.same(
      [...specs.documents.keys()].map((url) => new URL(url).pathname).sort(),
      variant === 'ref' ? ['/ref/asyncapi.yaml', '/ref/openapi.json', '/ref/openapi.yaml'] : ['/bundled/asyncapi.yaml', '/bundled/openapi.json'],
      'external refs are fetched relative to the served URL, and only when there are some',
    );
    t.same([...gateway.serverFrames.keys()].sort(), [...serverFrameTypes].sort(), 'every server frame type');
    t.same([...gateway.clientFrames.keys()].sort(), [...clientFrameTypes].sort(), 'every client frame type');
    t.ok(gateway.serverFrames.get('message_created')?.isEvent && !gateway.serverFrames.get('hello')?.isEvent, 'events are the frames that require seq');
    t.ok(gateway.documentedCloseCodes.has(4001) && gateway.documentedCloseCodes.has(4009), 'close codes from the prose');
    t.same(gateway.addresses, ['/api/v1/ws']);
    const broken = examples.flatMap(({ name, payload }) => {
      const side = gateway.serverFrames.has(name) ? 'server' : 'client';
      const violations = side === 'server' ? gateway.serverFrameViolations(payload) : gateway.clientFrameViolations(payload);
      return violations.length > 0 ? [{ name, violations }] : [];
    });
    t.ok(examples.length >= 27, `${examples.length} examples`);
    t.same(broken, [], 'every example of the document conforms');
    const ready = examples.find((example) => example.name === 'ready')!.payload as { user: Record<string, unknown> };
    t.match(
      gateway.serverFrameViolations({ ...ready, user: { ...ready.user, username: 42 } }),
      [/ready\/user\/username must be string/],
      'a field of a REST schema inside a frame is checked through the ref',
    );
    t.match(gateway.serverFrameViolations({ type: 'no_such_frame' }), [/not a server frame type/]);
    t.match(gateway.clientFrameViolations({ type: 'hello', session_id: 'x' }), [/not a client frame type/], 'sides are kept apart');
  });
}

t.test('the OpenAPI document: operations by id, and response violations', async (t) => {
  const { openApi } = await load(`${origin}/bundled`);
  t.same([...openApi.operations.keys()].sort(), operations.map((operation) => operation.operationId).sort());
  t.same(openApi.operations.get('searchMessages')?.requiredParameters, ['q']);
  t.equal(openApi.operations.get('registerUser')?.isPublic, true);
  t.equal(openApi.operations.get('getMe')?.isPublic, false);
  const json = new Headers({ 'content-type': 'application/json' });
  t.match(openApi.violations('getMe', 418, json, '{}'), [/status 418 is not documented/]);
  t.match(openApi.violations('getMe', 200, new Headers({ 'content-type': 'text/html' }), '<p>'), [/content type text\/html is not documented/]);
  t.match(openApi.violations('getMe', 200, json, 'not json'), [/not valid JSON/]);
  t.match(openApi.violations('getMe', 200, json, '{"id":"1"}'), [/body must have required property/]);
  const rateLimit = { 'x-ratelimit-limit': '30', 'x-ratelimit-remaining': '29', 'x-ratelimit-reset': '60' };
  t.same(openApi.violations('logoutUser', 204, new Headers(rateLimit), ''), []);
  t.same(openApi.violations('logoutUser', 204, new Headers(rateLimit), 'surprise'), ['a 204 documents no body but one was sent (8 bytes)']);
  t.same(
    openApi.violations('logoutUser', 204, new Headers({ ...rateLimit, 'x-ratelimit-limit': 'many' }), ''),
    ['header X-RateLimit-Limit must be integer'],
    'documented headers are checked against their schema',
  );
  t.same(
    openApi.violations('logoutUser', 204, new Headers({ 'x-ratelimit-limit': '30', 'x-ratelimit-reset': '60' }), ''),
    ['the required header X-RateLimit-Remaining is missing'],
  );
  t.match(openApi.violations('noSuchOperation', 200, json, '{}'), [/not in the served OpenAPI document/]);
});
