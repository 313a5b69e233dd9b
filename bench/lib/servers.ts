/**
 * Child processes under test: Parley started the README's way (`node src/server.ts`, embedded
 * PostgreSQL in its own DATA_DIR) and the bare baselines, each pinned to the server cores.
 * Every child is tracked and killed if the benchmark exits early.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './stats.ts';
import { descendants, pinned } from './system.ts';
import { budgetNames } from '../../src/domain/rate-limit-budgets.ts';
import { findBinary } from '../../scripts/system-deps.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const live = new Set<ChildProcess>();
const clusters = new Set<string>();

/** Last-resort cleanup: kill what is still running (synchronously, on exit). */
function killEverything(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dataDir of clusters) stopClusterByPidFile(dataDir);
}
process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killEverything();
    process.exit(130);
  });
}

/** Immediate shutdown of an embedded cluster that outlived its server (SIGQUIT to the postmaster). */
function stopClusterByPidFile(dataDir: string): void {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGQUIT');
  } catch {
    // not running
  }
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The server under test must start the README's way: no test database, no inherited test knobs.
  for (const key of Object.keys(env)) {
    if (key === 'DATABASE_URL' || key === 'NODE_ENV' || key.startsWith('PARLEY_TEST_') || key.startsWith('TAP')) delete env[key];
  }
  return { ...env, ...extra };
}

export interface ParleyServer {
  pid: number;
  port: number;
  baseUrl: string;
  wsUrl: string;
  dataDir: string;
  pgPort: number;
  logFile: string;
  /** PostgreSQL processes of the embedded cluster (children of the server). */
  databasePids(): number[];
  databaseUrl(): Promise<string>;
  stop(): Promise<void>;
}

export interface ParleyServerOptions {
  dataDir: string;
  port: number;
  pgPort: number;
  cpus?: string;
  jwtSecret: string;
  logFile: string;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Another checkout of Parley to run (an A/B against an earlier commit in the same run); default this one. */
  root?: string;
}

/** The environment Parley runs with in every scenario (printed into BENCHMARKS.md). */
/** GET /metrics needs a bearer token (METRICS_TOKEN); the benchmark reads it with this one. */
export const BENCH_METRICS_TOKEN = 'bench-metrics-token-0123456789abcdef';
export const metricsHeaders = { authorization: `Bearer ${BENCH_METRICS_TOKEN}` };

export function parleyBenchEnv(options: { port: number; pgPort: number; dataDir: string; jwtSecret: string }): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(options.port),
    DATA_DIR: options.dataDir,
    EMBEDDED_PG_PORT: String(options.pgPort),
    LOG_LEVEL: 'warn',
    JWT_SECRET: options.jwtSecret,
    // Tokens minted once must outlive the whole run.
    ACCESS_TOKEN_TTL_SECONDS: '14400',
    // The benchmark itself logs in and registers far faster than a person would.
    RATE_LIMIT_REGISTER_PER_IP: '1000000',
    RATE_LIMIT_LOGIN_PER_IP: '1000000',
    RATE_LIMIT_LOGIN_PER_ACCOUNT: '1000000',
    METRICS_TOKEN: BENCH_METRICS_TOKEN,
    // Every load client connects from 127.0.0.1, many sockets per process.
    WS_MAX_CONNECTIONS_PER_IP: '1000000',
    WS_MAX_CONNECTIONS: '1000000',
    // ... and sends, searches and reads history far faster than one user may: no budget refuses.
    RATE_LIMITS: budgetNames.map((name) => `${name}=1000000000/1s`).join(','),
  };
}

/**
 * `npm run db:migrate` on the run's DATA_DIR: initialises the embedded cluster and applies the
 * migrations once, so no server start pays for initdb (which can outlast Fastify's 10 s plugin
 * timeout on a loaded machine).
 */
export async function migrateDataDir(options: { dataDir: string; pgPort: number; cpus?: string; logFile: string }): Promise<void> {
  const env = childEnv({ DATA_DIR: options.dataDir, EMBEDDED_PG_PORT: String(options.pgPort), LOG_LEVEL: 'warn' });
  const { command, args } = pinned(options.cpus, process.execPath, ['scripts/db-migrate.ts']);
  const child = spawn(command, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  clusters.add(options.dataDir);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  live.delete(child);
  log.end();
  if (code !== 0) throw new Error(`npm run db:migrate failed (exit ${code}); log:\n${await tail(options.logFile)}`);
}

/**
 * The node flags of `npm start` (package.json `scripts.start`, e.g. the young generation's size), so
 * the benchmark starts Parley exactly as the README does.
 */
export function startScriptNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = scripts.start!.split(/\s+/);
  if (words[0] !== 'node' || words.at(-1) !== 'src/server.ts') throw new Error(`unexpected start script: ${scripts.start}`);
  return words.slice(1, -1);
}

