/**
 * `npm test`: contract checks (gen:check, spec lint, type check), then the tap suite against one
 * PostgreSQL for the whole run — embedded (started here, removed afterwards) or DATABASE_URL.
 * Ends with a plain `N passed, N failed` line for CI.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded-postgres.ts';
import { migrate } from '../src/db/migrate.ts';
import { freePort } from './free-port.ts';
import { ensureSystemPackages } from './system-deps.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const node = process.execPath;
const TEMPLATE = 'parley_test_template';

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, capture = false) {
  return new Promise<{ code: number; output: string }>((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

let passed = 0;
let failed = 0;
let skipped = 0;
const step = async (name: string, command: string, args: string[]) => {
  console.log(`\n── ${name}`);
  const { code } = await run(command, args);
  if (code === 0) passed += 1;
  else {
    failed += 1;
    console.error(`✗ ${name} failed (exit ${code})`);
  }
};

// Debian packages the suite needs (scripts/system-deps.ts): installed as root, else a clear stop.
try {
  ensureSystemPackages();
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

// `npm test -- --quick test/some.test.ts` skips the contract checks while iterating on a few files.
const quick = process.argv.includes('--quick');
if (!quick) {
  await step('gen:check — generated/ matches the specs', node, ['scripts/gen.ts', '--check']);
  await step('lint — openapi.yaml (Redocly) and asyncapi.yaml (AsyncAPI parser)', node, ['scripts/lint-specs.ts']);
  await step('typecheck — tsc --noEmit (strict)', node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  await step('typecheck — the web client (clients/web, DOM + JSX)', node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'clients/web/tsconfig.json']);
}

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;
let adminUrl = process.env.DATABASE_URL;
if (!adminUrl) {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-test-pg-'));
  console.log(`\n── starting embedded PostgreSQL for the test run in ${dataDir}`);
  embedded = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    database: 'postgres',
    // A throwaway cluster: durability settings off for speed (the product's cluster keeps them on).
    settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
  });
  adminUrl = embedded.url;
}

let tapCode = 1;
try {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
  await admin.end();
  await ensureDatabase(adminUrl, TEMPLATE);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${TEMPLATE}`;
  await migrate(templateUrl.toString(), path.join(root, 'sql'));

  const files = process.argv.slice(2).filter((arg) => arg !== '--quick');
  console.log('\n── tap');
  const tap = await run(
    node,
    [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), ...files],
    { ...process.env, PARLEY_TEST_ADMIN_URL: adminUrl, PARLEY_TEST_TEMPLATE: TEMPLATE },
    true,
  );
  tapCode = tap.code;
  // tap's closing line, e.g. `# { total: 12, pass: 10, fail: 1, skip: 1 }`. Skipped tests (a
  // `--grep` while iterating; the suite itself skips nothing) are reported as skipped, not failed.
  const summary = /# \{ (total: \d+[^}]*) \}/.exec(tap.output);
  if (summary) {
    const counts = Object.fromEntries(summary[1]!.split(', ').map((pair) => pair.split(': ')).map(([key, value]) => [key, Number(value)]));
    passed += counts.pass ?? 0;
    failed += counts.fail ?? 0;
    skipped += (counts.skip ?? 0) + (counts.todo ?? 0);
    // A run tap failed without naming a failing test (a crashed file, a timeout) still counts.
    if (tapCode !== 0 && !counts.fail) failed += 1;
  } else if (tapCode !== 0) {
    failed += 1;
  }
} finally {
  await embedded?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && tapCode === 0 ? 0 : 1);
