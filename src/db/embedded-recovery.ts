/**
 * Crash recovery for the embedded PostgreSQL data folder. After `kill -9` of the server its
 * postmaster keeps running as an orphan holding the folder and port; after both died, a stale
 * postmaster.pid (whose PID may be a zombie for a moment, or reused) makes PostgreSQL refuse to
 * start. `prepareCluster` gathers the facts (postmaster.pid, the owner lock, /proc), asks the pure
 * policy in src/domain/postmaster-lock-policy.ts and acts, until it may start (or attach).
 *
 * The owner lock (`<DATA_DIR>/embedded-owner.json`: PID + process start time) tells an orphan from
 * the cluster of a live server: `npm run db:migrate` / `create-admin` attach to the latter, and a
 * second server refuses. Linux only (/proc), like the PostgreSQL binaries this project ships.
 */
import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { link, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decideClusterAction, type ClusterFacts, type NamedProcess } from '../domain/postmaster-lock-policy.ts';

export interface RecoveryClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: RecoveryClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface PrepareOptions {
  /** Resolved (realpath) DATA_DIR. */
  dataDir: string;
  /** `<dataDir>/pg`, the PostgreSQL data directory (need not exist yet). */
  clusterDir: string;
  /** `start`: the caller runs its own cluster (the owner lock is held on return); `attach`: a script. */
  mode: 'start' | 'attach';
  log?: (message: string) => void;
  clock?: RecoveryClock;
  /** How long to wait for a starting/stopping owner or exiting backends before refusing. */
  patienceMs?: number;
}

/** Fast shutdown first (clean, like `pg_ctl stop -m fast`), then immediate, then SIGKILL; each bounded. */
const STOP_STEPS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [
  ['SIGINT', 8_000],
  ['SIGQUIT', 3_000],
  ['SIGKILL', 3_000],
];

export const ownerLockFile = (dataDir: string) => path.join(dataDir, 'embedded-owner.json');

/**
 * Makes the folder ready: stops an orphaned postmaster of this folder, removes a stale lock,
 * waits out exiting backends. Returns `start` (mode `start`: the owner lock is now ours) or
 * `attach` (mode `attach`: a live server runs the cluster). Throws with the reason when it must
 * not go on (another live owner, a process it cannot inspect, a wait that does not end).
 */
export async function prepareCluster(options: PrepareOptions): Promise<'start' | 'attach'> {
  const { dataDir, clusterDir, mode } = options;
  const clock = options.clock ?? realClock;
  const log = options.log ?? (() => {});
  const patienceMs = options.patienceMs ?? 15_000;
  const patienceEnds = clock.now() + patienceMs;
  // Every step either ends the loop or changes what it finds; the hard stop guards the rest.
  const giveUpAt = patienceEnds + 30_000;
  for (;;) {
    const lock = readPostmasterPid(clusterDir);
    const named = lock ? inspectNamedProcess(lock.pid, clusterDir) : 'none';
    const owner = readOwner(dataDir);
    const others = processesInFolder(clusterDir, lock?.pid);
    const facts: ClusterFacts = {
      named,
      folderProcesses: others.length,
      owner: owner.state,
      mode,
      patienceLeft: clock.now() < patienceEnds,
    };
    const decision = decideClusterAction(facts);
    const where = `data folder ${dataDir}`;
    if (clock.now() > giveUpAt) throw new Error(`Embedded PostgreSQL: could not recover the ${where}; last state ${JSON.stringify(facts)}`);
    switch (decision.action) {
      case 'attach':
        return 'attach';
      case 'start':
        if (mode === 'attach') return 'start';
        if (await acquireOwnerLock(dataDir)) return 'start';
        continue; // someone else took it meanwhile: look again
      case 'stop-orphan':
        log(`stopping the orphaned embedded PostgreSQL (pid ${lock!.pid}) of ${where}: the process that started it is gone`);
        await stopOrphan(lock!.pid, clusterDir, clock);
        continue;
      case 'remove-stale-lock':
        log(`removing the stale postmaster.pid of ${where} (pid ${lock!.pid} is ${named === 'zombie' ? 'a dead postmaster' : 'not its postmaster'})`);
        await unlink(path.join(clusterDir, 'postmaster.pid')).catch(ignoreMissing);
        continue;
      case 'wait':
        await clock.sleep(100);
        continue;
      case 'refuse': {
        const details = [
          owner.pid !== undefined && owner.state === 'alive' ? `owner pid ${owner.pid}` : undefined,
          lock ? `postmaster.pid names pid ${lock.pid} (${named})` : undefined,
          others.length > 0 ? `pids ${others.join(', ')} still run in ${clusterDir}` : undefined,
        ].filter(Boolean);
        throw new Error(`Embedded PostgreSQL in ${where}: ${decision.reason} (${details.join('; ')})`);
      }
    }
  }
}

/** Releases the owner lock if this process holds it (the clean-stop path). */
export async function releaseOwnerLock(dataDir: string): Promise<void> {
  const owner = readOwner(dataDir);
  if (owner.pid === process.pid) await unlink(ownerLockFile(dataDir)).catch(ignoreMissing);
}

