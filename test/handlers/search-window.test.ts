import t from 'tap';
import { SEARCH_RANK_WINDOW } from '../../src/repositories/messages-repository.ts';
import { build, register } from '../helpers/build.ts';
import { queryDatabase } from '../helpers/accounts.ts';
import { createRoom, insertMessages, send } from '../helpers/chat.ts';

const SEARCH = '/api/v1/messages/search';

t.test(`search ranks only the newest ${SEARCH_RANK_WINDOW} matches; before moves the window back`, async (t) => {
  const { api, databaseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada, { name: 'window' });
  // The best match by far, but older than a full window of weaker matches.
  const best = await send(api, ada, room.id, 'needle needle needle needle needle');
  // A full window of newer, weaker matches, written straight into the table (ids after `best`).
  await insertMessages(databaseUrl, room.id, ada.user.id, 'a needle in hay ', SEARCH_RANK_WINDOW);
  const newest = await send(api, ada, room.id, 'needle needle and the newest');

  const page = await api('GET', `${SEARCH}?q=needle&limit=100`, { token: ada.token });
  t.equal(page.status, 200);
  t.equal(page.body.items.length, 100);
  t.equal(page.body.has_more, true, 'more matches exist than were returned');
  t.equal(page.body.items[0].id, newest.id, 'the best match within the window comes first');
  t.notOk(
    page.body.items.some((item: { id: string }) => item.id === best.id),
    'a better match older than the newest window is not ranked',
  );
  t.equal(page.body.items.filter((item: { content: string }) => item.content.startsWith('a needle in hay')).length, 99);

  // Moving the window back with `before` reaches it, and it ranks first there.
  const oldestInWindow = await queryDatabase<{ id: string }>(
    databaseUrl,
    `SELECT id::text FROM messages WHERE channel_id = $1 AND search @@ 'needle'::tsquery ORDER BY id DESC OFFSET $2 LIMIT 1`,
    [room.id, SEARCH_RANK_WINDOW - 1],
  );
  const back = await api('GET', `${SEARCH}?q=needle&limit=5&before=${oldestInWindow[0]!.id}`, { token: ada.token });
  t.equal(back.status, 200);
  t.equal(back.body.items[0].id, best.id, 'the older, better match ranks first once the window includes it');

  // The same bound applies within one channel.
  const inChannel = await api('GET', `${SEARCH}?q=needle&limit=100&channel_id=${room.id}`, { token: ada.token });
  t.equal(inChannel.body.items[0].id, newest.id);
  t.notOk(inChannel.body.items.some((item: { id: string }) => item.id === best.id));
});
