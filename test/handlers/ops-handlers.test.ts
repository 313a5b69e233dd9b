import t from 'tap';
import { build } from '../helpers/build.ts';

t.test('health, probes, metrics and the published contracts', async (t) => {
  const { api } = await build(t);

  const health = await api('GET', '/health');
  t.equal(health.status, 200);
  t.equal(health.body.status, 'ok');
  t.equal(health.body.checks.database, 'ok');
  t.ok(health.body.system.cpus >= 1, 'reports CPUs');
  t.ok(health.body.system.memory.rss_bytes > 0, 'reports memory');
  t.match(health.headers.get('x-request-id'), /.+/, 'every response carries a request id');

  t.same((await api('GET', '/health/live')).body, { status: 'ok' });
  t.same((await api('GET', '/health/ready')).body, { status: 'ok' });

  const metrics = await api('GET', '/metrics');
  t.equal(metrics.status, 200);
  t.match(metrics.text, /process_resident_memory_bytes/);
  t.match(metrics.text, /http_request_duration_seconds/);

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
  t.not(replaced.headers.get('x-request-id'), 'bad id with spaces');
});

t.test('unknown routes answer 404 problem details', async (t) => {
  const { api } = await build(t);
  const response = await api('GET', '/api/v1/nope');
  t.equal(response.status, 404);
  t.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  t.equal(response.body.code, 'not_found');
});

t.test('readiness is 503 while the database is unreachable', async (t) => {
  const { app, api } = await build(t);
  await app.db.end();
  const ready = await api('GET', '/health/ready');
  t.equal(ready.status, 503);
  t.equal(ready.body.code, 'service_unavailable');
  t.equal((await api('GET', '/health')).status, 503);
});
