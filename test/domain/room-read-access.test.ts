import t from 'tap';
import { roomReadAccess, roomVisible, type RoomFacts } from '../../src/domain/room-read-access.ts';

t.test('roomReadAccess: members read; a public room is visible to everyone; DMs and private rooms only to members (table)', async (t) => {
  const table: Array<[facts: RoomFacts, visible: boolean, access: string]> = [
    [{ type: 'room', visibility: 'public', isMember: true }, true, 'read'],
    [{ type: 'room', visibility: 'public', isMember: false }, true, 'forbidden'],
    [{ type: 'room', visibility: 'private', isMember: true }, true, 'read'],
    [{ type: 'room', visibility: 'private', isMember: false }, false, 'hidden'],
    [{ type: 'dm', visibility: null, isMember: true }, true, 'read'],
    [{ type: 'dm', visibility: null, isMember: false }, false, 'hidden'],
    // A DM is never public, whatever its visibility column says.
    [{ type: 'dm', visibility: 'public', isMember: false }, false, 'hidden'],
  ];
  for (const [facts, visible, access] of table) {
    const name = `${facts.type} ${facts.visibility ?? 'null'} ${facts.isMember ? 'member' : 'non-member'}`;
    t.equal(roomVisible(facts), visible, `${name}: visible`);
    t.equal(roomReadAccess(facts), access, `${name}: access`);
  }
});
