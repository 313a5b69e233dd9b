import t from 'tap';
import { PresenceTracker, visibleStatusOf, type PresenceChange } from '../../src/gateway/presence.ts';

type Step =
  | { connect: string; now: number; expect: PresenceChange | null }
  | { disconnect: string; now: number; deadline: number | null }
  | { expire: string; now: number; expect: PresenceChange | null | 'nothing'; persist?: boolean }
  | { status: string; to: 'online' | 'idle' | 'dnd' | 'invisible'; now: number; expect: PresenceChange | null }
  | { visible: Record<string, string>; online: string[]; connected: number };

const cases: { name: string; graceMs: number; steps: Step[] }[] = [
  {
    name: 'online while at least one connection, offline after the grace period',
    graceMs: 100,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { connect: 'u1', now: 5, expect: null },
      { disconnect: 'u1', now: 10, deadline: null },
      { visible: { u1: 'online' }, online: ['u1'], connected: 1 },
      { disconnect: 'u1', now: 20, deadline: 120 },
      { visible: { u1: 'online' }, online: ['u1'], connected: 0 },
      { expire: 'u1', now: 119, expect: 'nothing' },
      { expire: 'u1', now: 120, expect: { userId: 'u1', status: 'offline', lastSeenAt: 20 }, persist: true },
      { visible: { u1: 'offline' }, online: [], connected: 0 },
    ],
  },
  {
    name: 'a reconnect within the grace period changes nothing',
    graceMs: 100,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { disconnect: 'u1', now: 10, deadline: 110 },
      { connect: 'u1', now: 50, expect: null },
      { expire: 'u1', now: 110, expect: 'nothing' },
      { visible: { u1: 'online' }, online: ['u1'], connected: 1 },
    ],
  },
  {
    name: 'zero grace: offline as soon as the caller expires',
    graceMs: 0,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { disconnect: 'u1', now: 7, deadline: 7 },
      { expire: 'u1', now: 7, expect: { userId: 'u1', status: 'offline', lastSeenAt: 7 }, persist: true },
    ],
  },
  {
    name: 'idle and dnd are shown; a repeated status is no change',
    graceMs: 100,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { status: 'u1', to: 'idle', now: 5, expect: { userId: 'u1', status: 'idle', lastSeenAt: 5 } },
      { status: 'u1', to: 'idle', now: 6, expect: null },
      { status: 'u1', to: 'dnd', now: 7, expect: { userId: 'u1', status: 'dnd', lastSeenAt: 7 } },
      { visible: { u1: 'dnd' }, online: ['u1'], connected: 1 },
    ],
  },
  {
    name: 'invisible shows offline, is still counted as connected, and is not persisted',
    graceMs: 0,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { status: 'u1', to: 'invisible', now: 5, expect: { userId: 'u1', status: 'offline', lastSeenAt: null } },
      { visible: { u1: 'offline' }, online: [], connected: 1 },
      { disconnect: 'u1', now: 9, deadline: 9 },
      { expire: 'u1', now: 9, expect: null, persist: false },
    ],
  },
  {
    name: 'coming back from invisible shows online again',
    graceMs: 0,
    steps: [
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { status: 'u1', to: 'invisible', now: 1, expect: { userId: 'u1', status: 'offline', lastSeenAt: null } },
      { status: 'u1', to: 'online', now: 2, expect: { userId: 'u1', status: 'online', lastSeenAt: 2 } },
    ],
  },
  {
    name: 'users are independent; a status without a connection is ignored',
    graceMs: 10,
    steps: [
      { status: 'u3', to: 'dnd', now: 0, expect: null },
      { connect: 'u1', now: 0, expect: { userId: 'u1', status: 'online', lastSeenAt: 0 } },
      { connect: 'u2', now: 1, expect: { userId: 'u2', status: 'online', lastSeenAt: 1 } },
      { disconnect: 'u2', now: 2, deadline: 12 },
      { disconnect: 'u3', now: 2, deadline: null },
      { expire: 'u2', now: 12, expect: { userId: 'u2', status: 'offline', lastSeenAt: 2 }, persist: true },
      { visible: { u1: 'online', u2: 'offline', u3: 'offline' }, online: ['u1'], connected: 1 },
    ],
  },
];

for (const testCase of cases) {
  t.test(testCase.name, async (t) => {
    const presence = new PresenceTracker(testCase.graceMs);
    for (const step of testCase.steps) {
      if ('connect' in step) t.same(presence.connect(step.connect, step.now), step.expect, `connect ${step.connect}`);
      else if ('disconnect' in step) t.equal(presence.disconnect(step.disconnect, step.now), step.deadline, `disconnect ${step.disconnect}`);
      else if ('expire' in step) {
        const expiry = presence.expire(step.expire, step.now);
        if (step.expect === 'nothing') t.equal(expiry, null, `expire ${step.expire} at ${step.now}: still there`);
        else {
          t.same(expiry?.change ?? null, step.expect, `expire ${step.expire} at ${step.now}`);
          t.equal(expiry?.persist, step.persist, 'persist last_seen_at?');
        }
      } else if ('status' in step) t.same(presence.setStatus(step.status, step.to, step.now), step.expect, `${step.status} -> ${step.to}`);
      else {
        for (const [userId, status] of Object.entries(step.visible)) t.equal(presence.visibleStatus(userId), status, `${userId} shows ${status}`);
        t.same(presence.visibleOnlineUserIds().sort(), step.online, 'visible online users');
        t.equal(presence.connectedUserCount(), step.connected, 'connected users');
      }
    }
  });
}

t.test('the stored last_seen_at is what an invisible user shows', async (t) => {
  const presence = new PresenceTracker(0);
  presence.connect('u1', 100, 42);
  t.same(presence.setStatus('u1', 'invisible', 101), { userId: 'u1', status: 'offline', lastSeenAt: 42 });
  t.same(['online', 'idle', 'dnd', 'invisible'].map((s) => visibleStatusOf(s as 'online')), ['online', 'idle', 'dnd', 'offline']);
});

t.test('graceDeadline: set only while in the grace period', async (t) => {
  const presence = new PresenceTracker(100);
  t.equal(presence.graceDeadline('u1'), null, 'unknown user');
  presence.connect('u1', 0);
  t.equal(presence.graceDeadline('u1'), null, 'connected');
  presence.disconnect('u1', 10);
  t.equal(presence.graceDeadline('u1'), 110, 'in grace');
  t.equal(presence.expire('u1', 109), null, 'a timer firing a millisecond early changes nothing');
  t.equal(presence.graceDeadline('u1'), 110, 'still in grace');
  t.ok(presence.expire('u1', 110), 'expires at the deadline');
  t.equal(presence.graceDeadline('u1'), null, 'gone');
});
