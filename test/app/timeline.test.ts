/** Table tests of the web client's timeline (clients/web/src/timeline.ts): ordering, reconciliation by nonce, no duplicates. */
import t from 'tap';
import { addPending, compareIds, continuesGroup, markFailed, mergeMessages, newestConfirmed, removeMessage, upsertMessage, type TimelineMessage } from '../../clients/web/src/timeline.ts';

const ada = { id: '1', username: 'ada', display_name: 'Ada', role: 'client', last_seen_at: null };
const bob = { id: '2', username: 'bob', display_name: 'Bob', role: 'client', last_seen_at: null };
function message(id: string, extra: Partial<TimelineMessage> = {}): TimelineMessage {
  return { id, channel_id: '9', author: ada, content: `m${id}`, nonce: null, reply_to_id: null, created_at: '2026-11-26T10:00:00.000Z', edited_at: null, ...extra };
}
const ids = (list: TimelineMessage[]) => list.map((item) => (item.pending ? `~${item.nonce}` : item.id));

t.test('compareIds orders snowflakes numerically', async (t) => {
  const cases: Array<[string, string, number]> = [
    ['9', '10', -1],
    ['10', '9', 1],
    ['123', '123', 0],
    ['7262148410531840001', '7262148410531840002', -1],
    ['999999999999999999', '1000000000000000000', -1],
  ];
  for (const [a, b, sign] of cases) t.equal(Math.sign(compareIds(a, b)), sign, `${a} vs ${b}`);
});

t.test('upsertMessage', async (t) => {
  const cases: Array<{ name: string; list: TimelineMessage[]; incoming: TimelineMessage; expected: string[] }> = [
    { name: 'appends a newer message', list: [message('10')], incoming: message('11'), expected: ['10', '11'] },
    { name: 'inserts an older message in order', list: [message('10'), message('12')], incoming: message('11'), expected: ['10', '11', '12'] },
    { name: 'a second copy replaces the first', list: [message('10'), message('11')], incoming: message('11', { content: 'edited' }), expected: ['10', '11'] },
    {
      name: 'replaces the optimistic item with its nonce',
      list: addPending([message('10')], message('p', { nonce: 'n1' })),
      incoming: message('11', { nonce: 'n1' }),
      expected: ['10', '11'],
    },
    {
      name: 'a message from someone else lands above pending sends',
      list: addPending([message('10')], message('p', { nonce: 'n1' })),
      incoming: message('11', { author: bob }),
      expected: ['10', '11', '~n1'],
    },
    {
      name: 'an ack after the event with the same id does not duplicate',
      list: upsertMessage(addPending([], message('p', { nonce: 'n1' })), message('11', { nonce: 'n1' })),
      incoming: message('11', { nonce: 'n1' }),
      expected: ['11'],
    },
  ];
  for (const { name, list, incoming, expected } of cases) t.same(ids(upsertMessage(list, incoming)), expected, name);
  t.equal(upsertMessage([message('11')], message('11', { content: 'edited' }))[0]!.content, 'edited', 'the newer copy wins');
});

t.test('mergeMessages adds history pages without duplicates', async (t) => {
  const shown = addPending([message('20'), message('21')], message('p', { nonce: 'n1' }));
  t.same(ids(mergeMessages(shown, [message('19'), message('18'), message('20')])), ['18', '19', '20', '21', '~n1'], 'an older page, newest first, overlapping');
  t.same(ids(mergeMessages(shown, [message('22', { nonce: 'n1' })])), ['20', '21', '22'], 'a page holding the pending send confirms it');
  t.same(ids(mergeMessages([], [])), []);
});

t.test('failed sends, removal, newest, grouping', async (t) => {
  const list = addPending([message('10')], message('p', { nonce: 'n1' }));
  t.equal(markFailed(list, 'n1')[1]!.failed, true);
  t.equal(markFailed(list, 'other')[1]!.failed, undefined);
  t.same(ids(removeMessage([message('1'), message('2')], '1')), ['2']);
  t.equal(newestConfirmed(list)?.id, '10', 'a pending send is not a read marker');
  t.equal(newestConfirmed([]), undefined);
  const at = (minute: number) => `2026-11-26T10:${String(minute).padStart(2, '0')}:00.000Z`;
  t.equal(continuesGroup(message('1', { created_at: at(0) }), message('2', { created_at: at(1) })), true, 'same author within minutes');
  t.equal(continuesGroup(message('1', { created_at: at(0) }), message('2', { created_at: at(9) })), false, 'a long pause starts a group');
  t.equal(continuesGroup(message('1'), message('2', { author: bob })), false, 'another author');
  t.equal(continuesGroup(message('1'), message('2', { reply_to_id: '1' })), false, 'a reply shows its header');
  t.equal(continuesGroup(undefined, message('2')), false);
});
