import t from 'tap';
import { redirectAllowlistProblems, redirectTargetProblem, withErrorCode } from '../../src/domain/oauth-redirect.ts';

const allowlist = ['https://app.example.com', 'http://localhost:3000'];

t.test('redirect_to: paths on this server and allowlisted origins only (no open redirect)', async (t) => {
  const table: Array<[target: string, allowed: boolean]> = [
    ['/', true],
    ['/app', true],
    ['/app/rooms?tab=1#top', true],
    ['https://app.example.com/after-login', true],
    ['https://app.example.com', true],
    ['http://localhost:3000/x', true],
    // Open-redirect attempts.
    ['https://evil.example/', false],
    ['//evil.example/', false],
    ['/\\evil.example/', false],
    ['/\t/evil.example', false],
    ['\\\\evil.example', false],
    [' https://app.example.com', false],
    ['https://app.example.com.evil.example/', false],
    ['https://app.example.com@evil.example/', false],
    ['https://user:pw@app.example.com/', false],
    ['http://app.example.com/', false], // another scheme is another origin
    ['https://app.example.com:8443/', false],
    ['javascript:alert(1)', false],
    ['data:text/html,hi', false],
    ['app.example.com/x', false],
    ['', false],
  ];
  for (const [target, allowed] of table) {
    const problem = redirectTargetProblem(target, allowlist);
    t.equal(problem === null, allowed, `${JSON.stringify(target)}: ${allowed ? 'allowed' : `refused (${problem})`}`);
  }
  t.not(redirectTargetProblem('https://app.example.com/', []), null, 'an empty allowlist allows no absolute URL');
});

t.test('the allowlist holds bare origins', async (t) => {
  t.same(redirectAllowlistProblems(['https://app.example.com', 'https://app.example.com/', 'http://localhost:3000']), []);
  t.equal(redirectAllowlistProblems(['https://app.example.com/path']).length, 1, 'a path is not an origin');
  t.equal(redirectAllowlistProblems(['app.example.com']).length, 1, 'no scheme');
  t.equal(redirectAllowlistProblems(['ftp://files.example.com']).length, 1, 'not http(s)');
});

t.test('withErrorCode adds error=<code> and keeps a path a path', async (t) => {
  t.equal(withErrorCode('/', 'oauth_state_invalid'), '/?error=oauth_state_invalid');
  t.equal(withErrorCode('/app?x=1#h', 'oauth_access_denied'), '/app?x=1&error=oauth_access_denied#h');
  t.equal(withErrorCode('https://app.example.com/done?error=old', 'conflict'), 'https://app.example.com/done?error=conflict');
});
