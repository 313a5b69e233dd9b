// src/repositories/messages-repository.ts against real PostgreSQL: the history page's one-round-trip
// statement gives the channel's facts to every caller and the page only to one who may read it.
import t from 'tap';
import { historySliceWithAccess } from '../../src/repositories/messages-repository.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';

t.test('historySliceWithAccess: the page for a member, the facts and no rows for anyone else (the page is not read for them)', async (t) => {
  const { app, api } = await build(t);
  const owner = await register(api);
  const stranger = await register(api);
  const room = await createRoom(api, owner, { visibility: 'public' });
  for (const content of ['one', 'two', 'three']) await send(api, owner, room.id, content);
  const page = (userId: string) => historySliceWithAccess(app.db, { channelId: room.id, userId, direction: 'older', limit: 50 });

  const member = await page(owner.user.id);
  t.same(member?.facts, { type: 'room', visibility: 'public', guildId: null, isMember: true });
  t.same(member?.rows.map((row) => row.content), ['three', 'two', 'one'], 'newest first');

  const outsider = await page(stranger.user.id);
  t.same(outsider, { facts: { type: 'room', visibility: 'public', guildId: null, isMember: false }, rows: [] }, 'a non-member of a room gets the facts only');
  t.equal(await historySliceWithAccess(app.db, { channelId: '1', userId: owner.user.id, direction: 'older', limit: 50 }), null, 'an unknown channel');
});
