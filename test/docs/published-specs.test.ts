import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { TypeScriptGenerator } from '@asyncapi/modelina';
import { validate as validateOpenApi } from '@readme/openapi-parser';
import t from 'tap';
import YAML from 'yaml';
import { build } from '../helpers/build.ts';

/** Every `$ref` in a document, wherever it is. */
function refsOf(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsOf(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.push(child);
      else refsOf(child, found);
    }
  }
  return found;
}

t.test('the four published specs are self-contained and parse on their own, saved to a file with nothing beside it', async (t) => {
  const { api } = await build(t);
  const folder = mkdtempSync(path.join(tmpdir(), 'parley-specs-'));
  t.teardown(() => rmSync(folder, { recursive: true, force: true }));

  const documents: Record<string, any> = {};
  for (const file of ['openapi.json', 'openapi.yaml', 'asyncapi.json', 'asyncapi.yaml']) {
    const response = await api('GET', `/${file}`);
    t.equal(response.status, 200, file);
    t.match(response.headers.get('content-type'), file.endsWith('.json') ? /^application\/json/ : /^application\/yaml/, `${file} content type`);
    // Each saved alone in a folder of its own: a relative $ref would have nothing to resolve against.
    mkdirSync(path.join(folder, file));
    writeFileSync(path.join(folder, file, file), response.text);
    documents[file] = file.endsWith('.json') ? JSON.parse(response.text) : YAML.parse(response.text);
    const foreign = refsOf(documents[file]).filter((ref) => !ref.startsWith('#'));
    t.same(foreign, [], `${file} has no $ref outside itself`);
  }
  t.same(documents['openapi.yaml'], documents['openapi.json'], 'openapi.yaml and openapi.json are the same document');
  t.same(documents['asyncapi.yaml'], documents['asyncapi.json'], 'asyncapi.yaml and asyncapi.json are the same document');

  for (const file of ['asyncapi.json', 'asyncapi.yaml']) {
    const saved = path.join(folder, file, file);
    // Parsed from the saved file's location: a relative $ref would be looked for beside it, in an
    // empty folder (without `source` the parser would resolve it against the working directory).
    const { document, diagnostics } = await new Parser().parse(readFileSync(saved, 'utf8'), { source: saved });
    t.same(diagnostics.filter((d) => d.severity === 0).map((d) => d.message), [], `${file}: no parse errors`);
    t.ok(document, `${file} parses`);
    t.ok((document?.allMessages().length ?? 0) > 20, `${file}: every frame is there`);
  }
  for (const file of ['openapi.json', 'openapi.yaml']) {
    // From the saved file, so that a relative $ref would be looked for beside it (in an empty folder).
    const result = await validateOpenApi(path.join(folder, file, file));
    t.ok(result.valid, `${file} validates as OpenAPI 3.1 ${result.valid ? '' : JSON.stringify(result.errors).slice(0, 500)}`);
  }
});

t.test('servers: the listen address by default', async (t) => {
  const { api, baseUrl } = await build(t);
  const port = new URL(baseUrl).port;
  t.same((await api('GET', '/openapi.json')).body.servers, [{ url: `http://127.0.0.1:${port}`, description: 'This server' }]);
  const asyncapi = (await api('GET', '/asyncapi.json')).body;
  t.same(Object.values(asyncapi.servers).map((s: any) => [s.host, s.protocol, s.pathname]), [[`127.0.0.1:${port}`, 'ws', undefined]]);
  t.match(YAML.parse((await api('GET', '/openapi.yaml')).text).servers[0].url, `http://127.0.0.1:${port}`);
});

t.test('servers: PUBLIC_URL, with its scheme and path prefix, in every document and the realtime page', async (t) => {
  const { api } = await build(t, { PUBLIC_URL: 'https://chat.example.com/parley' });
  t.same((await api('GET', '/openapi.json')).body.servers, [{ url: 'https://chat.example.com/parley', description: 'This server' }]);
  t.same(YAML.parse((await api('GET', '/openapi.yaml')).text).servers, [{ url: 'https://chat.example.com/parley', description: 'This server' }]);
  for (const file of ['/asyncapi.json', '/asyncapi.yaml']) {
    const response = await api('GET', file);
    const document = file.endsWith('json') ? response.body : YAML.parse(response.text);
    const servers = Object.values(document.servers) as Array<Record<string, unknown>>;
    t.same(servers.map((s) => [s.host, s.protocol, s.pathname]), [['chat.example.com', 'wss', '/parley']], file);
  }
  const realtime = await api('GET', '/docs/realtime');
  t.match(realtime.text, 'wss://chat.example.com/parley/', 'the gateway reference names the public URL');
  t.notMatch(realtime.text, 'parley-public-url.invalid', 'no placeholder is left');
  const index = await api('GET', '/docs/');
  t.match(index.text, 'wss://chat.example.com/parley/api/v1/ws');
});

t.test('every schema and frame payload has a title, so model generators name them all', async (t) => {
  const { api } = await build(t);
  const openapi = (await api('GET', '/openapi.json')).body;
  const untitled = Object.entries(openapi.components.schemas as Record<string, { title?: string }>)
    .filter(([, schema]) => typeof schema.title !== 'string')
    .map(([name]) => name);
  t.same(untitled, [], 'every schema of openapi components has a title');

  const source = (await api('GET', '/asyncapi.json')).text;
  const asyncapi = JSON.parse(source);
  const untitledPayloads = Object.entries(asyncapi.components.messages as Record<string, { payload: { title?: string } }>)
    .filter(([, message]) => typeof message.payload.title !== 'string')
    .map(([name]) => name);
  t.same(untitledPayloads, [], 'every frame payload has a title');

  // AsyncAPI Modelina, as a consumer runs it on the published document.
  const { document } = await new Parser().parse(source);
  const models = await new TypeScriptGenerator({ modelType: 'interface' }).generate(document as never);
  const names = models.map((model) => model.modelName);
  t.ok(names.length >= Object.keys(asyncapi.components.messages).length, `${names.length} models`);
  t.same(names.filter((name) => /AnonymousSchema/.test(name)), [], 'no model is named AnonymousSchema_N');
  t.ok(names.includes('SendMessageFrame') && names.includes('MessageCreatedFrame') && names.includes('Message'), 'models are named after the titles');
});
