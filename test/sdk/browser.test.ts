import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { findBinary } from '../../scripts/system-deps.ts';
import { build, newAccount } from '../helpers/build.ts';

/**
 * @parley/client runs unchanged in a browser: headless Chromium loads the built package (dist/,
 * with openapi-fetch, through an import map) from a page on another origin, registers, connects
 * the gateway, sends a message and receives it back, using only the browser's fetch and WebSocket.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sdk = path.join(root, 'clients/typescript');

function run(command: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const page = (apiBase: string, account: { username: string; email: string; password: string }) => `<!doctype html>
<html><head><meta charset="utf-8"><title>sdk</title>
<script>
// A module that fails to load or throws reports at once instead of leaving the test waiting.
addEventListener('error', (event) => fetch('/result', { method: 'POST', body: JSON.stringify({ error: String(event.message || event.target?.src || 'load error') }) }), true);
</script>
<script type="importmap">{"imports":{"@parley/client":"/sdk/index.js","openapi-fetch":"/openapi-fetch.mjs"}}</script>
<script type="module">
import { ParleyClient, ParleyApiError } from '@parley/client';
// The result goes back to the page's own server (the test waits for it there).
const out = (value) => fetch('/result', { method: 'POST', body: JSON.stringify(value) });
try {
  const client = new ParleyClient({ baseUrl: ${JSON.stringify(apiBase)} });
  const issued = await client.register(${JSON.stringify(account)});
  const rooms = await client.unwrap(client.rest.GET('/api/v1/channels', { params: { query: { q: 'general' } } }));
  const general = rooms.items.find((room) => room.name === 'general');
  const problem = await client.unwrap(client.rest.GET('/api/v1/channels/{channel_id}', { params: { path: { channel_id: '1' } } })).catch((e) => e);
  const gateway = client.gateway();
  const received = new Promise((resolve) => gateway.on('message', ({ message }) => { if (message.content === 'from the browser') resolve(message); }));
  await gateway.connect();
  const stored = await gateway.sendMessage(general.id, 'from the browser');
  const echoed = await received;
  gateway.close();
  out({ user: issued.user.username, problem: problem instanceof ParleyApiError ? problem.code : String(problem), stored: stored.id, echoed: echoed.id, nonce: typeof stored.nonce });
} catch (error) {
  out({ error: String(error && error.stack || error) });
}
</script></head><body></body></html>`;

t.test('the built package works in headless Chromium (fetch + WebSocket of the browser)', async (t) => {
  const chromium = findBinary('chromium');
  if (!chromium) throw new Error('chromium is required (apt-get install chromium; see scripts/system-deps.ts)');
  // Its own output folder: the package test's `npm pack` rebuilds dist/ at the same time.
  const dist = mkdtempSync(path.join(tmpdir(), 'parley-sdk-dist-'));
  t.teardown(() => rmSync(dist, { recursive: true, force: true }));
  const built = await run(process.execPath, [path.join(sdk, 'scripts/build.mjs'), dist]);
  t.equal(built.code, 0, 'the package builds', { output: built.output });

  const files: Record<string, string> = {};
  let reportResult: (value: Record<string, unknown>) => void = () => {};
  const reported = new Promise<Record<string, unknown>>((resolve) => (reportResult = resolve));
  const statics = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    if (request.method === 'POST' && url.pathname === '/result') {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        response.writeHead(204).end();
        reportResult(JSON.parse(text) as Record<string, unknown>);
      });
      return;
    }
    let body: string | undefined = files[url.pathname];
    if (body === undefined && url.pathname.startsWith('/sdk/') && !url.pathname.includes('..')) {
      try {
        body = readFileSync(path.join(dist, url.pathname.slice('/sdk/'.length)), 'utf8');
      } catch {
        body = undefined;
      }
    }
    if (body === undefined) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': url.pathname.endsWith('.html') ? 'text/html' : 'text/javascript' }).end(body);
  });
  await new Promise<void>((resolve) => statics.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => statics.close(() => resolve())));
  const pageOrigin = `http://127.0.0.1:${(statics.address() as AddressInfo).port}`;

  const { baseUrl } = await build(t, { CORS_ORIGINS: [pageOrigin] });
  const account = newAccount('browser');
  files['/index.html'] = page(baseUrl, account);
  files['/openapi-fetch.mjs'] = readFileSync(path.join(root, 'node_modules/openapi-fetch/dist/index.mjs'), 'utf8');

  const profile = mkdtempSync(path.join(tmpdir(), 'parley-sdk-chromium-'));
  t.teardown(() => rmSync(profile, { recursive: true, force: true }));
  const browser = spawn(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-extensions',
      `--user-data-dir=${profile}`,
      `${pageOrigin}/index.html`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  browser.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  browser.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => browser.on('close', resolve));
  t.teardown(async () => {
    if (browser.exitCode === null) browser.kill('SIGTERM');
    await exited;
  });
  let timer: NodeJS.Timeout | undefined;
  const result: Record<string, unknown> = await Promise.race([
    reported,
    exited.then((): Record<string, unknown> => ({ error: `chromium exited: ${output.slice(-2000)}` })),
    new Promise<Record<string, unknown>>((resolve) => {
      timer = setTimeout(() => resolve({ error: `no result within 60 s: ${output.slice(-2000)}` }), 60_000);
    }),
  ]);
  clearTimeout(timer);
  t.same(result, { user: account.username, problem: 'not_found', stored: result.stored, echoed: result.stored, nonce: 'string' }, 'register, typed problem, gateway send and echo');
  t.type(result.stored, 'string');
});
