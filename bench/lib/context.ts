/**
 * What every scenario gets: sizes (full or smoke), the repeat count, CPU pinning, the idle-machine
 * wait, Parley started the README's way on a shared DATA_DIR, the bench users (minted once) and
 * the result records.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MaintenanceMeter, settleDatabase } from './database-maintenance.ts';
import type { ClientKind } from './gateway-clients.ts';
import { mintUsers, type BenchUser } from './parley-api.ts';
import { migrateDataDir, startParley, type ParleyServer } from './servers.ts';
import { formatNumber, sleep, summarize, type Summary } from './stats.ts';
import { freePort, processCpuSeconds, waitForIdle, type CpuFigures } from './system.ts';

/**
 * The fan-out sender and the ingest senders send far more than the default 120 frames a minute on
 * one socket: allow 5000 a second instead. (The limiter keeps one 8-byte slot per allowed frame
 * and connection, so a huge limit would cost memory; the idle and auth scenarios keep the default.)
 */
export const HIGH_FRAME_RATE_ENV: Record<string, string> = { WS_RATE_LIMIT_FRAMES: '5000', WS_RATE_LIMIT_WINDOW_MS: '1000' };

export interface Sizes {
  users: number;
  idleSessions: number;
  fanoutSessions: number;
  fanoutRates: number[];
  fanoutSeconds: number;
  ingestSenders: number;
  ingestSeconds: number;
  historyChannels: number;
  historyMessages: number;
  httpConnections: number;
  httpSeconds: number;
  authSessions: number;
  authLoginsPerSecond: number;
  authSeconds: number;
  /** Smoke mode caps the logins instead of running for a duration. */
  authMaxLogins?: number;
  /** Slow-consumer scenario: 4 KB messages per second, and seconds measured (after the warm-up). */
  slowRate: number;
  slowSeconds: number;
  warmupMs: number;
  idleCapMs: number;
}

export const fullSizes: Sizes = {
  users: 500,
  idleSessions: 10_000,
  fanoutSessions: 1000,
  fanoutRates: [20, 100],
  fanoutSeconds: 10,
  ingestSenders: 500,
  ingestSeconds: 10,
  historyChannels: 1000,
  historyMessages: 1_000_000,
  httpConnections: 16,
  httpSeconds: 10,
  authSessions: 1000,
  authLoginsPerSecond: 20,
  authSeconds: 15,
  slowRate: 100,
  slowSeconds: 20,
  warmupMs: 2000,
  idleCapMs: 30_000,
};

export const smokeSizes: Sizes = {
  users: 10,
  idleSessions: 20,
  fanoutSessions: 10,
  fanoutRates: [20, 100],
  fanoutSeconds: 1,
  ingestSenders: 10,
  ingestSeconds: 1,
  historyChannels: 20,
  historyMessages: 2000,
  httpConnections: 4,
  httpSeconds: 1,
  authSessions: 10,
  authLoginsPerSecond: 20,
  authSeconds: 1,
  authMaxLogins: 3,
  slowRate: 100,
  slowSeconds: 0.5,
  warmupMs: 200,
  idleCapMs: 300,
};

export interface Figure {
  key: string;
  label: string;
  unit: string;
  /** Which direction is good (for ratios and targets). */
  better: 'higher' | 'lower';
  /** One value per repeat. */
  values: number[];
  summary?: Summary;
  /** Key of the baseline figure (same scenario) this one is compared with. */
  baseline?: string;
  /** Parley / baseline, from the medians. */
  ratio?: number;
  /** Figures of the bare baselines are marked, so the tables can group them. */
  is_baseline?: boolean;
}

export interface TargetResult {
  target: string;
  met: boolean | null;
  detail: string;
}

export interface ScenarioResult {
  name: string;
  title: string;
  figures: Figure[];
  targets: TargetResult[];
  /** CPU use per measured window, by label (percent of one core). */
  cpu: Record<string, CpuFigures[]>;
  notes: string[];
  duration_s: number;
  /** Environment Parley ran with in this scenario beyond the common bench settings. */
  server_env_overrides?: Record<string, string>;
}

export class ScenarioRecorder {
  readonly result: ScenarioResult;
  readonly #started = performance.now();

  constructor(name: string, title: string) {
    this.result = { name, title, figures: [], targets: [], cpu: {}, notes: [], duration_s: 0 };
  }

  figure(key: string, label: string, unit: string, better: 'higher' | 'lower', extra: Partial<Figure> = {}): Figure {
    let figure = this.result.figures.find((candidate) => candidate.key === key);
    if (!figure) {
      figure = { key, label, unit, better, values: [], ...extra };
      this.result.figures.push(figure);
    }
    return figure;
  }

