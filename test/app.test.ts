import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import t, { type Test } from 'tap';
import { buildApp, loggerOptions } from '../src/app.ts';
import { configWith } from '../src/config.ts';
import { apiClient, newAccount, testDefaults } from './helpers/build.ts';
import { createTestDatabase } from './helpers/database.ts';

/** An app whose pino logger (the production options) writes JSON lines into an array. */
async function buildLogged(t: Test, level: 'trace' | 'warn' = 'trace', prepare?: (app: Awaited<ReturnType<typeof buildApp>>) => void) {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-log-'));
  const config = configWith({
    ...testDefaults,
    LOG_LEVEL: level,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
  });
  const lines: Array<Record<string, unknown> & { raw: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const raw of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push({ ...JSON.parse(raw), raw });
      done();
    },
  });
  const logger = pino(loggerOptions(config) as pino.LoggerOptions, stream);
  const app = await buildApp(config, { logger });
  prepare?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.teardown(async () => {
    await app.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, lines, api: apiClient(t, baseUrl) };
}

t.test('request logs carry the request id and no password, token, cookie or authorization header', async (t) => {
  const { api, lines } = await buildLogged(t);
  const account = newAccount('logged');
  const registered = await api('POST', '/api/v1/auth/register', { body: account });
  t.equal(registered.status, 201);
  const refreshToken: string = registered.body.refresh_token;

  const from = lines.length;
  const loginResponse = await api('POST', '/api/v1/auth/login', {
    body: { login: account.username, password: account.password },
    headers: { 'x-request-id': 'login-req-1', cookie: `parley_refresh=${refreshToken}` },
  });
  t.equal(loginResponse.status, 200);
  const accessToken: string = loginResponse.body.access_token;
  const me = await api('GET', '/api/v1/users/@me', { token: accessToken, headers: { 'x-request-id': 'me-req-2', cookie: `parley_access=${accessToken}` } });
  t.equal(me.status, 200);
  const failed = await api('POST', '/api/v1/auth/login', {
    body: { login: account.username, password: 'Wrong-Password-9' },
    headers: { 'x-request-id': 'login-req-3' },
  });
  t.equal(failed.status, 401);
  await new Promise((resolve) => setImmediate(resolve));

  const requestLines = lines.slice(from).filter((line) => line.reqId !== undefined);
  for (const id of ['login-req-1', 'me-req-2', 'login-req-3']) {
    const own = requestLines.filter((line) => line.reqId === id);
    t.ok(own.length >= 2, `${id}: ${own.length} lines (incoming request, request completed)`);
    t.ok(own.some((line) => line.msg === 'incoming request'));
    t.ok(own.some((line) => line.msg === 'request completed'));
  }
  const everything = lines.map((line) => line.raw).join('\n');
  for (const [name, secret] of [
    ['password', account.password],
    ['wrong password', 'Wrong-Password-9'],
    ['access token', accessToken],
    ['first access token', registered.body.access_token as string],
    ['refresh token', refreshToken],
    ['new refresh token', loginResponse.body.refresh_token as string],
    ['access token signature', accessToken.split('.')[2]!],
  ] as const) {
    t.notOk(everything.includes(secret), `no ${name} in the logs`);
  }
  t.notMatch(everything, /authorization|bearer/i, 'no authorization header');
  t.notMatch(everything, /parley_access|parley_refresh|set-cookie/i, 'no cookies');
});

t.test('above info a request builds its logger only when it writes a line, and that line carries the request id', async (t) => {
  const seen: Array<{ id: string; builtBefore: boolean }> = [];
  const { api, lines } = await buildLogged(t, 'warn', (app) => {
    // What a handler or error path does with request.log: at warn, info is dropped, warn is written.
    app.addHook('onResponse', (request, _reply, done) => {
      const builtBefore = pino.symbols.chindingsSym in request.log;
      request.log.info('not written at warn');
      if (request.headers['x-probe'] === 'warn') request.log.warn({ probe: true }, 'probe line');
      seen.push({ id: request.id, builtBefore });
      done();
    });
  });
  const account = newAccount('quiet');
  t.equal((await api('POST', '/api/v1/auth/register', { body: account })).status, 201);
  const from = lines.length;
  const quiet = await api('GET', '/api/v1/users/@me', { token: (await api('POST', '/api/v1/auth/login', { body: { login: account.username, password: account.password } })).body.access_token });
  t.equal(quiet.status, 200);
  const probed = await api('GET', '/api/v1/health/live', { headers: { 'x-request-id': 'probe-req-1', 'x-probe': 'warn' } });
  t.equal(probed.headers.get('x-request-id'), 'probe-req-1');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(lines.slice(from).map((line) => line.msg), ['probe line'], 'only the warning was written');
  t.equal(lines.at(-1)?.reqId, 'probe-req-1', 'with the request id');
  t.equal(lines.at(-1)?.probe, true);
  t.ok(seen.length >= 3);
  t.notOk(seen.some((entry) => entry.builtBefore), 'no request had a pino child before it wrote a line');
});

t.test('the redaction paths censor secrets wherever a log line puts them', async (t) => {
  const { app, lines } = await buildLogged(t);
  const from = lines.length;
  app.log.info(
    {
      // Fastify's req/res serializers keep only method, url, ids and status; headers never reach the line.
      req: { headers: { authorization: 'Bearer s3cret-bearer', cookie: 'parley_access=s3cret-cookie' } },
      res: { headers: { 'set-cookie': 'parley_refresh=s3cret-set-cookie' } },
      body: { password: 's3cret-password', current_password: 's3cret-current' },
      tokens: { access_token: 's3cret-access', refresh_token: 's3cret-refresh' },
      frame: { type: 'authorization', token: 's3cret-frame-token' },
      password: 's3cret-top-level-password',
      token: 's3cret-top-level-token',
    },
    'a careless log line',
  );
  const [line] = lines.slice(from);
  t.ok(line, 'logged');
  t.notMatch(line!.raw, /s3cret/, 'every secret is censored');
  t.match(line, {
    body: { password: '[redacted]', current_password: '[redacted]' },
    frame: { type: 'authorization', token: '[redacted]' },
    password: '[redacted]',
    token: '[redacted]',
  });
});
