import t from 'tap';
import { parseCommandLine } from '../../scripts/conformance/cli.ts';

/** `npm run conformance -- …` arguments: a table of command lines and what they mean. */
const cases: Array<{ argv: string[]; env?: Record<string, string>; want: unknown }> = [
  { argv: ['--base', 'http://127.0.0.1:8080'], want: { base: 'http://127.0.0.1:8080', admin: undefined } },
  { argv: ['--base', 'https://chat.example.com/parley/'], want: { base: 'https://chat.example.com/parley', admin: undefined } },
  {
    argv: ['--base', 'http://h', '--admin-email', 'a@example.com', '--admin-password', 'pw'],
    want: { base: 'http://h', admin: { email: 'a@example.com', password: 'pw' } },
  },
  {
    argv: ['--base', 'http://h'],
    env: { PARLEY_CONFORMANCE_ADMIN_EMAIL: 'a@example.com', PARLEY_CONFORMANCE_ADMIN_PASSWORD: 'from-env' },
    want: { base: 'http://h', admin: { email: 'a@example.com', password: 'from-env' } },
  },
  {
    argv: ['--base', 'http://h', '--admin-email', 'a@example.com'],
    env: { PARLEY_CONFORMANCE_ADMIN_PASSWORD: 'from-env' },
    want: { base: 'http://h', admin: { email: 'a@example.com', password: 'from-env' } },
  },
  { argv: [], want: /--base is required/ },
  { argv: ['--base', 'ftp://h'], want: /http\(s\) URL/ },
  { argv: ['--base', 'not a url'], want: /Invalid URL/ },
  { argv: ['--base', 'http://h', '--admin-email', 'a@example.com'], want: /go together/ },
  { argv: ['--base', 'http://h', '--admin'], want: /Unknown option/ },
];

for (const { argv, env = {}, want } of cases) {
  const name = `${argv.join(' ') || '(nothing)'}${Object.keys(env).length ? ` with ${Object.keys(env).join(', ')}` : ''}`;
  if (want instanceof RegExp) t.throws(() => parseCommandLine(argv, env), want, name);
  else t.same(parseCommandLine(argv, env), want, name);
}