  record(key: string, value: number): void {
    const figure = this.result.figures.find((candidate) => candidate.key === key);
    if (!figure) throw new Error(`unknown figure ${key}`);
    figure.values.push(value);
  }

  cpu(label: string, figures: CpuFigures): void {
    (this.result.cpu[label] ??= []).push(figures);
    if (figures.loadgen_cpu_percent > 90) {
      this.note(`${label}: the load generator used ${formatNumber(figures.loadgen_cpu_percent)}% of its core: it may be the bottleneck.`);
    }
  }

  note(text: string): void {
    if (!this.result.notes.includes(text)) this.result.notes.push(text);
  }

  target(target: string, met: boolean | null, detail: string): void {
    this.result.targets.push({ target, met, detail });
  }

  finish(): ScenarioResult {
    for (const figure of this.result.figures) figure.summary = summarize(figure.values);
    for (const figure of this.result.figures) {
      if (!figure.baseline) continue;
      const base = this.result.figures.find((candidate) => candidate.key === figure.baseline);
      if (base?.summary && figure.summary) figure.ratio = figure.summary.median / base.summary.median;
    }
    this.result.duration_s = (performance.now() - this.#started) / 1000;
    return this.result;
  }

  median(key: string): number {
    const figure = this.result.figures.find((candidate) => candidate.key === key);
    return figure ? summarize(figure.values).median : Number.NaN;
  }
}

export interface BenchContextOptions {
  smoke: boolean;
  repeat: number;
  workDir: string;
  serverCpus?: string;
  loadCpus?: string;
  profileDir?: string;
  /** Extra node flags for Parley's process (`--parley-node-args=`, an experiment's knob, e.g. V8 heap sizing). */
  parleyNodeArgs?: string[];
  /** A DATA_DIR kept across runs (seeded history, users), instead of one inside workDir. */
  dataDir?: string;
  /** Client of the fan-out receivers: `ws` by default, or the minimal one of raw-ws-client.ts. */
  fanoutClient?: ClientKind;
  /** Fan-out: also run the 2-instance (Redis bus) rounds (default true; `--fanout-single` skips them). */
  fanoutBus?: boolean;
  log: (message: string) => void;
}

export interface IdleWait {
  label: string;
  idle: boolean;
  waited_ms: number;
  last_idle_percent: number;
  /** databaseWindow: how long VACUUM + CHECKPOINT took before the window. */
  settle_ms?: number;
  /** databaseWindow: background maintenance that still ran inside the window. */
  maintenance?: string;
}

export class BenchContext {
  readonly smoke: boolean;
  readonly sizes: Sizes;
  readonly repeat: number;
  readonly workDir: string;
  readonly dataDir: string;
  readonly serverCpus?: string;
  readonly loadCpus?: string;
  readonly jwtSecret = randomBytes(32).toString('base64url');
  readonly log: (message: string) => void;
  readonly profileDir?: string;
  readonly parleyNodeArgs: string[];
  readonly fanoutClient: ClientKind;
  readonly fanoutBus: boolean;
  readonly idleWaits: IdleWait[] = [];
  #users: BenchUser[] = [];
  #serverCount = 0;
  #shared?: ParleyServer;

  constructor(options: BenchContextOptions) {
    this.smoke = options.smoke;
    this.sizes = options.smoke ? smokeSizes : fullSizes;
    this.repeat = options.repeat;
    this.workDir = options.workDir;
    this.dataDir = options.dataDir ? path.resolve(options.dataDir) : path.join(options.workDir, 'data');
    this.serverCpus = options.serverCpus;
    this.loadCpus = options.loadCpus;
    this.log = options.log;
    this.profileDir = options.profileDir;
    this.parleyNodeArgs = options.parleyNodeArgs ?? [];
    this.fanoutClient = options.fanoutClient ?? 'ws';
    this.fanoutBus = options.fanoutBus ?? true;
  }

