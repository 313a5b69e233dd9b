// The gap filler of the shared bus reads a channel's messages strictly between two ids from real
// history, oldest first, as message.created events (what a receiver missed).
import t from 'tap';
import { historyGapFiller } from '../../src/bus/create-event-bus.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';

t.test('the messages between two ids, oldest first; none from other channels; deleted ones skipped', async (t) => {
  const { app, api } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const other = await createRoom(api, ada);
  const sent = [];
  for (let index = 0; index < 5; index += 1) {
    sent.push(await send(api, ada, room.id, `m${index}`));
    await send(api, ada, other.id, `other ${index}`);
  }
  t.equal((await api('DELETE', `/api/v1/channels/${room.id}/messages/${sent[2]!.id}`, { token: ada.token })).status, 204);
  const fill = historyGapFiller(app.db);
  const events = await fill(room.id, sent[0]!.id, sent[4]!.id);
  t.same(
    events.map((event) => (event.type === 'message.created' ? event.message.content : event.type)),
    ['m1', 'm3'],
  );
  const fromStart = await fill(room.id, null, sent[1]!.id);
  t.same(fromStart.map((event) => (event.type === 'message.created' ? event.message.id : '')), [sent[0]!.id]);
});
