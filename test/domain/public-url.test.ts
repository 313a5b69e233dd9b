import t from 'tap';
import { asyncApiWithServer, openApiWithServer, publicBaseUrl } from '../../src/domain/public-url.ts';

t.test('publicBaseUrl: PUBLIC_URL wins, else the listen address', async (t) => {
  const cases: Array<[string | undefined, { host: string; port: number; tls: boolean }, string]> = [
    [undefined, { host: '0.0.0.0', port: 8080, tls: false }, 'http://localhost:8080'],
    [undefined, { host: '::', port: 8080, tls: false }, 'http://localhost:8080'],
    [undefined, { host: '127.0.0.1', port: 41234, tls: false }, 'http://127.0.0.1:41234'],
    [undefined, { host: '::1', port: 8443, tls: true }, 'https://[::1]:8443'],
    ['https://chat.example.com', { host: '0.0.0.0', port: 8080, tls: false }, 'https://chat.example.com'],
    ['https://chat.example.com/parley/', { host: '0.0.0.0', port: 8080, tls: false }, 'https://chat.example.com/parley'],
  ];
  for (const [publicUrl, listen, expected] of cases) {
    t.equal(publicBaseUrl(publicUrl, listen), expected, `${publicUrl ?? '(unset)'} ${listen.host}:${listen.port}`);
  }
});

t.test('openApiWithServer: one server, the base URL; the input is not changed', async (t) => {
  const input = { openapi: '3.1.0', servers: [{ url: 'http://localhost:8080' }] };
  const output = openApiWithServer(input, 'https://chat.example.com/parley');
  t.same(output.servers, [{ url: 'https://chat.example.com/parley', description: 'This server' }]);
  t.same(input.servers, [{ url: 'http://localhost:8080' }]);
});

t.test('asyncApiWithServer: host, ws/wss and path prefix from the URL; other server fields kept', async (t) => {
  const security = [{ $ref: '#/components/securitySchemes/tokenQuery' }];
  const input = { asyncapi: '3.0.0', servers: { local: { host: 'localhost:8080', protocol: 'ws', security } } };
  const cases: Array<[string, Record<string, unknown>]> = [
    ['http://127.0.0.1:4000', { host: '127.0.0.1:4000', protocol: 'ws' }],
    ['https://chat.example.com', { host: 'chat.example.com', protocol: 'wss' }],
    ['https://chat.example.com/parley', { host: 'chat.example.com', protocol: 'wss', pathname: '/parley' }],
  ];
  for (const [url, expected] of cases) {
    t.same(asyncApiWithServer(input, url).servers, { local: { ...expected, security, description: 'This server' } }, url);
  }
  t.equal(input.servers.local.host, 'localhost:8080', 'the input is not changed');
});