export async function startParley(options: ParleyServerOptions): Promise<ParleyServer> {
  const env = childEnv({
    ...parleyBenchEnv(options),
    ...options.env,
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const { command, args } = pinned(options.cpus, process.execPath, [...startScriptNodeFlags(), ...(options.nodeArgs ?? []), 'src/server.ts']);
  const child = spawn(command, args, { cwd: options.root ?? projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  clusters.add(options.dataDir);
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      live.delete(child);
      resolve();
    }),
  );
  const baseUrl = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`Parley exited with code ${exited} while starting; log:\n${await tail(options.logFile)}`);
    }
    try {
      const response = await fetch(`${baseUrl}/health/ready`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      stopClusterByPidFile(options.dataDir);
      throw new Error(`Parley did not become ready within 120 s; log:\n${await tail(options.logFile)}`);
    }
    await sleep(100);
  }
  const pid = child.pid!;
  return {
    pid,
    port: options.port,
    baseUrl,
    wsUrl: `ws://127.0.0.1:${options.port}/api/v1/ws`,
    dataDir: options.dataDir,
    pgPort: options.pgPort,
    logFile: options.logFile,
    databasePids: () => descendants(pid),
    async databaseUrl() {
      const password = (await readFile(path.join(options.dataDir, 'pg-password'), 'utf8')).trim();
      return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.pgPort}/parley`;
    },
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        await Promise.race([exitPromise, sleep(30_000)]);
        if (exited === undefined) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      // The server stops its cluster on a clean shutdown; make sure of it either way.
      const pidFile = path.join(options.dataDir, 'pg', 'postmaster.pid');
      for (let i = 0; i < 100 && existsSync(pidFile); i++) await sleep(100);
      if (existsSync(pidFile)) {
        stopClusterByPidFile(options.dataDir);
        for (let i = 0; i < 100 && existsSync(pidFile); i++) await sleep(100);
      }
      log.end();
    },
  };
}

export async function tail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface BaselineProcess {
  pid: number;
  /** The first JSON line the process printed (its "ready" line, with its port). */
  ready: Record<string, unknown>;
  stop(): Promise<void>;
  /** Resolves with the last JSON line printed before exit (for run-to-completion baselines). */
  result(): Promise<Record<string, unknown>>;
}

/**
 * Starts `node bench/baselines/<script> args...` pinned to `cpus`; waits for its first JSON line
 * on stdout. Run-to-completion baselines print their result as the last JSON line.
 */
export async function startBaseline(
  script: string,
  args: string[],
  options: { cpus?: string; logFile: string; nodeArgs?: string[] },
): Promise<BaselineProcess> {
  const { command, args: argv } = pinned(options.cpus, process.execPath, [...(options.nodeArgs ?? []), path.join(projectRoot, 'bench/baselines', script), ...args]);
  const child = spawn(command, argv, { cwd: projectRoot, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const log = createWriteStream(options.logFile, { flags: 'a' });
  child.stderr!.pipe(log);
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  let notifyLine: (() => void) | undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString();
    let index: number;
    while ((index = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, index).trim();
      buffered = buffered.slice(index + 1);
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        notifyLine?.();
      } catch {
        // not ours
      }
    }
  });
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code;
      live.delete(child);
      notifyLine?.();
      resolve();
    }),
  );
  const deadline = Date.now() + 60_000;
  while (lines.length === 0) {
    if (exited !== undefined) throw new Error(`baseline ${script} exited with ${exited}; log:\n${await tail(options.logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`baseline ${script} printed nothing within 60 s`);
    }
    await new Promise<void>((resolve) => {
      notifyLine = resolve;
      setTimeout(resolve, 200);
    });
  }
  return {
    pid: child.pid!,
    ready: lines[0]!,
    async stop() {
      if (exited === undefined) {
        child.kill('SIGTERM');
        await Promise.race([exitPromise, sleep(10_000)]);
        if (exited === undefined) {
          child.kill('SIGKILL');
          await exitPromise;
        }
      }
      log.end();
    },
    async result() {
      await exitPromise;
      log.end();
      if (exited !== 0) throw new Error(`baseline ${script} exited with ${exited}; log:\n${await tail(options.logFile)}`);
      return lines[lines.length - 1]!;
    },
  };
}

/** Runs `start(port)` on a free port, retrying with another port when one was taken meanwhile. */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  const { freePort } = await import('./system.ts');
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (attempt >= 3 || !/EADDRINUSE|address already in use/.test((error as Error).message)) throw error;
    }
  }
}

/** The bare `ws` baseline (bench/baselines/bare-ws-server.ts) on the server CPUs; resolves with its pid and port. */
export async function startBareWs(options: {
  cpus?: string;
  workDir: string;
  frameBytes?: number;
  /** e.g. --cpu-prof (`--profile`), to compare its profile with Parley's. */
  nodeArgs?: string[];
}): Promise<{ process: BaselineProcess; port: number }> {
  const frameArgs = options.frameBytes ? [`--frame-bytes=${options.frameBytes}`] : [];
  const bare = await onFreePort((port) =>
    startBaseline('bare-ws-server.ts', [`--port=${port}`, ...frameArgs], {
      ...(options.cpus !== undefined ? { cpus: options.cpus } : {}),
      logFile: path.join(options.workDir, 'bare-ws.log'),
      ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
    }),
  );
  return { process: bare, port: Number(bare.ready.port) };
}

/** A redis-server for the multi-instance scenario (Debian's, scripts/system-deps.ts), pinned with the servers. */
export async function startRedisServer(options: { cpus?: string; workDir: string }): Promise<{ pid: number; url: string; stop(): Promise<void> }> {
  const binary = findBinary('redis-server');
  if (!binary) throw new Error('redis-server is missing (Debian package redis-server; see scripts/system-deps.ts)');
  return onFreePort(async (port) => {
    const dir = path.join(options.workDir, `redis-${port}`);
    mkdirSync(dir, { recursive: true });
    const { command, args } = pinned(options.cpus, binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
    const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
        if (output.includes('Address already in use')) reject(new Error('EADDRINUSE'));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    return {
      pid: child.pid!,
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        child.kill('SIGTERM');
        await exited;
        live.delete(child);
      },
    };
  });
}
