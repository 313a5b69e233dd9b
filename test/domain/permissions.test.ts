import t from 'tap';
import {
  ADMINISTRATOR,
  ALL_PERMISSIONS,
  BAN_MEMBERS,
  effectivePermissions,
  formatPermissions,
  hasPermission,
  KICK_MEMBERS,
  MANAGE_CHANNELS,
  MANAGE_GUILD,
  MANAGE_MESSAGES,
  MANAGE_ROLES,
  OVERWRITE_PERMISSIONS,
  parsePermissions,
  rankOf,
  SEND_MESSAGES,
  VIEW_CHANNEL,
  type ChannelOverwrite,
  type PermissionInput,
} from '../../src/domain/permissions.ts';

const everyone = (permissions: bigint) => ({ id: 'everyone', permissions });
const role = (id: string, permissions: bigint) => ({ id, permissions });
const overwrite = (role_id: string, allow: bigint, deny: bigint): ChannelOverwrite => ({ role_id, allow, deny });

t.test('the bit values are the contract\'s', async (t) => {
  t.same(
    [VIEW_CHANNEL, SEND_MESSAGES, MANAGE_MESSAGES, MANAGE_CHANNELS, KICK_MEMBERS, BAN_MEMBERS, MANAGE_ROLES, MANAGE_GUILD, ADMINISTRATOR],
    [1n, 2n, 4n, 8n, 16n, 32n, 64n, 128n, 256n],
  );
  t.equal(ALL_PERMISSIONS, 511n);
  t.equal(OVERWRITE_PERMISSIONS, 7n);
});

