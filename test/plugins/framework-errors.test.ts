// Node's clientError cases answered on the socket as problem details (the ones a running app can
// produce are covered end to end in test/handlers/input-limits.test.ts; a request timeout needs a
// server with requestTimeout set, so it is driven here on a real socket).
import { createServer, connect, type AddressInfo } from 'node:net';
import t from 'tap';
import { clientErrorHandler } from '../../src/plugins/framework-errors.ts';

async function answerTo(code: string): Promise<string> {
  const server = createServer((socket) => {
    // As in Node's HTTP server, the socket has an error listener (destroy(error) emits one).
    socket.on('error', () => {});
    clientErrorHandler(Object.assign(new Error(code), { code }), socket);
    // Left open by the handler only when there is nothing to say: end it here.
    if (!socket.destroyed) socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => (received += chunk));
      socket.on('error', () => {});
      socket.on('close', () => resolve(received));
    });
  } finally {
    server.close();
  }
}

const cases = [
  ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
  ['HPE_HEADER_OVERFLOW', 431, 'header_fields_too_large'],
  ['HPE_INVALID_METHOD', 400, 'validation_failed'],
] as const;

for (const [errorCode, status, code] of cases) {
  t.test(`${errorCode}: ${status} ${code}`, async (t) => {
    const raw = await answerTo(errorCode);
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    t.match(head, new RegExp(`^HTTP/1.1 ${status} `), 'status line');
    t.match(head, /\r\ncontent-type: application\/problem\+json\r\n/i, 'problem+json');
    t.match(head, new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}(\\r\\n|$)`, 'i'), 'content-length matches');
    t.match(JSON.parse(body), { type: `https://parley.dev/problems/${code}`, status, code }, 'problem body');
  });
}

t.test('a reset connection gets nothing written', async (t) => {
  t.equal(await answerTo('ECONNRESET'), '', 'nothing');
});
