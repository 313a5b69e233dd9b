import t from 'tap';
import { build, register } from '../helpers/build.ts';
import { freePort, login, queryDatabase, runNode } from '../helpers/accounts.ts';

const SCRIPT = 'scripts/create-admin.ts';
const ID_LINE = /with id ([0-9]+)\n/;

t.test('create-admin creates an admin from flags, and is idempotent', async (t) => {
  const { api, databaseUrl } = await build(t);
  const env = { DATABASE_URL: databaseUrl };
  const created = await runNode([SCRIPT, '--email', 'Boss@Example.com', '--password', 'Xyz12345', '--username', 'the_boss'], env);
  t.equal(created.code, 0, created.stderr);
  t.match(created.stdout, /^created admin the_boss <Boss@Example\.com> with id [0-9]+$/m);
  const id = ID_LINE.exec(created.stdout)?.[1];

  const session = await login(api, 'boss@example.com', 'Xyz12345');
  t.equal(session.user.id, id, 'the printed id is the account');
  t.equal(session.user.role, 'admin');
  t.equal(session.user.username, 'the_boss');
  t.equal((await api('GET', '/api/v1/users/statistics', { token: session.token })).status, 200, 'with admin powers');

  const again = await runNode([SCRIPT, '--email', 'boss@example.com', '--password', 'Xyz12345'], env);
  t.equal(again.code, 0, again.stderr);
  t.equal(ID_LINE.exec(again.stdout)?.[1], id, 'running it again finds the same account');
  t.same(await queryDatabase(databaseUrl, "SELECT count(*)::int AS n FROM users WHERE role = 'admin'"), [{ n: 1 }]);
});

t.test('create-admin promotes (and reactivates) an existing account, reading ADMIN_EMAIL/ADMIN_PASSWORD', async (t) => {
  const { api, databaseUrl } = await build(t);
  const user = await register(api);
  await queryDatabase(databaseUrl, 'UPDATE users SET active = false WHERE id = $1', [user.user.id]);
  const promoted = await runNode([SCRIPT], { DATABASE_URL: databaseUrl, ADMIN_EMAIL: user.user.email!, ADMIN_PASSWORD: 'Other-pass1' });
  t.equal(promoted.code, 0, promoted.stderr);
  t.equal(ID_LINE.exec(promoted.stdout)?.[1], user.user.id);
  const session = await login(api, user.user.username, user.password);
  t.equal(session.user.role, 'admin', 'promoted');
  t.equal(session.user.active, true, 'reactivated');
  const refused = await api('POST', '/api/v1/auth/login', { body: { login: user.user.username, password: 'Other-pass1' } });
  t.equal(refused.status, 401, "an existing account's password is left alone");
});

t.test('create-admin refuses bad input and errors with a non-zero exit', async (t) => {
  const { databaseUrl } = await build(t);
  const env = { DATABASE_URL: databaseUrl };
  const cases: Array<[string, string[], RegExp]> = [
    ['too short', ['--email', 'a@b.co', '--password', 'Ab1'], /password: must be at least 8 characters/],
    ['no digit', ['--email', 'a@b.co', '--password', 'Abcdefgh'], /password: must contain a digit/],
    ['no upper case', ['--email', 'a@b.co', '--password', 'abcdefg1'], /password: must contain an upper-case letter/],
    ['no lower case', ['--email', 'a@b.co', '--password', 'ABCDEFG1'], /password: must contain a lower-case letter/],
    ['no email', ['--password', 'Xyz12345'], /--email and --password .* are required/],
    ['bad email', ['--email', 'nope', '--password', 'Xyz12345'], /email: "nope" is not a valid email address/],
    ['bad username', ['--email', 'a@b.co', '--password', 'Xyz12345', '--username', 'a b'], /username: "a b" must be/],
    ['unknown flag', ['--email', 'a@b.co', '--password', 'Xyz12345', '--role', 'admin'], /Unknown option '--role'/],
  ];
  for (const [name, args, message] of cases) {
    const result = await runNode([SCRIPT, ...args], env);
    t.equal(result.code, 1, name);
    t.match(result.stderr, message, name);
  }
  const policyFromEnv = await runNode([SCRIPT], { ...env, ADMIN_EMAIL: 'a@b.co', ADMIN_PASSWORD: 'weakpassword' });
  t.equal(policyFromEnv.code, 1, 'ADMIN_PASSWORD is held to the policy too');
  t.same(await queryDatabase(databaseUrl, 'SELECT count(*)::int AS n FROM users'), [{ n: 0 }], 'no account was written');

  await runNode([SCRIPT, '--email', 'first@b.co', '--password', 'Xyz12345', '--username', 'taken_name'], env);
  const conflict = await runNode([SCRIPT, '--email', 'second@b.co', '--password', 'Xyz12345', '--username', 'taken_name'], env);
  t.equal(conflict.code, 1, 'a username held by another account');
  t.match(conflict.stderr, /create-admin failed: .*username: is already taken/);

  const unreachable = await runNode([SCRIPT, '--email', 'a@b.co', '--password', 'Xyz12345'], {
    DATABASE_URL: `postgres://nobody:nothing@127.0.0.1:${await freePort()}/nowhere`,
  });
  t.equal(unreachable.code, 1, 'an unreachable database');
  t.match(unreachable.stderr, /create-admin failed: .*ECONNREFUSED/);
});
