import t from 'tap';
import { decideClusterAction, type ClusterFacts } from '../../src/domain/postmaster-lock-policy.ts';

const base: ClusterFacts = { named: 'none', folderProcesses: 0, owner: 'none', mode: 'start', patienceLeft: true };

const cases: Array<{ name: string; facts: Partial<ClusterFacts>; action: string }> = [
  // Nothing running.
  { name: 'a fresh or cleanly stopped folder: start', facts: {}, action: 'start' },
  { name: 'a script with nothing running: starts its own cluster', facts: { mode: 'attach' }, action: 'start' },
  { name: 'postmaster.pid of a postmaster that died (PID free): PostgreSQL replaces it itself', facts: { named: 'gone', owner: 'dead' }, action: 'start' },

  // Orphans: our postmaster, nobody alive owns it.
  { name: 'kill -9 of the server: its postmaster is an orphan, stop it', facts: { named: 'our-postmaster', owner: 'dead' }, action: 'stop-orphan' },
  { name: 'an orphan with no owner lock at all (started before owner locks existed)', facts: { named: 'our-postmaster' }, action: 'stop-orphan' },
  { name: 'a script finding an orphan stops it too (nobody else will)', facts: { named: 'our-postmaster', owner: 'dead', mode: 'attach' }, action: 'stop-orphan' },
  { name: 'an orphan is stopped even when patience is used up', facts: { named: 'our-postmaster', owner: 'dead', patienceLeft: false }, action: 'stop-orphan' },

  // A live owner: never touched.
  { name: 'a second server while the first runs: refuse', facts: { named: 'our-postmaster', owner: 'alive' }, action: 'refuse' },
  { name: 'a script while a server runs: attach to its cluster', facts: { named: 'our-postmaster', owner: 'alive', mode: 'attach' }, action: 'attach' },
  { name: 'the owner is still starting its cluster: wait', facts: { named: 'none', owner: 'alive' }, action: 'wait' },
  { name: 'a script while the owner starts its cluster: wait', facts: { named: 'none', owner: 'alive', mode: 'attach' }, action: 'wait' },
  { name: 'the owner is alive and keeps not running a cluster: refuse in the end', facts: { named: 'gone', owner: 'alive', patienceLeft: false }, action: 'refuse' },

  // Stale locks after both died.
  { name: 'the dead postmaster is still a zombie: its lock is stale, remove it', facts: { named: 'zombie', owner: 'dead' }, action: 'remove-stale-lock' },
  { name: 'the PID was reused by another program: remove the stale lock, signal nothing', facts: { named: 'other', owner: 'dead' }, action: 'remove-stale-lock' },
  { name: 'the PID is a postmaster of another folder: it is "other", remove only our file', facts: { named: 'other' }, action: 'remove-stale-lock' },
  { name: 'backends of the killed postmaster still exit: wait', facts: { named: 'gone', owner: 'dead', folderProcesses: 3 }, action: 'wait' },
  { name: 'a zombie postmaster with live backends: wait (never delete a lock they rely on)', facts: { named: 'zombie', folderProcesses: 2 }, action: 'wait' },
  { name: 'no lock file but processes in the folder: wait', facts: { folderProcesses: 1 }, action: 'wait' },
  { name: 'processes that never leave the folder: refuse in the end', facts: { named: 'gone', folderProcesses: 1, patienceLeft: false }, action: 'refuse' },

  // Cannot tell.
  { name: 'a running process we cannot inspect: refuse, touch nothing', facts: { named: 'unknown' }, action: 'refuse' },
  { name: 'a running process we cannot inspect, as a script: refuse', facts: { named: 'unknown', mode: 'attach' }, action: 'refuse' },
];

for (const { name, facts, action } of cases) {
  t.test(name, async (t) => {
    const decision = decideClusterAction({ ...base, ...facts });
    t.equal(decision.action, action);
    if (decision.action === 'wait' || decision.action === 'refuse') t.match(decision.reason, /\w/, 'with a reason');
  });
}

t.test('only `our-postmaster` with no live owner ever leads to a signal', async (t) => {
  const named = ['none', 'gone', 'zombie', 'our-postmaster', 'other', 'unknown'] as const;
  const owners = ['none', 'dead', 'alive'] as const;
  for (const n of named) {
    for (const owner of owners) {
      for (const mode of ['start', 'attach'] as const) {
        for (const patienceLeft of [true, false]) {
          for (const folderProcesses of [0, 2]) {
            const { action } = decideClusterAction({ named: n, owner, mode, patienceLeft, folderProcesses });
            if (action === 'stop-orphan') t.ok(n === 'our-postmaster' && owner !== 'alive', `${n}/${owner}/${mode}`);
            if (action === 'remove-stale-lock') t.ok((n === 'zombie' || n === 'other') && owner !== 'alive' && folderProcesses === 0, `${n}/${owner}`);
          }
        }
      }
    }
  }
});
