/**
 * Machine facts, CPU pinning, idle-machine waiting and per-process CPU/RSS readings from /proc.
 * Linux-first; every reader degrades to "unknown" elsewhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { freePort as anyFreePort } from '../../scripts/free-port.ts';
import { sleep } from './stats.ts';

export interface MachineInfo {
  cpu_model: string;
  cores: number;
  memory_bytes: number;
  os: string;
  node_version: string;
  postgres_version?: string;
  taskset: boolean;
  server_cpus?: string;
  load_cpus?: string;
}

export function machineInfo(): MachineInfo {
  let model = os.cpus()[0]?.model?.trim() ?? 'unknown';
  try {
    // Some VMs report only the family ("AMD EPYC"); lscpu sometimes knows more.
    const lscpu = execFileSync('lscpu', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const name = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim();
    if (name && name.length > model.length) model = name;
  } catch {
    // lscpu missing: keep os.cpus().
  }
  return {
    cpu_model: model,
    // The machine's cores, not this (possibly pinned) process's.
    cores: os.cpus().length,
    memory_bytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node_version: process.version,
    taskset: hasTaskset(),
  };
}

let tasksetAvailable: boolean | undefined;
export function hasTaskset(): boolean {
  if (tasksetAvailable === undefined) {
    tasksetAvailable = process.platform === 'linux' && spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;
  }
  return tasksetAvailable;
}

/** Command + args that run `command args` pinned to `cpus` when taskset is there and `cpus` is set. */
export function pinned(cpus: string | undefined, command: string, args: string[]): { command: string; args: string[] } {
  if (cpus && hasTaskset()) return { command: 'taskset', args: ['-c', cpus, command, ...args] };
  return { command, args };
}

/** Pins an already running process (all its threads) to `cpus`. */
export function pinPid(pid: number, cpus: string | undefined): void {
  if (!cpus || !hasTaskset()) return;
  spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free TCP port below the kernel's ephemeral range (32768+), so that the thousands of client
 * sockets the load generator opens (and other programs on the machine) cannot take it between
 * this check and the server's listen.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await portIsFree(port)) return port;
  }
  return anyFreePort();
}

function readCpuTotals(): { idle: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { idle, total };
  } catch {
    return undefined;
  }
}

export interface IdleResult {
  idle: boolean;
  waited_ms: number;
  last_idle_percent: number;
}

/**
 * Waits until the whole machine has been at least `threshold`% idle for `windowMs`, sampling
 * /proc/stat every 250 ms; gives up after `capMs` and says so.
 */
export async function waitForIdle(options: { threshold?: number; windowMs?: number; capMs: number }): Promise<IdleResult> {
  const threshold = options.threshold ?? 80;
  const windowMs = options.windowMs ?? 2000;
  const started = Date.now();
  let previous = readCpuTotals();
  if (!previous) return { idle: true, waited_ms: 0, last_idle_percent: Number.NaN };
  let idleSince: number | undefined;
  let lastIdle = 0;
  for (;;) {
    await sleep(250);
    const current = readCpuTotals()!;
    const total = current.total - previous.total;
    lastIdle = total > 0 ? (100 * (current.idle - previous.idle)) / total : 100;
    previous = current;
    const now = Date.now();
    if (lastIdle >= threshold) {
      idleSince ??= now - 250;
      if (now - idleSince >= windowMs) return { idle: true, waited_ms: now - started, last_idle_percent: lastIdle };
    } else {
      idleSince = undefined;
    }
    if (now - started >= options.capMs) return { idle: false, waited_ms: now - started, last_idle_percent: lastIdle };
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** utime+stime of one process in seconds (all its threads). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in bytes (VmRSS), NaN when unknown. */
export function processRssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Direct and indirect children of `pid` (for the server: the PostgreSQL processes). */
export function descendants(pid: number): number[] {
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    let children: number[] = [];
    try {
      for (const task of readdirSync(`/proc/${current}/task`)) {
        const file = `/proc/${current}/task/${task}/children`;
        if (!existsSync(file)) continue;
        children.push(...readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
      }
    } catch {
      children = [];
    }
    result.push(...children);
    queue.push(...children);
  }
  return result;
}

/** CPU figures of one measurement window, each in percent of one core. */
export interface CpuFigures {
  /** The process under test (Parley's node process, or the baseline's). */
  server_cpu_percent: number;
  /** PostgreSQL (every process of the cluster). */
  database_cpu_percent: number;
  /** This process: the load generator. */
  loadgen_cpu_percent: number;
}

/**
 * Measures CPU use over a window: the process under test, the PostgreSQL processes (found by
 * `databasePids`, e.g. the descendants of Parley's server) and this load-generator process.
 */
export class CpuMeter {
  readonly #pid: number | undefined;
  readonly #databasePids: () => number[];
  #startWall = 0;
  #startSelf: NodeJS.CpuUsage = process.cpuUsage();
  #startMain = 0;
  #startDatabase = new Map<number, number>();

  constructor(pid: number | undefined, databasePids: () => number[] = () => []) {
    this.#pid = pid;
    this.#databasePids = databasePids;
  }

  start(): void {
    this.#startWall = performance.now();
    this.#startSelf = process.cpuUsage();
    this.#startMain = this.#pid === undefined ? Number.NaN : processCpuSeconds(this.#pid);
    this.#startDatabase = new Map(this.#databasePids().map((pid) => [pid, processCpuSeconds(pid)]));
  }

  stop(): CpuFigures {
    const wall = (performance.now() - this.#startWall) / 1000;
    const self = process.cpuUsage(this.#startSelf);
    const loadgen = (100 * (self.user + self.system)) / 1e6 / wall;
    const main = this.#pid === undefined ? Number.NaN : (100 * (processCpuSeconds(this.#pid) - this.#startMain)) / wall;
    let database = 0;
    for (const pid of this.#databasePids()) {
      const now = processCpuSeconds(pid);
      if (!Number.isFinite(now)) continue;
      database += now - (this.#startDatabase.get(pid) ?? 0);
    }
    return { server_cpu_percent: main, database_cpu_percent: (100 * database) / wall, loadgen_cpu_percent: loadgen };
  }
}
