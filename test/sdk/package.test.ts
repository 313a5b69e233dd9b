import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Message } from '../../clients/typescript/src/index.ts';
import { build, newAccount, register } from '../helpers/build.ts';
import { expectStatus, generalId } from '../helpers/chat.ts';
import { until } from '../helpers/sdk.ts';

/**
 * @parley/client as a consumer gets it: `npm pack` of the workspace, installed into an empty
 * folder from the local npm cache, type-checked with a small program (strict, no DOM lib), then
 * the packaged example bot runs against a real server and answers `!ping`.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

const program = `import { ParleyApiError, ParleyClient, type Message, type ServerFrameByType } from '@parley/client';

const client = new ParleyClient({ baseUrl: process.env.PARLEY_URL! });
const issued = await client.login(process.env.PARLEY_LOGIN!, process.env.PARLEY_PASSWORD!);
const me = await client.unwrap(client.rest.GET('/api/v1/users/@me'));
const name: string = me.username;
// @ts-expect-error the types are real: an unknown path does not type-check
void client.rest.GET('/api/v1/no-such-path');
// @ts-expect-error and neither does a wrong field type
const wrong: number = me.username;
const frame: ServerFrameByType['message_created'] | null = null;
const message: Message | null = frame;
const error = await client.unwrap(client.rest.GET('/api/v1/channels/{channel_id}', { params: { path: { channel_id: '1' } } })).catch((e: unknown) => e);
console.log(JSON.stringify({ same: issued.user.id === me.id, name, code: error instanceof ParleyApiError ? error.code : null, wrong, message }));
`;

t.test('npm pack installs in an empty folder, type-checks a program, and the example bot answers !ping', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'parley-sdk-pack-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));

  const packed = await run('npm', ['pack', '--workspace', 'clients/typescript', '--pack-destination', work, '--silent'], root);
  t.equal(packed.code, 0, 'npm pack (runs the build)', { output: packed.output });
  const tarball = readdirSync(work).find((file) => file.endsWith('.tgz'));
  t.ok(tarball, 'a tarball was written');

  const app = path.join(work, 'app');
  rmSync(app, { recursive: true, force: true });
  await run('mkdir', ['-p', app], work);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }));
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(work, tarball!)], app);
  t.equal(installed.code, 0, 'npm install of the tarball', { output: installed.output });

  copyFileSync(path.join(app, 'node_modules/@parley/client/examples/bot.ts'), path.join(app, 'bot.ts'));
  writeFileSync(path.join(app, 'program.ts'), program);
  writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        lib: ['es2022'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        // No skipLibCheck: the package's own declarations are checked too.
        // Node's types (process, and Node's global fetch and WebSocket) from the repo's install.
        typeRoots: [path.join(root, 'node_modules/@types')],
        types: ['node'],
      },
      include: ['bot.ts', 'program.ts'],
    }),
  );
  const checked = await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
  t.equal(checked.code, 0, 'tsc accepts the program and the bot', { output: checked.output });

  const { api, baseUrl } = await build(t);
  const account = newAccount('bot');
  const bot = await register(api, account);
  const human = await register(api);
  const general = await generalId(api, human);
  const env = { ...process.env, PARLEY_URL: baseUrl, PARLEY_LOGIN: account.username, PARLEY_PASSWORD: account.password };

  const ran = await run(process.execPath, ['program.ts'], app, env);
  t.equal(ran.code, 0, 'the program runs on Node', { output: ran.output });
  t.same(JSON.parse(ran.output.trim().split('\n').at(-1)!), { same: true, name: account.username, code: 'not_found', wrong: account.username, message: null });

  const child = spawn(process.execPath, ['bot.ts'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  t.teardown(async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  });
  await until(() => output.includes('ready as') || child.exitCode !== null, 'the bot to connect', 30_000);
  t.match(output, /ready as/, 'the bot connected', { output });

  const ping = await expectStatus(
    api('POST', `/api/v1/channels/${general}/messages`, { token: human.token, body: { content: '!ping' } }),
    [201],
    'ping',
  );
  let pongs: Message[] = [];
  const deadline = Date.now() + 30_000;
  while (pongs.length === 0 && Date.now() < deadline) {
    const page = await expectStatus(api('GET', `/api/v1/channels/${general}/messages?after=${ping.id}`, { token: human.token }), [200], 'history');
    pongs = (page.items as Message[]).filter((m) => m.author.id === bot.user.id);
    if (pongs.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(pongs.length, 1, 'one answer', { output });
  t.equal(pongs[0]?.content, 'pong');
  t.equal(pongs[0]?.reply_to_id, ping.id, 'as a reply to the ping');

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'the bot stops cleanly on SIGTERM');
});