const cases: { name: string; input: PermissionInput; expected: bigint }[] = [
  {
    name: 'the owner has everything, even with nothing granted',
    input: { isOwner: true, everyone: everyone(0n), memberRoles: [] },
    expected: 511n,
  },
  {
    name: 'the owner keeps everything in a channel that denies @everyone',
    input: { isOwner: true, everyone: everyone(3n), memberRoles: [], overwrites: [overwrite('everyone', 0n, 7n)] },
    expected: 511n,
  },
  {
    name: 'a member with no roles has exactly @everyone',
    input: { isOwner: false, everyone: everyone(VIEW_CHANNEL | SEND_MESSAGES), memberRoles: [] },
    expected: 3n,
  },
  {
    name: 'a member with no roles and an empty @everyone has nothing',
    input: { isOwner: false, everyone: everyone(0n), memberRoles: [] },
    expected: 0n,
  },
  {
    name: 'roles are combined with @everyone by OR',
    input: {
      isOwner: false,
      everyone: everyone(VIEW_CHANNEL),
      memberRoles: [role('a', KICK_MEMBERS), role('b', BAN_MEMBERS | KICK_MEMBERS)],
    },
    expected: VIEW_CHANNEL | KICK_MEMBERS | BAN_MEMBERS,
  },
  {
    name: 'ADMINISTRATOR on a role means everything',
    input: { isOwner: false, everyone: everyone(0n), memberRoles: [role('admin', ADMINISTRATOR)] },
    expected: 511n,
  },
  {
    name: 'ADMINISTRATOR on @everyone means everything for every member',
    input: { isOwner: false, everyone: everyone(ADMINISTRATOR), memberRoles: [] },
    expected: 511n,
  },
  {
    name: 'ADMINISTRATOR ignores channel overwrites',
    input: {
      isOwner: false,
      everyone: everyone(3n),
      memberRoles: [role('admin', ADMINISTRATOR)],
      overwrites: [overwrite('everyone', 0n, 7n), overwrite('admin', 0n, 7n)],
    },
    expected: 511n,
  },
  {
    name: 'an @everyone overwrite denying VIEW_CHANNEL hides the channel',
    input: { isOwner: false, everyone: everyone(3n), memberRoles: [], overwrites: [overwrite('everyone', 0n, VIEW_CHANNEL)] },
    expected: SEND_MESSAGES,
  },
  {
    name: 'an @everyone overwrite can allow what @everyone lacks',
    input: { isOwner: false, everyone: everyone(VIEW_CHANNEL), memberRoles: [], overwrites: [overwrite('everyone', MANAGE_MESSAGES, 0n)] },
    expected: VIEW_CHANNEL | MANAGE_MESSAGES,
  },
  {
    name: 'a role overwrite allow beats the @everyone overwrite deny (role overwrites apply after)',
    input: {
      isOwner: false,
      everyone: everyone(3n),
      memberRoles: [role('mod', 0n)],
      overwrites: [overwrite('everyone', 0n, VIEW_CHANNEL), overwrite('mod', VIEW_CHANNEL, 0n)],
    },
    expected: 3n,
  },
  {
    name: 'a role overwrite deny removes a permission a role grants',
    input: {
      isOwner: false,
      everyone: everyone(3n),
      memberRoles: [role('muted', 0n)],
      overwrites: [overwrite('muted', 0n, SEND_MESSAGES)],
    },
    expected: VIEW_CHANNEL,
  },
  {
    name: 'among role overwrites, allow wins over deny (deny is removed first, then allow added)',
    input: {
      isOwner: false,
      everyone: everyone(VIEW_CHANNEL),
      memberRoles: [role('a', 0n), role('b', 0n)],
      overwrites: [overwrite('a', 0n, SEND_MESSAGES), overwrite('b', SEND_MESSAGES, 0n)],
    },
    expected: VIEW_CHANNEL | SEND_MESSAGES,
  },
  {
    name: 'within one overwrite, allow wins over deny of the same bit',
    input: {
      isOwner: false,
      everyone: everyone(0n),
      memberRoles: [],
      overwrites: [overwrite('everyone', VIEW_CHANNEL, VIEW_CHANNEL)],
    },
    expected: VIEW_CHANNEL,
  },
  {
    name: 'overwrites of roles the member does not have are ignored',
    input: {
      isOwner: false,
      everyone: everyone(3n),
      memberRoles: [role('a', 0n)],
      overwrites: [overwrite('other', 0n, 7n), overwrite('another', MANAGE_MESSAGES, 0n)],
    },
    expected: 3n,
  },
  {
    name: 'overwrites do not touch guild-level bits of roles',
    input: {
      isOwner: false,
      everyone: everyone(3n),
      memberRoles: [role('mod', KICK_MEMBERS | MANAGE_CHANNELS)],
      overwrites: [overwrite('everyone', 0n, VIEW_CHANNEL | SEND_MESSAGES)],
    },
    expected: KICK_MEMBERS | MANAGE_CHANNELS,
  },
  {
    name: 'without overwrites (guild level) the base is returned',
    input: { isOwner: false, everyone: everyone(3n), memberRoles: [role('mod', MANAGE_ROLES)], overwrites: [] },
    expected: 3n | MANAGE_ROLES,
  },
  {
    name: 'unknown bits stored on a role are never reported',
    input: { isOwner: false, everyone: everyone(1n | 1024n), memberRoles: [] },
    expected: 1n,
  },
];

for (const { name, input, expected } of cases) {
  t.test(name, async (t) => {
    t.equal(effectivePermissions(input), expected);
  });
}

t.test('rankOf: the highest position, 0 without roles', async (t) => {
  t.equal(rankOf([]), 0);
  t.equal(rankOf([{ position: 0 }]), 0);
  t.equal(rankOf([{ position: 2 }, { position: 5 }, { position: 1 }]), 5);
});

t.test('parsePermissions accepts known bits only', async (t) => {
  t.equal(parsePermissions('0'), 0n);
  t.equal(parsePermissions('511'), 511n);
  t.equal(parsePermissions('512'), undefined, 'an unknown bit');
  t.equal(parsePermissions('-1'), undefined, 'not a decimal string');
  t.equal(parsePermissions('1e3'), undefined, 'not a decimal string');
  t.equal(parsePermissions('7', OVERWRITE_PERMISSIONS), 7n);
  t.equal(parsePermissions('8', OVERWRITE_PERMISSIONS), undefined, 'MANAGE_CHANNELS is not overwritable');
  t.equal(formatPermissions(55n), '55');
  t.ok(hasPermission(55n, KICK_MEMBERS));
  t.notOk(hasPermission(55n, MANAGE_ROLES));
});
