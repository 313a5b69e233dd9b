import t from 'tap';
import { build, register } from '../helpers/build.ts';

// helmet's defaults: the headers every response must carry, whatever the route or outcome.
const securityHeaders = {
  'content-security-policy': /default-src 'self'/,
  'strict-transport-security': /max-age=\d+/,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

t.test('security headers on successes, problems and unknown routes', async (t) => {
  const { api } = await build(t);
  const ada = await register(api);
  const responses = {
    'a JSON success': await api('GET', '/api/v1/users/@me', { token: ada.token }),
    'a 401 problem': await api('GET', '/api/v1/users/@me'),
    'an unknown route': await api('GET', '/api/v1/nowhere'),
    'the contract document': await api('GET', '/openapi.json'),
    // Answered by Fastify's router before any hook runs (src/plugins/framework-errors.ts).
    'a malformed path': await api('GET', '/api/v1/channels/%E0%A4%A', { token: ada.token }),
    'a path segment over the limit': await api('GET', `/api/v1/channels/${'1'.repeat(150)}`, { token: ada.token }),
  };
  for (const [what, response] of Object.entries(responses)) {
    for (const [name, expected] of Object.entries(securityHeaders)) {
      const value = response.headers.get(name) ?? '';
      if (typeof expected === 'string') t.equal(value, expected, `${what}: ${name}`);
      else t.match(value, expected, `${what}: ${name}`);
    }
    t.equal(response.headers.get('x-powered-by'), null, `${what}: no x-powered-by`);
  }
  t.equal(responses['a JSON success'].status, 200);
  t.equal(responses['a 401 problem'].status, 401);
  t.equal(responses['a malformed path'].status, 400);
  t.equal(responses['a path segment over the limit'].status, 400);
});

t.test('CORS: only the configured origins, with credentials and the exposed headers', async (t) => {
  const { api, baseUrl } = await build(t, { CORS_ORIGINS: ['https://app.example.com'] });
  // A preflight is CORS plumbing, not an operation of the contract: plain fetch.
  const allowed = await fetch(`${baseUrl}/api/v1/users/@me`, {
    method: 'OPTIONS',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  });
  t.equal(allowed.status, 204, 'the preflight succeeds');
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
  t.equal(allowed.headers.get('access-control-allow-credentials'), 'true');
  const simple = await api('GET', '/health/live', { headers: { origin: 'https://app.example.com' } });
  t.match(simple.headers.get('access-control-expose-headers') ?? '', /x-request-id/);

  const other = await api('GET', '/health/live', { headers: { origin: 'https://evil.example.com' } });
  t.equal(other.headers.get('access-control-allow-origin'), null, 'another origin gets no CORS grant');
});
