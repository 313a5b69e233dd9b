import t from 'tap';
import { PresenceSnapshots, type PresenceSnapshot } from '../../src/domain/presence-snapshots.ts';

const none: PresenceSnapshot = { connected: [], visible: {} };
const snap = (connected: string[], visible: PresenceSnapshot['visible'] = {}): PresenceSnapshot => ({ connected, visible });

const cases: Array<{
  name: string;
  remote: Array<{ instance: string; snapshot: PresenceSnapshot; at: number }>;
  local?: PresenceSnapshot;
  now: number;
  count: number;
  visible: string[];
  status?: [string, string];
}> = [
  { name: 'nothing anywhere', remote: [], now: 0, count: 0, visible: [] },
  {
    name: 'local and remote users are counted once each',
    remote: [{ instance: 'b', snapshot: snap(['1', '2'], { '1': 'online', '2': 'idle' }), at: 0 }],
    local: snap(['2', '3'], { '2': 'online', '3': 'dnd' }),
    now: 100,
    count: 3,
    visible: ['1', '2', '3'],
    status: ['2', 'online'],
  },
  {
    name: 'an invisible user is connected but not visible',
    remote: [{ instance: 'b', snapshot: snap(['4']), at: 0 }],
    now: 0,
    count: 1,
    visible: [],
    status: ['4', 'offline'],
  },
  {
    name: 'a snapshot older than the TTL no longer counts (the instance died)',
    remote: [{ instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 }],
    now: 1000,
    count: 0,
    visible: [],
    status: ['1', 'offline'],
  },
  {
    name: 'a newer snapshot of the same instance replaces the older one',
    remote: [
      { instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 },
      { instance: 'b', snapshot: none, at: 10 },
    ],
    now: 20,
    count: 0,
    visible: [],
  },
  {
    name: 'on several instances the most present status shows',
    remote: [
      { instance: 'b', snapshot: snap(['1'], { '1': 'idle' }), at: 0 },
      { instance: 'c', snapshot: snap(['1'], { '1': 'dnd' }), at: 0 },
    ],
    now: 0,
    count: 1,
    visible: ['1'],
    status: ['1', 'dnd'],
  },
];

for (const example of cases) {
  t.test(example.name, async (t) => {
    const snapshots = new PresenceSnapshots(1000);
    for (const entry of example.remote) snapshots.put(entry.instance, entry.snapshot, entry.at);
    const local = example.local ?? none;
    t.equal(snapshots.connectedCount(local, example.now), example.count);
    t.same(snapshots.visibleUserIds(local, example.now).sort(), example.visible);
    if (example.status) t.equal(snapshots.visibleStatus(example.status[0], local, example.now), example.status[1]);
  });
}
