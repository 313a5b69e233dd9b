import t from 'tap';
import type { DomainEvent } from '../../src/events/domain-events.ts';
import { InProcessEventBus, recordEvents } from '../../src/events/event-bus.ts';
import { build, register } from '../helpers/build.ts';
import { createRoom, send } from '../helpers/chat.ts';
import { connectReady } from '../helpers/gateway-client.ts';

const typing = (userId: string): DomainEvent => ({ type: 'typing.started', channel_id: '1', user_id: userId, at: '2026-01-01T00:00:00.000Z' });

t.test('a listener that throws: reported, and every other listener still gets the event', async (t) => {
  const reported: Array<[string, DomainEvent]> = [];
  const bus = new InProcessEventBus((error, event) => reported.push([(error as Error).message, event]));
  const before = recordEvents(bus);
  const unsubscribe = bus.subscribe(() => {
    throw new Error('listener broke');
  });
  const after = recordEvents(bus);
  const first = typing('2');
  t.doesNotThrow(() => bus.publish(first), 'publish does not throw');
  t.same(before.events, [first], 'a listener before it got the event');
  t.same(after.events, [first], 'a listener after it got the event');
  t.same(reported, [['listener broke', first]], 'the error was reported with its event');
  unsubscribe();
  const second = typing('3');
  bus.publish(second);
  t.same(after.events, [first, second]);
  t.equal(reported.length, 1, 'an unsubscribed listener is not called again');
  await bus.close();
  bus.publish(typing('4'));
  t.equal(after.events.length, 2, 'closed: no listener is called');
});

t.test('in the app, a throwing listener stops neither the request nor the fan-out', async (t) => {
  const { app, api, baseUrl } = await build(t);
  const ada = await register(api);
  const room = await createRoom(api, ada);
  const { client } = await connectReady(t, baseUrl, ada.token);
  let thrown = 0;
  app.events.subscribe(() => {
    thrown += 1;
    throw new Error('listener broke');
  });
  const recorder = recordEvents(app.events);
  const message = await send(api, ada, room.id, 'still delivered');
  t.match(await client.next('message_created'), { message: { id: message.id } }, 'the gateway delivered it');
  t.equal(thrown, 1, 'the throwing listener ran');
  t.same(
    recorder.events.map((event) => event.type),
    ['message.created'],
    'a listener subscribed after it got the event',
  );
});
