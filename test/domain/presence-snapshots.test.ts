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

// A change message between heartbeats (apply) updates that instance's snapshot at once.
const changes: Array<{
  name: string;
  remote: Array<{ instance: string; snapshot: PresenceSnapshot; at: number }>;
  apply: Array<{ instance: string; user: string; status: 'online' | 'idle' | 'dnd' | 'offline'; at: number }>;
  now: number;
  status: [string, string];
}> = [
  {
    name: 'apply: gone offline on an instance before its next heartbeat',
    remote: [{ instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 }],
    apply: [{ instance: 'b', user: '1', status: 'offline', at: 10 }],
    now: 20,
    status: ['1', 'offline'],
  },
  {
    name: 'apply: offline on one instance, still dnd on another',
    remote: [
      { instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 },
      { instance: 'c', snapshot: snap(['1'], { '1': 'dnd' }), at: 0 },
    ],
    apply: [{ instance: 'b', user: '1', status: 'offline', at: 10 }],
    now: 20,
    status: ['1', 'dnd'],
  },
  {
    name: 'apply: an instance not heard from yet',
    remote: [],
    apply: [{ instance: 'b', user: '1', status: 'idle', at: 10 }],
    now: 20,
    status: ['1', 'idle'],
  },
  {
    name: 'apply keeps the snapshot\'s age: an instance that died still expires on time',
    remote: [{ instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 }],
    apply: [{ instance: 'b', user: '2', status: 'online', at: 900 }],
    now: 1000,
    status: ['2', 'offline'],
  },
];

for (const example of changes) {
  t.test(example.name, async (t) => {
    const snapshots = new PresenceSnapshots(1000);
    for (const entry of example.remote) snapshots.put(entry.instance, entry.snapshot, entry.at);
    for (const change of example.apply) snapshots.apply(change.instance, change.user, change.status, change.at);
    t.equal(snapshots.visibleStatus(example.status[0], none, example.now), example.status[1]);
  });
}

// expire reports each snapshot older than the TTL once (the caller announces its users offline),
// with when it arrived; live() alone no longer drops them (a read must not swallow an expiry).
const expiries: Array<{
  name: string;
  remote: Array<{ instance: string; snapshot: PresenceSnapshot; at: number }>;
  readFirstAt?: number;
  expireAt: number[];
  expired: Array<Array<{ instanceId: string; at: number }>>;
}> = [
  { name: 'expire: nothing is old enough', remote: [{ instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 }], expireAt: [999], expired: [[]] },
  {
    name: 'expire: the silent instance only, once',
    remote: [
      { instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 },
      { instance: 'c', snapshot: snap(['2'], { '2': 'idle' }), at: 500 },
    ],
    expireAt: [1000, 1200],
    expired: [[{ instanceId: 'b', at: 0 }], []],
  },
  {
    name: 'expire: a read after the TTL leaves it to be reported',
    remote: [{ instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 }],
    readFirstAt: 1500,
    expireAt: [1500],
    expired: [[{ instanceId: 'b', at: 0 }]],
  },
  {
    name: 'expire: a newer heartbeat keeps the instance alive',
    remote: [
      { instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 0 },
      { instance: 'b', snapshot: snap(['1'], { '1': 'online' }), at: 800 },
    ],
    expireAt: [1000],
    expired: [[]],
  },
];

for (const example of expiries) {
  t.test(example.name, async (t) => {
    const snapshots = new PresenceSnapshots(1000);
    for (const entry of example.remote) snapshots.put(entry.instance, entry.snapshot, entry.at);
    if (example.readFirstAt !== undefined) t.equal(snapshots.connectedCount(none, example.readFirstAt), 0, 'an expired snapshot does not count');
    const reported = example.expireAt.map((now) => snapshots.expire(now).map(({ instanceId, at }) => ({ instanceId, at })));
    t.same(reported, example.expired);
  });
}

t.test('put returns the snapshot it replaces', async (t) => {
  const snapshots = new PresenceSnapshots(1000);
  t.equal(snapshots.put('b', snap(['1'], { '1': 'online' }), 0), undefined, 'an instance not known');
  t.same(snapshots.put('b', none, 10), snap(['1'], { '1': 'online' }));
});
