/**
 * `npm test`: contract checks (gen:check, spec lint, type check), then the tap suite against one
 * PostgreSQL for the whole run — embedded (started here, removed afterwards) or DATABASE_URL.
 * Ends with a plain `N passed, N failed` line for CI (tests only; scripts/test-summary.ts), which
 * names after `FAILED:` anything else that failed (a check, PostgreSQL, the migrations).
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
import { summarize, type TapRun } from './test-summary.ts';

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

/** Failures that are not failed tests (a step, the system packages, PostgreSQL, the migrations). */
const problems: string[] = [];
const finish = (tap: TapRun | undefined): never => {
  const summary = summarize(tap, problems);
  console.log(`\n${summary.line}`);
  process.exit(summary.ok ? 0 : 1);
};
const step = async (name: string, command: string, args: string[]) => {
  console.log(`\n── ${name}`);
  const { code } = await run(command, args);
  if (code !== 0) {
    problems.push(`${name.split(' ')[0]} (exit ${code})`);
    console.error(`✗ ${name} failed (exit ${code})`);
  }
};

// Debian packages the suite needs (scripts/system-deps.ts): installed as root, else a clear stop.
try {
  ensureSystemPackages();
} catch (error) {
  console.error(`\n${(error as Error).message}`);
  problems.push('system packages missing');
  finish(undefined);
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
let tap: TapRun | undefined;
let stageFailed = false;
try {
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
  let stage = 'PostgreSQL';
  try {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
    await admin.end();
    await ensureDatabase(adminUrl, TEMPLATE);
    const templateUrl = new URL(adminUrl);
    templateUrl.pathname = `/${TEMPLATE}`;
    stage = 'the migrations';
    await migrate(templateUrl.toString(), path.join(root, 'sql'));
  } catch (error) {
    console.error(`\n✗ ${stage} failed: ${(error as Error).message}`);
    problems.push(`${stage} (${(error as Error).message.split('\n')[0]})`);
    stageFailed = true;
    throw error;
  }

  const files = process.argv.slice(2).filter((arg) => arg !== '--quick');
  console.log('\n── tap');
  tap = await run(
    node,
    [path.join(root, 'node_modules/tap/dist/esm/run.mjs'), ...files],
    { ...process.env, PARLEY_TEST_ADMIN_URL: adminUrl, PARLEY_TEST_TEMPLATE: TEMPLATE },
    true,
  );
} catch (error) {
  if (!stageFailed) {
    console.error(`\n✗ PostgreSQL for the tests failed: ${(error as Error).message}`);
    problems.push(`PostgreSQL (${(error as Error).message.split('\n')[0]})`);
  }
} finally {
  await embedded?.stop().catch((error: unknown) => problems.push(`stopping PostgreSQL (${(error as Error).message})`));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}

finish(tap);
