/**
 * Runs the scenarios, prints each figure as median [min–max] with its ratio to the baseline, and
 * writes bench/results/latest.json (and BENCHMARKS.md with --write-md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { authScenario } from '../scenarios/auth.ts';
import { fanoutScenario } from '../scenarios/fanout.ts';
import { historyScenario } from '../scenarios/history.ts';
import { idleScenario } from '../scenarios/idle.ts';
import { ingestScenario } from '../scenarios/ingest.ts';
import { searchScenario } from '../scenarios/search.ts';
import { slowConsumerScenario } from '../scenarios/slow-consumer.ts';
import { BenchContext, ScenarioRecorder, type ScenarioResult } from './context.ts';
import { renderMarkdown } from './report.ts';
import { parleyBenchEnv, projectRoot } from './servers.ts';
import { formatNumber, formatSummary } from './stats.ts';
import { machineInfo, type MachineInfo } from './system.ts';

export const SCENARIOS = [
  { name: 'idle', title: '1. Idle sessions', run: idleScenario },
  { name: 'fanout', title: '2. Fan-out', run: fanoutScenario },
  { name: 'ingest', title: '3. Ingest', run: ingestScenario },
  { name: 'history', title: '4. History and search', run: historyScenario },
  { name: 'auth', title: '5. Auth under load', run: authScenario },
  { name: 'search', title: '6. Search with mostly unreadable traffic', run: searchScenario },
  { name: 'slow-consumer', title: '7. Slow consumers in a busy room', run: slowConsumerScenario },
] as const;

export interface ScenarioEntry extends ScenarioResult {
  finished_at: string;
  command: string;
  repeat: number;
  machine: MachineInfo;
  git: string;
  idle_waits: BenchContext['idleWaits'];
  error?: string;
}

export interface ResultsFile {
  updated_at: string;
  smoke: boolean;
  scenarios: Record<string, ScenarioEntry>;
  server_env: Record<string, string>;
}

const resultsDir = path.join(projectRoot, 'bench/results');
const latestFile = path.join(resultsDir, 'latest.json');
const smokeFile = path.join(resultsDir, 'smoke.json');

function gitDescription(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'sql'], { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head} (with uncommitted changes in src/ or sql/)` : head;
  } catch {
    return 'unknown';
  }
}

function printScenario(result: ScenarioResult): void {
  console.log(`\n── ${result.title} (${result.name}) — ${result.duration_s.toFixed(0)} s`);
  const rows = result.figures.map((figure) => {
    const value = figure.summary ? formatSummary(figure.summary, figure.unit) : 'n/a';
    const ratio = figure.ratio !== undefined && Number.isFinite(figure.ratio) ? `×${figure.ratio.toFixed(2)} vs ${figure.baseline}` : '';
    return [`[${result.name}] ${figure.label}`, value, ratio];
  });
  const width = Math.min(100, Math.max(...rows.map((row) => row[0]!.length)));
  const valueWidth = Math.max(...rows.map((row) => row[1]!.length));
  for (const [label, value, ratio] of rows) console.log(`${label!.padEnd(width)}  ${value!.padEnd(valueWidth)}  ${ratio}`);
  for (const [label, runs] of Object.entries(result.cpu)) {
    const avg = (pick: (figures: (typeof runs)[number]) => number) => formatNumber(runs.reduce((sum, run) => sum + pick(run), 0) / runs.length);
    console.log(
      `  cpu ${label}: server ${avg((run) => run.server_cpu_percent)}%, postgres ${avg((run) => run.database_cpu_percent)}%, load generator ${avg((run) => run.loadgen_cpu_percent)}%`,
    );
  }
  for (const target of result.targets) console.log(`  target ${target.met === null ? '?' : target.met ? '✓' : '✗'} ${target.target}: ${target.detail}`);
  for (const note of result.notes) console.log(`  note: ${note}`);
}

async function postgresVersion(ctx: BenchContext): Promise<string | undefined> {
  const server = await ctx.startParley('setup');
  try {
    await ctx.users(server);
    const client = new pg.Client({ connectionString: await server.databaseUrl() });
    await client.connect();
    try {
      return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version;
    } finally {
      await client.end();
    }
  } finally {
    await server.stop();
  }
}

export async function main(argv: string[], pinning: { serverCpus?: string; loadCpus?: string }): Promise<number> {
  const flag = (name: string) => argv.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  const value = (name: string) => flag(name)?.split('=').slice(1).join('=');

  if (flag('render-md')) {
    const results = JSON.parse(await readFile(latestFile, 'utf8')) as ResultsFile;
    await writeFile(path.join(projectRoot, 'BENCHMARKS.md'), await renderMarkdown(results));
    console.log('BENCHMARKS.md rendered from bench/results/latest.json');
    return 0;
  }

  const runStarted = performance.now();
  const smoke = Boolean(flag('smoke'));
  const repeat = Number(value('repeat') ?? (smoke ? 1 : 3));
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a positive integer');
  if (smoke && flag('write-md')) {
    console.error('--write-md records real figures: run it without --smoke');
    return 2;
  }
  const wanted = value('scenario')?.replace('fan-out', 'fanout').split(',');
  const unknown = wanted?.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown && unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
    return 2;
  }
  const selected = SCENARIOS.filter((scenario) => !wanted || wanted.includes(scenario.name));

  const workDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
  // PostgreSQL runs as its own user when we are root: it must be able to reach DATA_DIR inside.
  await chmod(workDir, 0o755);
  const profileDir = flag('profile') ? path.join(resultsDir, 'profiles') : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const log = (message: string) => console.log(message);
  const keptDataDir = value('data-dir');
  if (keptDataDir) {
    await mkdir(keptDataDir, { recursive: true });
    await chmod(keptDataDir, 0o755);
  }
  const ctx = new BenchContext({
    smoke,
    repeat,
    workDir,
    serverCpus: pinning.serverCpus,
    loadCpus: pinning.loadCpus,
    profileDir,
    ...(keptDataDir ? { dataDir: keptDataDir } : {}),
    fanoutClient: flag('raw-clients') ? 'raw' : 'ws',
    fanoutBus: !flag('fanout-single'),
    ...(value('parley-node-args') ? { parleyNodeArgs: value('parley-node-args')!.split(' ').filter(Boolean) } : {}),
    log,
  });
  const machine = machineInfo();
  machine.server_cpus = pinning.serverCpus;
  machine.load_cpus = pinning.loadCpus;
  const command = `node bench/run.ts ${argv.join(' ')}`.trim();

  console.log(`Parley benchmarks${smoke ? ' (smoke: tiny sizes, figures meaningless)' : ''}: ${selected.map((scenario) => scenario.name).join(', ')}; ${repeat} repeat(s)`);
  console.log(`  machine: ${machine.cpu_model}, ${machine.cores} cores, ${formatNumber(machine.memory_bytes / 2 ** 30)} GiB, Node ${machine.node_version}`);
  console.log(
    pinning.loadCpus
      ? `  pinning: server + PostgreSQL on CPU ${pinning.serverCpus}, load generator on CPU ${pinning.loadCpus}`
      : '  pinning: none (taskset missing, one core, or --no-pin)',
  );
  console.log(`  work dir: ${workDir}`);

  const entries: Record<string, ScenarioEntry> = {};
  let failed = 0;
  try {
    log('\n── setup: db:migrate, Parley (embedded PostgreSQL), bench users');
    try {
      machine.postgres_version = await postgresVersion(ctx);
    } catch (error) {
      console.error(`✗ setup failed: ${(error as Error).message}`);
      return 1;
    }
    for (const scenario of selected) {
      log(`\n── running ${scenario.title}`);
      const recorder = new ScenarioRecorder(scenario.name, scenario.title);
      const waitsBefore = ctx.idleWaits.length;
      let error: string | undefined;
      try {
        await scenario.run(ctx, recorder);
      } catch (caught) {
        failed += 1;
        error = (caught as Error).stack ?? String(caught);
        console.error(`✗ ${scenario.name} failed: ${error}`);
        recorder.note(`FAILED: ${(caught as Error).message}`);
      }
      const result = recorder.finish();
      const notIdle = ctx.idleWaits.slice(waitsBefore).filter((wait) => !wait.idle);
      if (notIdle.length > 0) result.notes.push(`${notIdle.length} measurement(s) started on a machine that was not idle (≥ 80% idle for 2 s) within the wait cap.`);
      printScenario(result);
      entries[scenario.name] = {
        ...result,
        finished_at: new Date().toISOString(),
        command,
        repeat,
        machine,
        git: gitDescription(),
        idle_waits: ctx.idleWaits.slice(waitsBefore),
        ...(error ? { error } : {}),
      };
    }
  } finally {
    await ctx.close();
    await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }

  await mkdir(resultsDir, { recursive: true });
  const file = smoke ? smokeFile : latestFile;
  let previous: ResultsFile | undefined;
  if (!smoke && existsSync(file)) {
    try {
      previous = JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
    } catch {
      previous = undefined;
    }
  }
  const results: ResultsFile = {
    updated_at: new Date().toISOString(),
    smoke,
    // A partial run (--scenario) replaces its scenarios and keeps the others from the last run.
    scenarios: { ...previous?.scenarios, ...entries },
    server_env: Object.fromEntries(
      Object.entries(parleyBenchEnv({ port: 0, pgPort: 0, dataDir: '<temp>', jwtSecret: '<random>' })).map(([key, val]) =>
        ['PORT', 'EMBEDDED_PG_PORT'].includes(key) ? [key, '<free port>'] : [key, val],
      ),
    ),
  };
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(projectRoot, file)}`);
  if (flag('write-md')) {
    await writeFile(path.join(projectRoot, 'BENCHMARKS.md'), await renderMarkdown(results));
    console.log('BENCHMARKS.md written');
  }
  console.log(
    `bench: ${selected.length - failed} of ${selected.length} scenarios ran${failed ? `, ${failed} failed` : ''} in ${((performance.now() - runStarted) / 1000).toFixed(0)} s`,
  );
  return failed === 0 ? 0 : 1;
}
