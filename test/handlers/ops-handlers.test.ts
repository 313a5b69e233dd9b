import t from 'tap';
import { adminOverrides, loginAdmin } from '../helpers/accounts.ts';
import { build, register } from '../helpers/build.ts';

const OPS_TOKEN = 'ops-token-for-tests-0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789abcdef';

t.test('health, probes, metrics and the published contracts', async (t) => {
  const { api } = await build(t, { ...adminOverrides, OPS_TOKEN, METRICS_TOKEN });
  const admin = await loginAdmin(api);

  const health = await api('GET', '/health', { token: admin.token });
  t.equal(health.status, 200);
  t.equal(health.body.status, 'ok');
  t.equal(health.body.checks.database, 'ok');
  t.ok(health.body.system.cpus >= 1, 'reports CPUs');
  t.ok(health.body.system.memory.rss_bytes > 0, 'reports memory');
  t.match(health.headers.get('x-request-id'), /.+/, 'every response carries a request id');

  t.same((await api('GET', '/health/live')).body, { status: 'ok' });
  t.same((await api('GET', '/health/ready')).body, { status: 'ok' });

  const metrics = await api('GET', '/metrics', { token: METRICS_TOKEN });
  t.equal(metrics.status, 200);
  t.match(metrics.text, /process_resident_memory_bytes/);
  t.match(metrics.text, /http_request_duration_seconds_bucket\{[^}]*route="\/health\/live"/, 'request durations per route as a histogram');
  // fastify-metrics registers the summary either way; it must hold no samples.
  t.notMatch(metrics.text, /^http_request_summary_seconds\w*\{/m, 'no per-request summary (t-digest) beside it');

  const openapi = await api('GET', '/openapi.json');
  t.equal(openapi.body.openapi, '3.1.0');
  t.match((await api('GET', '/openapi.yaml')).text, /^openapi: 3\.1\.0/);
  t.match((await api('GET', '/asyncapi.yaml')).text, /asyncapi: 3\.0\.0/);
});

t.test('an incoming X-Request-Id is kept and echoed; a malformed one is replaced', async (t) => {
  const { api } = await build(t);
  const kept = await api('GET', '/health/live', { headers: { 'x-request-id': 'trace-abc.123' } });
  t.equal(kept.headers.get('x-request-id'), 'trace-abc.123');
  const replaced = await api('GET', '/health/live', { headers: { 'x-request-id': 'bad id with spaces' } });
  // Replaced by a fresh UUID (the header is there: a missing one would also differ from the input).
  t.match(replaced.headers.get('x-request-id'), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'replaced by a fresh UUID');
});

t.test('unknown routes answer 404 problem details', async (t) => {
  const { api } = await build(t);
  const response = await api('GET', '/api/v1/nope');
  t.equal(response.status, 404);
  t.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.equal(response.body.code, 'not_found');
});

t.test('readiness is 503 while the database is unreachable', async (t) => {
  const { app, api } = await build(t, { OPS_TOKEN });
  await app.db.end();
  const ready = await api('GET', '/health/ready');
  t.equal(ready.status, 503);
  t.equal(ready.body.code, 'service_unavailable');
  t.equal((await api('GET', '/health', { token: OPS_TOKEN })).status, 503);
});

t.test('/health and /metrics: anonymous 401, wrong token 401, non-admin 403; admins and the configured tokens get the data', async (t) => {
  const { api } = await build(t, { ...adminOverrides, OPS_TOKEN, METRICS_TOKEN });
  const admin = await loginAdmin(api);
  const client = await register(api);
  const problem = 'application/problem+json; charset=utf-8';

  for (const url of ['/health', '/metrics']) {
    const anonymous = await api('GET', url);
    t.equal(anonymous.status, 401, `${url}: anonymous is 401`);
    t.equal(anonymous.headers.get('content-type'), problem, `${url}: as problem details`);
    t.equal(anonymous.body.code, 'unauthorized');
    t.notMatch(anonymous.text, /hostname|node_version|process_resident_memory/, `${url}: and shows nothing`);

    const wrong = await api('GET', url, { token: 'not-the-token-0123456789abcdefghijklmn' });
    t.equal(wrong.status, 401, `${url}: a wrong token is 401`);
    t.equal(wrong.headers.get('content-type'), problem);

    const notAdmin = await api('GET', url, { token: client.token });
    t.equal(notAdmin.status, 403, `${url}: a signed-in non-admin is 403`);
    t.equal(notAdmin.body.code, 'forbidden');
    t.equal((await api('GET', url, { headers: { cookie: `parley_access=${client.token}` } })).status, 403, `${url}: also by cookie`);

    t.equal((await api('GET', url, { token: admin.token })).status, 200, `${url}: an admin gets it`);
    t.equal((await api('GET', url, { headers: { cookie: `parley_access=${admin.token}` } })).status, 200, `${url}: also by cookie`);
  }

  const health = await api('GET', '/health', { token: OPS_TOKEN });
  t.equal(health.status, 200, 'OPS_TOKEN opens /health');
  t.equal(typeof health.body.system.hostname, 'string');
  t.equal((await api('GET', '/health', { token: METRICS_TOKEN })).status, 401, 'METRICS_TOKEN does not open /health');

  const metrics = await api('GET', '/metrics', { token: METRICS_TOKEN });
  t.equal(metrics.status, 200, 'METRICS_TOKEN opens /metrics');
  t.match(metrics.text, /process_resident_memory_bytes/);
  t.equal((await api('GET', '/metrics', { token: OPS_TOKEN })).status, 401, 'OPS_TOKEN does not open /metrics');
});

t.test('without OPS_TOKEN and METRICS_TOKEN configured, /health and /metrics are for admins only', async (t) => {
  const { api } = await build(t, adminOverrides);
  const admin = await loginAdmin(api);
  for (const url of ['/health', '/metrics']) {
    t.equal((await api('GET', url)).status, 401, `${url}: anonymous`);
    t.equal((await api('GET', url, { token: OPS_TOKEN })).status, 401, `${url}: any static token is refused`);
    t.equal((await api('GET', url, { token: admin.token })).status, 200, `${url}: admin`);
  }
});

t.test('liveness and readiness stay public and minimal', async (t) => {
  const { api } = await build(t);
  for (const url of ['/health/live', '/health/ready']) {
    const probe = await api('GET', url);
    t.equal(probe.status, 200, `${url} needs no credentials`);
    t.same(probe.body, { status: 'ok' }, `${url} says ok and nothing else (no host, kernel, versions or memory)`);
  }
});
