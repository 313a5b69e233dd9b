// HTTP timeouts (issue 9, item 4): a client trickling its headers or body one byte at a time is
// answered 408 and disconnected once HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS pass; idle
// keep-alive connections close after HTTP_KEEP_ALIVE_TIMEOUT_MS; an upgraded gateway socket is
// subject to none of them.
import net from 'node:net';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.ts';
import { build, register } from './helpers/build.ts';
import { connectReady } from './helpers/gateway-client.ts';

// Short timeouts, so the tests run in well under a second each.
const shortTimeouts = { HTTP_REQUEST_TIMEOUT_MS: 600, HTTP_HEADERS_TIMEOUT_MS: 300, HTTP_KEEP_ALIVE_TIMEOUT_MS: 300 };

interface RawExchange {
  /** Everything the server wrote before it closed the connection. */
  response: string;
  /** Bytes the client managed to send (it stops once the server has answered or closed). */
  sent: number;
}

/**
 * Opens a raw TCP connection, writes `head` at once, then `trickle` one byte every `intervalMs`
 * (a bounded number of bytes) until the server answers or closes; resolves when the server closes.
 */
function slowClient(baseUrl: string, head: string, trickle: string, intervalMs: number): Promise<RawExchange> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let response = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const next = () => {
      if (response !== '' || socket.destroyed || sent >= trickle.length) return;
      socket.write(trickle[sent]!);
      sent += 1;
      timer = setTimeout(next, intervalMs);
    };
    socket.on('connect', () => {
      socket.write(head);
      next();
    });
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('utf8')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, sent });
    });
    // Bound: the trickle alone lasts trickle.length * intervalMs; a server that never closes fails here.
    socket.setTimeout(trickle.length * intervalMs + 5_000, () => {
      socket.destroy();
      reject(new Error('the server kept the slow connection open'));
    });
  });
}

const statusOf = (response: string) => /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];

/** The raw response's content type and JSON body (problem details, as every error is). */
function problemOf(response: string): { contentType: string | undefined; body: unknown } {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const contentType = /^content-type:\s*([^\r\n;]+)/im.exec(head)?.[1];
  try {
    return { contentType, body: JSON.parse(body) };
  } catch {
    return { contentType, body };
  }
}
const loginBody = JSON.stringify({ login: 'nobody-at-all', password: 'Sup3r-secret-enough' });

t.test('defaults, and HTTP_HEADERS_TIMEOUT_MS may not exceed HTTP_REQUEST_TIMEOUT_MS', async (t) => {
  const config = loadConfig({});
  t.equal(config.HTTP_REQUEST_TIMEOUT_MS, 30_000);
  t.equal(config.HTTP_HEADERS_TIMEOUT_MS, 10_000);
  t.equal(config.HTTP_KEEP_ALIVE_TIMEOUT_MS, 72_000);
  t.throws(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' }), ConfigError);
  try {
    loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '5000', HTTP_HEADERS_TIMEOUT_MS: '6000' });
  } catch (error) {
    t.match((error as ConfigError).issues, [/^HTTP_HEADERS_TIMEOUT_MS: /]);
  }
  t.throws(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '0' }), ConfigError, 'a request timeout of 0 (none) is refused');
});

t.test('a body sent one byte at a time is answered 408 and the connection closed; others are served', async (t) => {
  const { api, baseUrl } = await build(t, shortTimeouts);
  const head =
    `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(loginBody)}\r\n\r\n`;
  // 100 ms per byte: the whole body would take several seconds, ten times the request timeout.
  const slow = slowClient(baseUrl, head, loginBody, 100);

  // Meanwhile the server serves everyone else.
  t.equal((await api('GET', '/health/live')).status, 200, 'a normal request during the slow one');

  const { response, sent } = await slow;
  t.equal(statusOf(response), '408', 'the slow request is answered 408 Request Timeout');
  const problem = problemOf(response);
  t.equal(problem.contentType, 'application/problem+json', 'as problem details');
  t.match(problem.body, { status: 408, code: 'request_timeout' });
  t.ok(sent < loginBody.length, `the server did not wait for the whole body (${sent} of ${loginBody.length} bytes)`);

  const account = await register(api);
  const normal = await api('POST', '/api/v1/auth/login', { body: { login: account.user.username, password: account.password } });
  t.equal(normal.status, 200, 'a normal request with a body still works after it');
});

t.test('headers sent one byte at a time are answered 408 and the connection closed', async (t) => {
  const { api, baseUrl } = await build(t, shortTimeouts);
  const headers = 'Host: localhost\r\nX-Slow: ' + 'a'.repeat(100) + '\r\n\r\n';
  const { response, sent } = await slowClient(baseUrl, 'GET /health/live HTTP/1.1\r\n', headers, 100);
  t.equal(statusOf(response), '408', 'slow headers are answered 408');
  t.match(problemOf(response), { contentType: 'application/problem+json', body: { status: 408, code: 'request_timeout' } });
  t.ok(sent < headers.length, `the server did not wait for the whole header block (${sent} of ${headers.length} bytes)`);
  t.equal((await api('GET', '/health/live')).status, 200, 'a normal request still works');
});

t.test('an idle keep-alive connection is closed after HTTP_KEEP_ALIVE_TIMEOUT_MS', async (t) => {
  const { baseUrl } = await build(t, shortTimeouts);
  // One complete request, then silence: the server closes the connection by itself.
  const { response } = await slowClient(baseUrl, 'GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n', '', 100);
  t.equal(statusOf(response), '200', 'the request was served');
  t.match(response, /keep-alive/i, 'on a keep-alive connection');
});

t.test('a gateway socket outlives the request timeout: the upgrade is not an HTTP request any more', async (t) => {
  const { api, baseUrl } = await build(t, shortTimeouts);
  const account = await register(api);
  const { client } = await connectReady(t, baseUrl, account.token);

  // A slow request started after the socket opened times out: by then the socket has been open
  // longer than HTTP_REQUEST_TIMEOUT_MS (and HTTP_KEEP_ALIVE_TIMEOUT_MS).
  const head =
    `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(loginBody)}\r\n\r\n`;
  const { response } = await slowClient(baseUrl, head, loginBody, 100);
  t.equal(statusOf(response), '408', 'the slow request timed out');

  t.same(await client.request({ type: 'ping', ref: 'after-timeout' }), { type: 'pong', ref: 'after-timeout' }, 'the socket still answers');
  t.equal(client.closeInfo, undefined, 'and was never closed');
});
