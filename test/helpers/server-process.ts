import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { Test } from 'tap';
import { budgetNames } from '../../src/domain/rate-limit-budgets.ts';
import { cleanEnv, freePort, projectRoot } from './accounts.ts';

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  baseUrl: string;
  /** How long it took from spawn to ready. */
  startMs: number;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm start` as a real process: node src/server.ts, embedded PostgreSQL in DATA_DIR, no
 * DATABASE_URL. Resolves once /health/ready answers 200; throws when the server exits first or
 * is not ready within `readyWithinMs`.
 */
export async function startServer(
  t: Test,
  dataDir: string,
  pgPort: number,
  options: { readyWithinMs?: number; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const port = await freePort();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, ['src/server.ts'], {
    cwd: projectRoot,
    env: cleanEnv({
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      EMBEDDED_PG_PORT: String(pgPort),
      LOG_LEVEL: 'warn',
      // These tests send faster than one user may: no budget refuses (rate limits have their own tests).
      RATE_LIMITS: budgetNames.map((name) => `${name}=1000000/1s`).join(','),
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  // Never leave a server behind, whatever happens to the test.
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const readyWithinMs = options.readyWithinMs ?? 60_000;
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) while starting:\n${output}`);
    try {
      const response = await fetch(`${baseUrl}/health/ready`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not become ready in ${readyWithinMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, pid: child.pid!, baseUrl, startMs: Date.now() - spawnedAt, output: () => output, exited };
}

/** The PID on the first line of `<dataDir>/pg/postmaster.pid`, or undefined without the file. */
export function postmasterPidOf(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

/** True while `pid` is a process that has not exited (a zombie counts as exited). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Processes (not zombies) whose working directory is `folder`: a postmaster and its backends chdir to their data folder. */
export function processesIn(folder: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === folder && isRunning(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Direct children of `pid` (from /proc/<child>/stat), e.g. the server's postmaster and watchdog. */
export function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Waits (bounded) until `check()` is true; returns whether it became true before `withinMs`. */
export async function eventually(check: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Test teardown for a data folder: SIGKILLs whatever still runs in its cluster folder (an orphan
 * left by a failing test), so no postgres outlives the test.
 */
export function killClusterProcesses(dataDir: string): void {
  for (const pid of processesIn(path.join(dataDir, 'pg'))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
