import t from 'tap';
import type { PresenceSnapshot, VisibleStatus } from '../../src/domain/presence-snapshots.ts';
import { changedUsers, ShownPresence } from '../../src/domain/shown-presence.ts';

// settle: one instance announces a user's status over all instances only when it moved from what
// its sessions were told; `assumed` stands for what they may believe when nothing was told here.
const settles: Array<{ name: string; steps: Array<[user: string, status: VisibleStatus, assumed?: VisibleStatus]>; announced: Array<VisibleStatus | null> }> = [
  { name: 'online then offline: both announced', steps: [['1', 'online'], ['1', 'offline']], announced: ['online', 'offline'] },
  { name: 'the same status twice: announced once', steps: [['1', 'online'], ['1', 'online'], ['1', 'offline'], ['1', 'offline']], announced: ['online', null, 'offline', null] },
  { name: 'offline for a user never shown: nothing', steps: [['1', 'offline']], announced: [null] },
  { name: 'a move between visible statuses', steps: [['1', 'online'], ['1', 'dnd']], announced: ['online', 'dnd'] },
  {
    name: 'a user only a dead snapshot showed goes offline: announced once',
    steps: [['1', 'offline', 'online'], ['1', 'offline', 'offline']],
    announced: ['offline', null],
  },
  { name: 'a user still online elsewhere, as assumed: nothing', steps: [['1', 'online', 'online'], ['1', 'online']], announced: [null, null] },
  { name: 'what was told wins over the assumption', steps: [['1', 'idle'], ['1', 'idle', 'online']], announced: ['idle', null] },
  { name: 'users are independent', steps: [['1', 'online'], ['2', 'online'], ['1', 'offline']], announced: ['online', 'online', 'offline'] },
];

for (const example of settles) {
  t.test(example.name, async (t) => {
    const shown = new ShownPresence();
    t.same(
      example.steps.map(([user, status, assumed]) => shown.settle(user, status, assumed)),
      example.announced,
    );
  });
}

// changedUsers: which users a replaced or dropped snapshot may have moved, with what it showed.
const visible = (entries: Record<string, Exclude<VisibleStatus, 'offline'>>): PresenceSnapshot['visible'] => entries;
const changes: Array<{ name: string; before: Array<PresenceSnapshot['visible']>; after?: PresenceSnapshot['visible']; changed: Record<string, VisibleStatus> }> = [
  { name: 'an identical heartbeat: nobody', before: [visible({ '1': 'online' })], after: visible({ '1': 'online' }), changed: {} },
  { name: 'dropped snapshots: all their users', before: [visible({ '1': 'online' }), visible({ '2': 'dnd', '1': 'idle' })], changed: { '1': 'online', '2': 'dnd' } },
  {
    name: 'a heartbeat: gone, new and moved users',
    before: [visible({ '1': 'online', '2': 'idle', '3': 'dnd' })],
    after: visible({ '2': 'online', '3': 'dnd', '4': 'online' }),
    changed: { '1': 'online', '2': 'idle', '4': 'offline' },
  },
  { name: 'a comeback after expiry: everyone is new', before: [{}], after: visible({ '1': 'online' }), changed: { '1': 'offline' } },
];

for (const example of changes) {
  t.test(example.name, async (t) => {
    t.same(Object.fromEntries(changedUsers(example.before, example.after)), example.changed);
  });
}