  /**
   * Parley, started the README's way on the run's DATA_DIR: a fresh process for every repeat (the
   * same database). Smoke mode shares one process across scenarios to stay within seconds.
   */
  async startParley(label: string, env: Record<string, string> = {}): Promise<ParleyServer> {
    if (this.smoke) {
      this.#shared ??= await this.#start('shared', HIGH_FRAME_RATE_ENV);
      return { ...this.#shared, stop: async () => {} };
    }
    return this.#start(label, env);
  }

  /**
   * A fresh Parley process even in smoke mode (the multi-instance fan-out needs its own settings).
   * `dataDir`: another folder (a second instance on the first one's database via DATABASE_URL).
   */
  async startFreshParley(label: string, env: Record<string, string>, dataDir = this.dataDir): Promise<ParleyServer> {
    if (this.#serverCount === 0) {
      await migrateDataDir({ dataDir: this.dataDir, pgPort: await freePort(), cpus: this.serverCpus, logFile: path.join(this.workDir, 'db-migrate.log') });
    }
    const count = ++this.#serverCount;
    return startParley({
      dataDir,
      port: await freePort(),
      pgPort: await freePort(),
      cpus: this.serverCpus,
      jwtSecret: this.jwtSecret,
      logFile: path.join(this.workDir, `parley-${count}-${label}.log`),
      env,
    });
  }

  /** Stops the process smoke mode shares (a no-op otherwise). */
  async close(): Promise<void> {
    await this.#shared?.stop();
    this.#shared = undefined;
  }

  async #start(label: string, env: Record<string, string> = {}): Promise<ParleyServer> {
    if (this.#serverCount === 0) {
      await migrateDataDir({ dataDir: this.dataDir, pgPort: await freePort(), cpus: this.serverCpus, logFile: path.join(this.workDir, 'db-migrate.log') });
    }
    const count = ++this.#serverCount;
    let server: ParleyServer | undefined;
    for (let attempt = 1; !server; attempt++) {
      try {
        server = await startParley({
          dataDir: this.dataDir,
          port: await freePort(),
          pgPort: await freePort(),
          cpus: this.serverCpus,
          jwtSecret: this.jwtSecret,
          logFile: path.join(this.workDir, `parley-${count}-${label}-${attempt}.log`),
          env,
          nodeArgs: [
            ...this.parleyNodeArgs,
            ...(this.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${this.profileDir}`, `--cpu-prof-name=parley-${count}-${label}.cpuprofile`] : []),
          ],
        });
      } catch (error) {
        // Another program may take a port between the check and the listen: try other ports.
        if (attempt >= 3 || !/EADDRINUSE|address already in use/.test((error as Error).message)) throw error;
        this.log(`  (a port was taken while Parley started; retrying with other ports)`);
      }
    }
    return server;
  }

  /** The bench users (`bench_u0..`), registered on first use; tokens stay valid across restarts. */
  async users(server: ParleyServer, count = this.sizes.users): Promise<BenchUser[]> {
    if (this.#users.length < count) {
      const started = performance.now();
      const minted = await mintUsers(server.baseUrl, this.#users.length, count, 8);
      this.#users.push(...minted);
      this.log(`  minted ${minted.length} users (register, argon2id) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    return this.#users.slice(0, count);
  }

  /** Waits for an idle machine (≥ 80% idle for 2 s, capped) and records whether it was. */
  async waitIdle(label: string): Promise<IdleWait> {
    const result = await waitForIdle({ capMs: this.sizes.idleCapMs, windowMs: this.smoke ? 250 : 2000 });
    const wait: IdleWait = { label, ...result };
    this.idleWaits.push(wait);
    if (!result.idle) {
      this.log(`  ! machine not idle before ${label} (last ${result.last_idle_percent.toFixed(0)}% idle after ${(result.waited_ms / 1000).toFixed(1)} s): running anyway`);
    }
    return wait;
  }

  /**
   * A measured window on the database: settled first (VACUUM, CHECKPOINT:
   * bench/lib/database-maintenance.ts), then an idle machine, then `measure`; the checkpoints and
   * autovacuum runs that still fell inside the window are logged and kept with the idle wait.
   */
  async databaseWindow<T>(label: string, databaseUrl: string, measure: () => Promise<T>): Promise<T> {
    const settleMs = await settleDatabase(databaseUrl);
    const wait = await this.waitIdle(label);
    wait.settle_ms = Math.round(settleMs);
    const maintenance = new MaintenanceMeter(databaseUrl);
    await maintenance.start();
    const result = await measure();
    const seen = await maintenance.stop();
    if (seen) {
      wait.maintenance = seen;
      this.log(`  ! during ${label}: ${seen}`);
    }
    return result;
  }

  /**
   * Waits until a process settles (under `percent`% of a core over 500 ms windows), capped:
   * lets connection storms (presence, ready) finish before a measurement.
   */
  async waitQuiet(pid: number, capMs = this.smoke ? 300 : 20_000, percent = 15): Promise<void> {
    const deadline = Date.now() + capMs;
    let previous = processCpuSeconds(pid);
    while (Date.now() < deadline) {
      await sleep(500);
      const now = processCpuSeconds(pid);
      if (!Number.isFinite(now) || ((now - previous) / 0.5) * 100 < percent) return;
      previous = now;
    }
  }
}