// ── facts ──

export interface PostmasterLock {
  pid: number;
  port: number;
}

/** `<cluster>/postmaster.pid`: PID, data directory, start time, port, ... one per line. */
export function readPostmasterPid(clusterDir: string): PostmasterLock | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, , , port] = text.split('\n');
  const parsed = { pid: Number(pid), port: Number(port) };
  // A half-written file (PostgreSQL writes it in steps): no valid PID yet, nothing to act on.
  return Number.isSafeInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
}

/** What the PID in postmaster.pid really is: verified through /proc, never assumed from the file. */
export function inspectNamedProcess(pid: number, clusterDir: string): NamedProcess {
  const state = processState(pid);
  if (state === undefined) return 'gone';
  if (state === 'Z' || state === 'X') return 'zombie';
  try {
    if (readlinkSync(`/proc/${pid}/cwd`) !== clusterDir) return 'other';
    const exe = path.basename(readlinkSync(`/proc/${pid}/exe`)).replace(/ \(deleted\)$/, '');
    if (exe !== 'postgres') return 'other';
    // The postmaster keeps its real argv; backends rewrite theirs ("postgres: checkpointer").
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const flag = argv.indexOf('-D');
    if (flag === -1 || argv[flag + 1] === undefined) return 'other';
    return resolveReal(argv[flag + 1]!) === clusterDir ? 'our-postmaster' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return processState(pid) === undefined ? 'gone' : 'zombie';
    // Not ours to read: another user's process. Our postmaster runs as us (or, when we are root,
    // as `postgres`, and root reads everything), so another user's process is not it.
    const uid = process.getuid?.();
    if (uid !== undefined && uid !== 0 && ownerUid(pid) !== uid) return 'other';
    return 'unknown';
  }
}

/** Live processes (not zombies) working in `clusterDir`: a postmaster's backends chdir there too. */
export function processesInFolder(clusterDir: string, except?: number): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === except || pid === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== clusterDir) continue;
    } catch {
      continue; // gone meanwhile, or another user's process (PostgreSQL runs as us or as `postgres`, both readable)
    }
    const state = processState(pid);
    if (state !== undefined && state !== 'Z' && state !== 'X') found.push(pid);
  }
  return found;
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, ...), undefined when there is no such process. */
function processState(pid: number): string | undefined {
  return procStat(pid)?.[0];
}

/** The fields of /proc/<pid>/stat after the command name (state first), undefined when gone. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot (field 22): with the PID, it names one process for good. */
function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

function ownerUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

function resolveReal(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

// ── owner lock ──

interface OwnerRecord {
  pid: number;
  started: string;
}

function readOwner(dataDir: string): { state: ClusterFacts['owner']; pid?: number } {
  let record: OwnerRecord;
  try {
    record = JSON.parse(readFileSync(ownerLockFile(dataDir), 'utf8')) as OwnerRecord;
  } catch (error) {
    // Missing: nobody. Unparsable (it is only ever written whole, see acquireOwnerLock): not a
    // live owner's, so it cannot block a restart.
    return { state: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'none' : 'dead' };
  }
  const state = processState(record.pid);
  const alive = state !== undefined && state !== 'Z' && state !== 'X' && startTimeOf(record.pid) === record.started;
  return { state: alive ? 'alive' : 'dead', pid: record.pid };
}

/** Takes the owner lock, replacing one left by a dead owner. False when another live process has it. */
async function acquireOwnerLock(dataDir: string): Promise<boolean> {
  const file = ownerLockFile(dataDir);
  const record: OwnerRecord = { pid: process.pid, started: startTimeOf(process.pid) ?? '' };
  // Written whole to a private file, then hard-linked into place: link() fails when the lock
  // exists, so creation is exclusive, and a reader never sees a half-written lock.
  const draft = `${file}.${process.pid}`;
  await writeFile(draft, `${JSON.stringify(record)}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await link(draft, file);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (readOwner(dataDir).state === 'alive') return false;
        // The owner died (kill -9): its lock is stale. Two starters replacing it at once may
        // both get here; link() lets only one of them win the next round.
        await unlink(file).catch(ignoreMissing);
      }
    }
    return false;
  } finally {
    await unlink(draft).catch(ignoreMissing);
  }
}

// ── acting ──

/** Stops the orphan, re-verifying before every signal that the PID is still this folder's postmaster. */
async function stopOrphan(pid: number, clusterDir: string, clock: RecoveryClock): Promise<void> {
  for (const [signal, waitMs] of STOP_STEPS) {
    if (inspectNamedProcess(pid, clusterDir) !== 'our-postmaster') return;
    try {
      process.kill(pid, signal);
    } catch {
      return; // exited meanwhile
    }
    const until = clock.now() + waitMs;
    while (clock.now() < until) {
      if (inspectNamedProcess(pid, clusterDir) !== 'our-postmaster') return;
      await clock.sleep(50);
    }
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
