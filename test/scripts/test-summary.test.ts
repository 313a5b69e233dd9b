import t from 'tap';
import { summarize, tapCounts } from '../../scripts/test-summary.ts';
import { freePort, runNode } from '../helpers/accounts.ts';

const tapOutput = (summary: string) => `ok 1 - test/a.test.ts\n# ${summary}\n# time=12ms\n`;

t.test("npm test's closing line counts tests only and says failed for any other failure", async (t) => {
  const cases: Array<[string, Parameters<typeof summarize>[0], string[], { ok: boolean; line: string }]> = [
    ['all tests pass', { code: 0, output: tapOutput('{ total: 12, pass: 12 }') }, [], { ok: true, line: '12 passed, 0 failed' }],
    ['a failed test', { code: 1, output: tapOutput('{ total: 12, pass: 11, fail: 1 }') }, [], { ok: false, line: '11 passed, 1 failed' }],
    ['skipped tests are reported, not failed', { code: 0, output: tapOutput('{ total: 12, pass: 10, skip: 1, todo: 1 }') }, [], { ok: true, line: '10 passed, 0 failed, 2 skipped' }],
    [
      'a failed check before tap is not a passed or failed test, and is named',
      { code: 0, output: tapOutput('{ total: 3, pass: 3 }') },
      ['typecheck (exit 2)'],
      { ok: false, line: '3 passed, 0 failed; FAILED: typecheck (exit 2)' },
    ],
    ['tap exits 0 without a summary', { code: 0, output: 'ok 1 - something\n' }, [], { ok: false, line: '0 passed, 0 failed; FAILED: tap printed no summary (exit 0)' }],
    ['tap exits 1 without a summary', { code: 1, output: '' }, [], { ok: false, line: '0 passed, 0 failed; FAILED: tap printed no summary (exit 1)' }],
    [
      'tap fails with no failed test (a crashed file, a timeout)',
      { code: 1, output: tapOutput('{ total: 4, pass: 4 }') },
      [],
      { ok: false, line: '4 passed, 0 failed; FAILED: tap exited 1 without a failed test' },
    ],
    ['tap ran no tests', { code: 0, output: tapOutput('{ total: 0 }') }, [], { ok: false, line: '0 passed, 0 failed; FAILED: tap ran no tests' }],
    [
      'PostgreSQL failed: tap never ran',
      undefined,
      ['PostgreSQL (connect ECONNREFUSED 127.0.0.1:1)'],
      { ok: false, line: '0 passed, 0 failed; FAILED: PostgreSQL (connect ECONNREFUSED 127.0.0.1:1)' },
    ],
    ['tap never ran, reason unknown', undefined, [], { ok: false, line: '0 passed, 0 failed; FAILED: tap did not run' }],
  ];
  for (const [name, tap, problems, expected] of cases) {
    const summary = summarize(tap, problems);
    t.same({ ok: summary.ok, line: summary.line }, expected, name);
    t.match(summary.line, /^\d+ passed, \d+ failed/, `${name}: starts with the plain counts`);
    if (!expected.ok) t.match(summary.line, /failed/, `${name}: says failed`);
  }
  t.same(tapCounts('# { total: 1, pass: 1 }\nnoise\n# { total: 9, pass: 8, fail: 1 }\n'), { total: 9, pass: 8, fail: 1 }, 'the last summary counts');
});

t.test('npm test against a PostgreSQL that does not answer ends with a line that says failed', async (t) => {
  const port = await freePort();
  const result = await runNode(['scripts/test.ts', '--quick', 'test/errors.test.ts'], { DATABASE_URL: `postgres://parley@127.0.0.1:${port}/postgres` });
  t.equal(result.code, 1, 'exits 1');
  const lines = result.stdout.trimEnd().split('\n');
  t.match(lines.at(-1), /^0 passed, 0 failed; FAILED: PostgreSQL \(/, 'the closing line names the failure');
  t.notMatch(result.stdout, /── tap/, 'tap never started');
});
