/**
 * What to do with an embedded PostgreSQL data folder before starting (or attaching to) its
 * cluster, given what its lock files say and which processes really run. Pure: the facts are
 * gathered from postmaster.pid, the owner lock and /proc by src/db/embedded-recovery.ts, which
 * acts on the answer and asks again until it is `start` or `attach` (or gives up).
 *
 * The one rule that must never break: a process is only ever signalled when it is verifiably the
 * postmaster of THIS folder (`our-postmaster`) and no live Parley process owns the folder.
 */

/** The process named on the first line of `<cluster>/postmaster.pid`. */
export type NamedProcess =
  /** No postmaster.pid: nothing was running, or it shut down cleanly. */
  | 'none'
  /** The PID is not in use: the postmaster died (kill -9) and left its lock behind. */
  | 'gone'
  /** Dead but not yet reaped by its (new) parent: PostgreSQL still sees it as "running". */
  | 'zombie'
  /** A running postgres whose working folder and `-D` argument are this cluster folder. */
  | 'our-postmaster'
  /** Running, but something else: the PID was reused (possibly by another folder's postmaster). */
  | 'other'
  /** Running and not ours to inspect (/proc unreadable): we cannot tell, so we do nothing. */
  | 'unknown';

export interface ClusterFacts {
  named: NamedProcess;
  /** Live processes other than the named one working in the cluster folder (backends of a dead postmaster, ...). */
  folderProcesses: number;
  /** The owner lock: `alive` when another live process (a running server, a script) holds the folder. */
  owner: 'none' | 'dead' | 'alive';
  /** `attach`: a script that may use a cluster a live server holds; `start`: must run its own. */
  mode: 'start' | 'attach';
  /** False once the caller's bounded wait is used up: `wait` becomes `refuse`. */
  patienceLeft: boolean;
}

export type ClusterAction =
  | { action: 'start' }
  | { action: 'attach' }
  /** Fast-shutdown the orphaned postmaster of this folder (its owner is gone), then ask again. */
  | { action: 'stop-orphan' }
  /** postmaster.pid names a process that is not (any more) this folder's postmaster: delete it, then ask again. */
  | { action: 'remove-stale-lock' }
  | { action: 'wait'; reason: string }
  | { action: 'refuse'; reason: string };

export function decideClusterAction(facts: ClusterFacts): ClusterAction {
  const waitOrRefuse = (reason: string): ClusterAction =>
    facts.patienceLeft ? { action: 'wait', reason } : { action: 'refuse', reason };

  if (facts.owner === 'alive') {
    // A live server (or script) holds the folder: never touch its cluster.
    if (facts.named === 'our-postmaster') {
      return facts.mode === 'attach'
        ? { action: 'attach' }
        : { action: 'refuse', reason: 'another Parley process runs the embedded PostgreSQL of this data folder' };
    }
    return waitOrRefuse('another Parley process holds this data folder and is starting or stopping its PostgreSQL');
  }
  switch (facts.named) {
    case 'our-postmaster':
      return { action: 'stop-orphan' };
    case 'unknown':
      return { action: 'refuse', reason: 'postmaster.pid names a running process this user cannot inspect' };
    default:
      break;
  }
  // Backends of a killed postmaster exit by themselves within moments; starting while they still
  // hold the old shared memory would fail (PostgreSQL refuses), and deleting the lock under them
  // would hide them from PostgreSQL's own check: wait for them.
  if (facts.folderProcesses > 0) return waitOrRefuse('processes of a previous PostgreSQL still run in this data folder');
  switch (facts.named) {
    case 'none':
    case 'gone':
      return { action: 'start' }; // PostgreSQL replaces a lock whose PID is not in use by itself
    case 'zombie':
    case 'other':
      // PostgreSQL would refuse ("lock file already exists"): the PID answers kill(pid, 0).
      return { action: 'remove-stale-lock' };
  }
}
