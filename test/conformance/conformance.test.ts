import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { operations } from '../../generated/operations.ts';
import { serverFrameTypes } from '../../generated/asyncapi-validators.js';
import { budgetNames, defaultBudgets } from '../../src/domain/rate-limit-budgets.ts';
import { freePort, projectRoot, runNode, type ProcessResult } from '../helpers/accounts.ts';
import { startCorruptingProxy } from '../helpers/corrupting-proxy.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startServer } from '../helpers/server-process.ts';

/**
 * `npm run conformance` as a consumer runs it: a child process against a real server process
 * (its own database, an admin from ADMIN_EMAIL/ADMIN_PASSWORD, the DEFAULT rate limits, so the
 * walk is shown to fit the budgets a real deployment has). The runs below share the server:
 * 9 registrations from one IP, within the default 10 per minute (the 429 run registers nobody).
 */
const admin = { email: 'conformance.admin@example.com', password: 'Adm1n-conformance-pw' };
const defaultRateLimits = budgetNames.map((name) => `${name}=${defaultBudgets[name].limit}/${defaultBudgets[name].windowMs}ms`).join(',');

const database = await createTestDatabase();
const dataDir = mkdtempSync(path.join(tmpdir(), 'parley-conformance-'));
t.teardown(async () => {
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});
const server = await startServer(t, dataDir, await freePort(), {
  env: {
    DATABASE_URL: database.url,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    RATE_LIMITS: defaultRateLimits,
    JWT_SECRET: 'conformance-test-secret-0123456789abcdef',
  },
});

const conformance = (args: string[]): Promise<ProcessResult> => runNode(['scripts/conformance/cli.ts', ...args], {}, 120_000);
const lines = (result: ProcessResult) => result.stdout.trimEnd().split('\n');
const lastLine = (result: ProcessResult) => lines(result).at(-1) ?? '';
/** operationIds named by PASS lines (`PASS  getMe (no token)  GET ...`). */
const passedOperations = (result: ProcessResult) =>
  new Set(lines(result).filter((line) => line.startsWith('PASS')).map((line) => line.split(/\s+/)[1]));

t.test('npm run conformance is the CLI', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  t.equal(pkg.scripts.conformance, 'node scripts/conformance/cli.ts');
  const result = await conformance([]);
  t.equal(result.code, 2, 'no --base is a usage error');
  t.match(result.stderr, /--base is required/);
});

t.test('a conforming deployment with admin credentials: every operation and frame, 0 failed', async (t) => {
  const result = await conformance(['--base', server.baseUrl, '--admin-email', admin.email, '--admin-password', admin.password]);
  const failures = lines(result).filter((line) => line.startsWith('FAIL'));
  t.same(failures, [], 'no check failed');
  t.equal(result.code, 0, 'exit 0', { stderr: result.stderr });
  t.match(lastLine(result), /^\d+ passed, 0 failed$/, 'ends with N passed, 0 failed');
  const passed = passedOperations(result);
  const missing = operations.map((operation) => operation.operationId).filter((operationId) => !passed.has(operationId));
  t.same(missing, [], 'every operationId of openapi.yaml has a passing check');
  t.notMatch(result.stdout, /^SKIP/m, 'nothing skipped with admin credentials');
  const framesSeen = new Set(lines(result).filter((line) => line.startsWith('PASS  ws ')).map((line) => line.split(/\s+/)[3]));
  t.same(serverFrameTypes.filter((type) => !framesSeen.has(type)), [], 'every server frame type of asyncapi.yaml was received and checked');
});

t.test('without admin credentials the admin-only operations are skipped with the reason', async (t) => {
  const result = await conformance(['--base', server.baseUrl]);
  t.equal(result.code, 0, 'exit 0', { stdout: result.stdout.slice(-3000), stderr: result.stderr });
  t.match(lastLine(result), /^\d+ passed, 0 failed$/);
  for (const operationId of ['getHealth', 'getMetrics', 'getUserStatistics', 'createUser', 'deleteUser']) {
    t.match(result.stdout, new RegExp(`^SKIP  ${operationId}  admin-only: pass --admin-email and --admin-password`, 'm'), `${operationId} skipped`);
  }
  t.match(result.stdout, /^5 skipped: /m, 'the skips are counted above the summary');
});

t.test('a non-conforming deployment (one corrupted response field, one corrupted frame) fails, naming both', async (t) => {
  const proxy = await startCorruptingProxy(t, server.baseUrl, {
    // GET /users/@me answers a number where the contract says the username is a string.
    response: (method, urlPath, status, body) =>
      method === 'GET' && urlPath === '/api/v1/users/@me' && status === 200 ? { ...body, username: 42 } : undefined,
    // pong frames gain a field the contract does not allow.
    frame: (frame) => (frame.type === 'pong' ? { ...frame, latency_ms: 1 } : undefined),
  });
  const result = await conformance(['--base', proxy, '--admin-email', admin.email, '--admin-password', admin.password]);
  t.equal(result.code, 1, 'non-zero exit');
  const failures = lines(result).filter((line) => line.startsWith('FAIL'));
  t.equal(failures.length, 2, 'exactly the two corruptions fail', { failures });
  t.match(failures.join('\n'), /^FAIL {2}getMe {2}GET \/api\/v1\/users\/@me -> 200: body\/username must be string/m, 'names the operation and the field');
  t.match(failures.join('\n'), /^FAIL {2}ws a pong {2}.*must NOT have additional properties/m, 'names the frame');
  t.match(lastLine(result), /^\d+ passed, 2 failed$/);
});

t.test('a spent budget is reported as a 429 with its Retry-After, not as a puzzle', async (t) => {
  // A deployment whose registration budget is spent (answered by the proxy: the server's own
  // budget is shared with the runs above and must not be spent here).
  const proxy = await startCorruptingProxy(t, server.baseUrl, {
    answer: (method, urlPath) =>
      method === 'POST' && urlPath === '/api/v1/auth/register'
        ? {
            status: 429,
            headers: {
              'content-type': 'application/problem+json',
              'retry-after': '42',
              'x-ratelimit-limit': '10',
              'x-ratelimit-remaining': '0',
              'x-ratelimit-reset': '42',
            },
            body: { type: 'about:blank', title: 'Too Many Requests', status: 429, code: 'rate_limited', detail: 'Slow down.' },
          }
        : undefined,
  });
  const result = await conformance(['--base', proxy]);
  t.equal(result.code, 1, 'non-zero exit');
  t.match(
    result.stdout,
    /^FAIL {2}registerUser {2}POST \/api\/v1\/auth\/register -> 429: rate limited by the deployment \(Retry-After: 42 s\); run again later or raise its budgets$/m,
    'the 429 is named, with its Retry-After',
  );
  t.match(lastLine(result), /^\d+ passed, [1-9]\d* failed$/);
});
